"""What one upload of a decompression bomb costs the server: a 13000×13000 PNG of a few hundred
kilobytes, run through the upload pipeline as an attachment is (models.media.prepared), with
the wall time and the process's peak memory. Prints figures; asserts nothing.

    .venv/bin/python -m bench.decompression_bomb

Measured here (2 cores): before the pixel limit, the 481 KB file was decoded whole to look for
its EXIF, on the event loop: stored after 4.0 s, peak memory up by 641 MB (the issue measured
6.7 s and 778 MB on its machine); now refused from its header in 0.003 s, no memory to speak of.
Removing a location used to re-encode the photo (0.28 s for a 12-megapixel JPEG with GPS); it
is now edited in place (0.016 s; a 100 MB MP4 in 0.16 s).
"""

from __future__ import annotations

import resource
import time

from models.media import Limits, Refused, prepared
from tests.media_files import png_bomb


def main() -> None:
    bomb = png_bomb()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    try:
        prepared(bomb, Limits(image_bytes=10 << 20, video_bytes=100 << 20, image_pixels=50_000_000))
        outcome = "stored"
    except Refused as refused:
        outcome = refused.code
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(bomb) // 1024} KB PNG, 13000×13000: {outcome} in {seconds:.3f} s; peak memory {peak:.0f} MB (was {before:.0f} MB before)"
    )


if __name__ == "__main__":
    main()
