"""Deciding what an uploaded file really is, from its bytes, and removing where a photo was
taken before it is stored.

The type comes from the content (magic numbers, via `filetype`), never from the file name or
the type the client declared: a text file named `photo.jpg` is refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import filetype
from PIL import Image
from pillow_heif import register_heif_opener

from models.complaints import AttachmentKind

register_heif_opener()

ACCEPTED = {
    "image/jpeg": (AttachmentKind.IMAGE, "jpg"),
    "image/png": (AttachmentKind.IMAGE, "png"),
    "image/webp": (AttachmentKind.IMAGE, "webp"),
    "image/heic": (AttachmentKind.IMAGE, "heic"),
    "image/heif": (AttachmentKind.IMAGE, "heic"),
    "video/mp4": (AttachmentKind.VIDEO, "mp4"),
    "video/quicktime": (AttachmentKind.VIDEO, "mov"),
}
GPS_IFD = 0x8825


@dataclass(frozen=True)
class Media:
    kind: AttachmentKind
    content_type: str
    extension: str


def identify(head: bytes) -> Media | None:
    """What the first bytes of a file say it is, if it is a type we accept."""
    guess = filetype.guess(head)
    if guess is None or guess.mime not in ACCEPTED:
        return None
    kind, extension = ACCEPTED[guess.mime]
    return Media(kind=kind, content_type=guess.mime, extension=extension)


def without_location(data: bytes, media: Media) -> bytes:
    """The image with its EXIF GPS block removed (other EXIF, such as orientation, is kept).
    Images without GPS data are returned byte for byte; videos are returned as they are."""
    if media.kind is not AttachmentKind.IMAGE:
        return data
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        if GPS_IFD not in exif:
            return data
        del exif[GPS_IFD]
        output = io.BytesIO()
        options: dict[str, object] = {"exif": exif.tobytes()}
        if image.format == "JPEG":
            # "keep" reuses the original quantisation tables: no visible loss from re-saving.
            options.update(quality="keep", subsampling="keep")
        image.save(output, format=image.format, **options)
        return output.getvalue()
