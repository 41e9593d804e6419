"""Photos and videos built byte by byte for the tests: with a location in every place a phone
puts one, and beside it metadata that must survive."""

from __future__ import annotations

import functools
import io
import struct
import zlib

import pillow_heif
from PIL import Image
from PIL.PngImagePlugin import PngInfo

pillow_heif.register_heif_opener()

GPS_IFD = 0x8825
MAKE = 0x010F
# 包头 (Baotou): where the seed's street office is.
LATITUDE, LONGITUDE = "40,39.0N", "109,50.0E"
ISO6709 = b"+40.6500+109.8333+1050.000/"
XMP = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmp:CreatorTool="WanjiaCam" exif:GPSLongitude="{LONGITUDE}" photoshop:City="包头">
   <exif:GPSLatitude>{LATITUDE}</exif:GPSLatitude>
   <exif:GPSAltitude>1050/1</exif:GPSAltitude>
   <xmp:Rating>5</xmp:Rating>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()
LOCATION_TRACES = (LATITUDE.encode(), LONGITUDE.encode(), b"GPSLatitude", b"GPSLongitude", "包头".encode(), ISO6709)

IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}


def exif_with_location() -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "WanjiaCam"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (40.0, 39.0, 0.0), 3: "E", 4: (109.0, 50.0, 0.0)})
    return exif


def photo(content_type: str, *, size: tuple[int, int] = (16, 16), exif: bool = True, xmp: bool = True) -> bytes:
    """A photo of the given type with its location in EXIF and in XMP (or neither)."""
    image = Image.new("RGB", size, "orange")
    image.putpixel((1, 1), (10, 20, 30))
    options: dict[str, object] = {}
    if exif:
        options["exif"] = exif_with_location().tobytes()
    if xmp and content_type == "image/png":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        options["pnginfo"] = info
    elif xmp:
        options["xmp"] = XMP
    if content_type in ("image/webp", "image/png"):
        options["lossless"] = True
    buffer = io.BytesIO()
    image.save(buffer, IMAGE_FORMATS[content_type], **options)
    return buffer.getvalue()


@functools.cache
def png_bomb(width: int = 13000, height: int = 13000) -> bytes:
    """A valid PNG of one colour: a few hundred kilobytes that decode to width×height×3 bytes
    (height a multiple of 100). Made once per run: deflating half a gigabyte takes seconds."""
    raw_row = b"\x00" + bytes(width * 3)
    compressor = zlib.compressobj(9)
    rows = raw_row * 100
    idat = b"".join(compressor.compress(rows) for _ in range(height // 100)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header that declares a size, followed by pixel data that is not there: refusing it
    as too large rather than as damaged shows the pixels were never decoded."""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", b"not deflate data")
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# --- videos ------------------------------------------------------------------------------------

SAMPLE = b"\x00\x00\x00\x10 one video frame " * 8


def box(kind: bytes, *children: bytes) -> bytes:
    payload = b"".join(children)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, *children: bytes, version: int = 0) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]), *children)


def _quicktime_metadata(*entries: tuple[bytes, bytes]) -> bytes:
    """moov/meta as QuickTime writes it (no version field): keys named in `keys`, values in
    `ilst` items numbered by key."""
    keys = full_box(
        b"keys",
        struct.pack(">I", len(entries)),
        *(struct.pack(">I", 8 + len(name)) + b"mdta" + name for name, _ in entries),
    )
    items = box(
        b"ilst",
        *(
            box(struct.pack(">I", i), box(b"data", struct.pack(">II", 1, 0), value))
            for i, (_, value) in enumerate(entries, 1)
        ),
    )
    handler = full_box(b"hdlr", b"\x00\x00\x00\x00mdta", bytes(12), b"\x00")
    return box(b"meta", handler, keys, items)


def video(brand: bytes) -> tuple[bytes, int]:
    """An MP4 (brand b"isom") or MOV (b"qt  ") file carrying its location as Android (©xyz),
    3GPP (loci), Apple (QuickTime metadata keys), iTunes-style user data and XMP do; and the
    offset its sample table gives for the first sample, which must keep pointing at it."""
    user_data = box(
        b"udta",
        box(b"\xa9xyz", struct.pack(">HH", len(ISO6709), 0x15C7), ISO6709),
        full_box(
            b"loci",
            b"\x15\xc7",
            b"Home\x00",
            b"\x00",
            struct.pack(">iii", 109 << 16, 40 << 16, 1050 << 16),
            b"earth\x00\x00",
        ),
        box(b"\xa9nam", struct.pack(">HH", 9, 0x15C7), b"Our block"),
        full_box(
            b"meta",
            full_box(b"hdlr", b"\x00\x00\x00\x00mdir", b"appl", bytes(8), b"\x00"),
            box(b"ilst", box(b"\xa9xyz", box(b"data", struct.pack(">II", 1, 0), ISO6709))),
        ),
        box(b"XMP_", XMP),
    )
    metadata = _quicktime_metadata(
        (b"com.apple.quicktime.make", b"Apple"),
        (b"com.apple.quicktime.location.ISO6709", ISO6709),
        (b"com.apple.quicktime.location.accuracy.horizontal", b"4.7"),
        (b"com.apple.quicktime.model", b"iPhone 15"),
    )
    # An iPhone's MOV names QuickTime alone; an MP4 names the ISO brands.
    file_type = box(b"ftyp", brand, b"\x00\x00\x02\x00", brand, *([] if brand == b"qt  " else [b"mp41"]))

    def movie(sample_offset: int) -> bytes:
        chunk_offsets = full_box(b"stco", struct.pack(">II", 1, sample_offset))
        track = box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", chunk_offsets))))
        return box(b"moov", full_box(b"mvhd", bytes(96)), track, user_data, metadata)

    sample_offset = len(file_type) + len(movie(0)) + 8
    return file_type + movie(sample_offset) + box(b"mdat", SAMPLE), sample_offset
