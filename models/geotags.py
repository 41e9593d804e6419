"""Removing where a photo or video was taken, without re-encoding it.

A location hides in three kinds of places: the EXIF GPS block (JPEG, PNG, WebP, HEIC), XMP
properties (any of those, and videos), and QuickTime/MP4 atoms (`©xyz`, `loci`, and the
`com.apple.quicktime.location.*` items of a `meta`/`keys`/`ilst` list). Each is neutralised in
place and every other byte stays where it was: a video's sample offsets (`stco`/`co64`), a HEIC
image's item locations (`iloc`) and a JPEG's secondary images (MPF) all point at absolute
positions in the file, so nothing may move. Pixels and samples are never decoded, and all other
metadata (orientation, camera, time) is kept.

What cannot be parsed with certainty is blanked whole rather than trusted: an EXIF block whose
directories we cannot walk, an XMP packet that is not well-formed. A container whose structure
is broken raises `Malformed`: then we cannot know where its location is, and it is refused.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.parsers import expat


class Malformed(ValueError):
    """The file's structure is broken: where its metadata is cannot be told."""


# Segments, chunks or boxes at one level, metadata keys, located items: real files have at most
# a few thousand. A file of millions of tiny parts, made to keep a worker busy, is refused.
_MAX_PARTS = 100_000


def _count(parts: int) -> int:
    if parts > _MAX_PARTS:
        raise Malformed("too many parts")
    return parts


# --- EXIF: a TIFF structure whose IFD0 may point at a GPS directory ---------------------------

GPS_IFD_TAG = 0x8825
_TIFF_TYPE_SIZES = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 8,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 8,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
# IFD0 and IFD1 (the thumbnail's); a longer chain is not a photo's and is not followed.
_MAX_IFD_CHAIN = 4


class _Tiff:
    """Bounds-checked reads and writes inside one TIFF structure, by offsets from its header."""

    def __init__(self, buf: bytearray, start: int, end: int) -> None:
        header = bytes(buf[start : start + 4])
        if header == b"II*\x00":
            self.order = "<"
        elif header == b"MM\x00*":
            self.order = ">"
        else:
            raise Malformed("no TIFF header")
        self.buf, self.start, self.end = buf, start, end

    def span(self, offset: int, length: int) -> tuple[int, int]:
        begin = self.start + offset
        if offset < 0 or length < 0 or begin + length > self.end:
            raise Malformed("an EXIF offset points outside the block")
        return begin, begin + length

    def u16(self, offset: int) -> int:
        begin, _ = self.span(offset, 2)
        return int(struct.unpack_from(self.order + "H", self.buf, begin)[0])

    def u32(self, offset: int) -> int:
        begin, _ = self.span(offset, 4)
        return int(struct.unpack_from(self.order + "I", self.buf, begin)[0])

    def put_u16(self, offset: int, value: int) -> None:
        struct.pack_into(self.order + "H", self.buf, self.span(offset, 2)[0], value)

    def zero(self, offset: int, length: int) -> None:
        begin, end = self.span(offset, length)
        self.buf[begin:end] = bytes(length)


def strip_exif(buf: bytearray, start: int, end: int) -> None:
    """Removes the GPS directory from the TIFF structure in `buf[start:end]`: its entries and
    values are zeroed and IFD0's pointer to it is taken out. An EXIF block that cannot be walked
    is zeroed whole."""
    try:
        tiff = _Tiff(buf, start, end)
        offset, seen = tiff.u32(4), set()
        for _ in range(_MAX_IFD_CHAIN):
            if offset == 0 or offset in seen:
                break
            seen.add(offset)
            count = tiff.u16(offset)
            tiff.span(offset, 2 + 12 * count + 4)
            for index in range(count):
                entry = offset + 2 + 12 * index
                if tiff.u16(entry) == GPS_IFD_TAG:
                    _zero_directory(tiff, tiff.u32(entry + 8))
                    _remove_entry(tiff, offset, index)
                    break
            offset = tiff.u32(offset + 2 + 12 * tiff.u16(offset))
    except Malformed:
        buf[start:end] = bytes(end - start)


def _zero_directory(tiff: _Tiff, offset: int) -> None:
    count = tiff.u16(offset)
    tiff.span(offset, 2 + 12 * count + 4)
    for index in range(count):
        entry = offset + 2 + 12 * index
        size = _TIFF_TYPE_SIZES.get(tiff.u16(entry + 2), 1) * tiff.u32(entry + 4)
        if size > 4:
            tiff.zero(tiff.u32(entry + 8), size)
    tiff.zero(offset, 2 + 12 * count + 4)


def _remove_entry(tiff: _Tiff, directory: int, index: int) -> None:
    """Entries are contiguous and followed by the next directory's offset: the ones after
    `index` (and that offset) move up one place, and the freed last 12 bytes are zeroed."""
    count = tiff.u16(directory)
    first = directory + 2
    moved_from, moved_end = tiff.span(first + 12 * (index + 1), 12 * (count - index - 1) + 4)
    moved_to = tiff.span(first + 12 * index, 0)[0]
    tiff.buf[moved_to : moved_to + (moved_end - moved_from)] = tiff.buf[moved_from:moved_end]
    tiff.zero(first + 12 * (count - 1) + 4, 12)
    tiff.put_u16(directory, count - 1)


def _tiff_start(payload: bytes | bytearray, start: int) -> int:
    """EXIF payloads carry the TIFF header directly or after an `Exif\\0\\0` preamble."""
    return start + 6 if payload[start : start + 6] == b"Exif\x00\x00" else start


# --- XMP: an RDF/XML packet; location properties are blanked with spaces ------------------------

# Local names of location properties in any namespace: exif:GPS*, photoshop:City/State/Country,
# Iptc4xmpCore:Location/CountryCode, Iptc4xmpExt:LocationCreated/LocationShown, and drone
# makers' own *Latitude/*Longitude/*Altitude.
_LOCATION_NAME = re.compile(
    r"gps\w*|\w*(?:latitude|longitude|altitude)|city|state|province|country(?:code|name)?"
    r"|(?:sub)?location(?:created|shown)?|worldregion",
    re.IGNORECASE,
)
_LOCATION_HINT = re.compile(rb"gps|latitude|longitude|altitude|city|state|province|country|location|worldregion", re.I)
_TAG_NAME = re.compile(rb"[^\s=/>]+")
_SPACE = re.compile(rb"\s*")


class _Unsafe(Exception):
    """Not an XMP packet we can edit with confidence: it is blanked whole."""


def _is_location(qualified_name: str) -> bool:
    prefix, _, local = qualified_name.rpartition(":")
    return prefix != "xmlns" and bool(_LOCATION_NAME.fullmatch(local))


def strip_xmp(buf: bytearray, start: int, end: int) -> None:
    """Blanks every location property (element or attribute) of the XMP packet in
    `buf[start:end]` with spaces, so the packet keeps its length and stays well-formed. A packet
    that is not well-formed UTF-8 XML, or declares a DTD, is blanked whole if it mentions a
    location at all."""
    packet = bytes(buf[start:end])
    if not _LOCATION_HINT.search(packet.replace(b"\x00", b"")):
        return
    try:
        spans = _location_spans(packet)
        for begin, finish in spans:
            buf[start + begin : start + finish] = b" " * (finish - begin)
        if spans and _location_spans(bytes(buf[start:end])):
            raise _Unsafe("location properties left after blanking")
    except _Unsafe:
        buf[start:end] = b" " * (end - start)


def _location_spans(packet: bytes) -> list[tuple[int, int]]:
    """Byte ranges of the location elements and attributes in a packet, found by a streaming
    parse (linear in the packet's size, whatever its nesting)."""
    if b"\x00" in packet.rstrip(b"\x00"):
        raise _Unsafe("not UTF-8")
    document = packet.rstrip(b"\x00 \t\r\n")
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    spans: list[tuple[int, int]] = []
    open_location: list[int] = []  # [start] of the location element being skipped
    depth_inside = 0

    def refuse(*_: object) -> None:
        raise _Unsafe("DTD or entity declaration")

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth_inside
        position = parser.CurrentByteIndex
        if depth_inside:
            depth_inside += 1
            return
        attribute_spans, tag_end, empty = _scan_tag(document, position)
        if _is_location(name):
            if empty:
                spans.append((position, tag_end))
            else:
                open_location.append(position)
                depth_inside = 1
            return
        spans.extend((a, b) for attribute, a, b in attribute_spans if _is_location(attribute))

    def end(_name: str) -> None:
        nonlocal depth_inside
        if not depth_inside:
            return
        depth_inside -= 1
        if depth_inside == 0:
            position = parser.CurrentByteIndex
            spans.append((open_location.pop(), document.index(b">", position) + 1))

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(document, True)
    except (expat.ExpatError, ValueError, AttributeError, AssertionError) as error:
        raise _Unsafe(str(error)) from error
    return spans


def _scan_tag(document: bytes, position: int) -> tuple[list[tuple[str, int, int]], int, bool]:
    """The attributes of the start tag at `position` with their byte ranges, where the tag
    ends, and whether it is an empty-element tag. The parser has found the tag well-formed."""
    cursor = _TAG_NAME.match(document, position + 1).end()  # type: ignore[union-attr]
    attributes: list[tuple[str, int, int]] = []
    while True:
        cursor = _SPACE.match(document, cursor).end()  # type: ignore[union-attr]
        if document.startswith(b"/>", cursor):
            return attributes, cursor + 2, True
        if document.startswith(b">", cursor):
            return attributes, cursor + 1, False
        name = _TAG_NAME.match(document, cursor)
        assert name is not None
        value_start = _SPACE.match(document, _SPACE.match(document, name.end()).end() + 1).end()  # type: ignore[union-attr]
        quote = document[value_start : value_start + 1]
        value_end = document.index(quote, value_start + 1) + 1
        attributes.append((name.group().decode("utf-8", "replace"), cursor, value_end))
        cursor = value_end


def _rewrite_scattered(
    buf: bytearray, spans: list[tuple[int, int]], edit: Callable[[bytearray, int, int], None]
) -> None:
    """Edits data stored in pieces (HEIC item extents, JPEG extended-XMP chunks) as one, then
    puts each piece back where it was."""
    if sum(b - a for a, b in spans) > len(buf):
        raise Malformed("pieces larger than the file")
    joined = bytearray(b"".join(buf[a:b] for a, b in spans))
    edit(joined, 0, len(joined))
    cursor = 0
    for a, b in spans:
        buf[a:b] = joined[cursor : cursor + b - a]
        cursor += b - a


# --- JPEG: APP1 segments (EXIF, XMP, extended XMP), and MPF's secondary images after EOI --------

XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_JPEG_EXTENDED = b"http://ns.adobe.com/xmp/extension/\x00"
_MAX_EMBEDDED_IMAGES = 16


def _jpeg(buf: bytearray) -> None:
    end = _jpeg_image(buf, 0)
    # Multi-picture files (MPF: depth maps, gain maps) append further JPEGs, each with its own
    # metadata.
    for _ in range(_MAX_EMBEDDED_IMAGES):
        embedded = buf.find(b"\xff\xd8\xff", end)
        if embedded < 0:
            break
        try:
            end = _jpeg_image(buf, embedded)
        except Malformed:
            break


def _jpeg_image(buf: bytearray, start: int) -> int:
    """Walks one JPEG's segments from SOI to EOI; answers where it ends."""
    if buf[start : start + 2] != b"\xff\xd8":
        raise Malformed("no SOI marker")
    cursor = start + 2
    extended: dict[bytes, list[tuple[int, int, int]]] = {}
    parts = 0
    while cursor + 2 <= len(buf):
        parts = _count(parts + 1)
        if buf[cursor] != 0xFF:
            raise Malformed("a JPEG segment does not start with a marker")
        marker = buf[cursor + 1]
        if marker == 0xFF:
            cursor += 1
            continue
        if marker == 0xD9:
            cursor += 2
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            cursor += 2
            continue
        if cursor + 4 > len(buf):
            raise Malformed("truncated JPEG segment")
        body, end = cursor + 4, cursor + 2 + int.from_bytes(buf[cursor + 2 : cursor + 4], "big")
        if end > len(buf) or end < body:
            raise Malformed("a JPEG segment runs past the end")
        if marker == 0xE1:
            if buf[body : body + 6] == b"Exif\x00\x00":
                strip_exif(buf, body + 6, end)
            elif buf[body : body + len(XMP_JPEG)] == XMP_JPEG:
                strip_xmp(buf, body + len(XMP_JPEG), end)
            elif buf[body : body + len(XMP_JPEG_EXTENDED)] == XMP_JPEG_EXTENDED:
                header = body + len(XMP_JPEG_EXTENDED)
                guid, offset = bytes(buf[header : header + 32]), int.from_bytes(buf[header + 36 : header + 40], "big")
                extended.setdefault(guid, []).append((offset, header + 40, end))
        cursor = end
        if marker == 0xDA:
            cursor = _after_entropy_coded_data(buf, cursor)
    for chunks in extended.values():
        _rewrite_scattered(buf, [(a, b) for _, a, b in sorted(chunks)], strip_xmp)
    return cursor


def _after_entropy_coded_data(buf: bytearray, cursor: int) -> int:
    """Inside scan data 0xFF is followed by a stuffed 0x00 or a restart marker; any other
    marker ends it. A file cut short ends there too."""
    while True:
        found = buf.find(b"\xff", cursor)
        if found < 0 or found + 1 >= len(buf):
            return len(buf)
        following = buf[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            cursor = found + 1 if following == 0xFF else found + 2
            continue
        return found


# --- PNG: eXIf and XMP (iTXt) chunks; chunks carry a CRC, and nothing points at their offsets ---

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_XMP = b"XML:com.adobe.xmp\x00"
_MAX_XMP_BYTES = 16 * 1024 * 1024


def _png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise Malformed("no PNG signature")
    output = bytearray(_PNG_SIGNATURE)
    cursor, parts = len(_PNG_SIGNATURE), 0
    while cursor < len(data):
        parts = _count(parts + 1)
        if cursor + 12 > len(data):
            raise Malformed("truncated PNG chunk")
        length, kind = struct.unpack_from(">I4s", data, cursor)
        end = cursor + 12 + length
        if end > len(data):
            raise Malformed("a PNG chunk runs past the end")
        body = data[cursor + 8 : end - 4]
        kept: bytes | None = body
        if kind == b"eXIf":
            edited = bytearray(body)
            strip_exif(edited, _tiff_start(edited, 0), len(edited))
            kept = bytes(edited)
        elif kind == b"iTXt" and body.startswith(_PNG_XMP):
            kept = _png_xmp(body)
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and body.startswith(b"Raw profile type "):
            # ImageMagick's hex-encoded copies of EXIF/XMP/IPTC: dropped rather than decoded.
            kept = None
        if kept is not None:
            output += struct.pack(">I4s", len(kept), kind) + kept
            output += struct.pack(">I", zlib.crc32(kind + kept))
        cursor = end
        if kind == b"IEND":
            # Nothing may follow IEND; whatever does (another file, say) is not stored.
            break
    return bytes(output)


def _png_xmp(body: bytes) -> bytes | None:
    """iTXt: keyword, compression flag and method, language, translated keyword, text."""
    flag_at = len(_PNG_XMP)
    compressed = body[flag_at] == 1
    language_end = body.index(b"\x00", flag_at + 2)
    text_at = body.index(b"\x00", language_end + 1) + 1
    text = body[text_at:]
    if compressed:
        inflater = zlib.decompressobj()
        text = inflater.decompress(text, _MAX_XMP_BYTES)
        if inflater.unconsumed_tail:
            return None
    edited = bytearray(text)
    strip_xmp(edited, 0, len(edited))
    return body[:text_at] + (zlib.compress(bytes(edited)) if compressed else bytes(edited))


# --- WebP: RIFF chunks "EXIF" and "XMP " -----------------------------------------------------


def _webp(buf: bytearray) -> bytearray:
    if buf[:4] != b"RIFF" or buf[8:12] != b"WEBP":
        raise Malformed("not a RIFF WebP file")
    end = min(len(buf), 8 + int.from_bytes(buf[4:8], "little"))
    cursor, parts = 12, 0
    while cursor + 8 <= end:
        parts = _count(parts + 1)
        kind, size = bytes(buf[cursor : cursor + 4]), int.from_bytes(buf[cursor + 4 : cursor + 8], "little")
        body = cursor + 8
        if body + size > end:
            raise Malformed("a WebP chunk runs past the end")
        if kind == b"EXIF":
            strip_exif(buf, _tiff_start(buf, body), body + size)
        elif kind == b"XMP ":
            strip_xmp(buf, body, body + size)
        cursor = body + size + (size & 1)
    # Anything after the RIFF container (another file, say) is not stored.
    return buf[:end]


# --- ISO base media (HEIC, MP4, MOV): boxes, QuickTime atoms, HEIF items ------------------------

LOCATION_ATOMS = {b"\xa9xyz", b"loci"}
# Real files nest boxes a handful deep: a file built to make the walk recurse is refused.
_MAX_DEPTH = 16
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"udta", b"edts", b"moof", b"traf", b"mvex"}
_FREE = b"free"


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int
    body: int
    end: int


def _boxes(buf: bytearray, start: int, end: int, *, top_level: bool = False) -> Iterator[_Box]:
    cursor, parts = start, 0
    while cursor + 8 <= end:
        parts = _count(parts + 1)
        size, kind = struct.unpack_from(">I4s", buf, cursor)
        header = 8
        if size == 1:
            if cursor + 16 > end:
                raise Malformed("truncated box header")
            size, header = struct.unpack_from(">Q", buf, cursor + 8)[0], 16
        elif size == 0:
            size = end - cursor
        if size < header:
            raise Malformed("a box smaller than its header")
        if cursor + size > end:
            if not top_level:
                raise Malformed("a box runs past its parent")
            # A file cut short keeps what it has; its last box ends with the file.
            size = end - cursor
        yield _Box(kind, cursor, cursor + header, cursor + size)
        cursor += size
    # Fewer than 8 bytes left: QuickTime ends some atom lists with a 4-byte zero.


def _free(buf: bytearray, box: _Box) -> None:
    """The atom keeps its size, so every offset stays valid, but says nothing any more."""
    buf[box.start + 4 : box.start + 8] = _FREE
    buf[box.body : box.end] = bytes(box.end - box.body)


def _isobmff(buf: bytearray) -> None:
    _walk(buf, _boxes(buf, 0, len(buf), top_level=True), 0)


def _walk(buf: bytearray, boxes: Iterator[_Box], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise Malformed("boxes nested too deep")
    for box in boxes:
        if box.kind in LOCATION_ATOMS:
            _free(buf, box)
        elif box.kind == b"uuid" and buf[box.body : box.body + 16] == XMP_UUID:
            strip_xmp(buf, box.body + 16, box.end)
        elif box.kind == b"XMP_":
            strip_xmp(buf, box.body, box.end)
        elif box.kind == b"meta":
            _meta(buf, box, depth + 1)
        elif box.kind in _CONTAINERS:
            _walk(buf, _boxes(buf, box.body, box.end), depth + 1)


def _meta(buf: bytearray, meta: _Box, depth: int) -> None:
    """ISO's `meta` is a full box (4 bytes of version and flags first); QuickTime's is not, and
    begins with its `hdlr` atom directly."""
    first = meta.body if buf[meta.body + 4 : meta.body + 8] == b"hdlr" else meta.body + 4
    children = list(_boxes(buf, first, meta.end))
    by_kind = {child.kind: child for child in children}
    location_keys = _location_keys(buf, by_kind[b"keys"]) if b"keys" in by_kind else set()
    if b"ilst" in by_kind:
        for item in _boxes(buf, by_kind[b"ilst"].body, by_kind[b"ilst"].end):
            if item.kind in LOCATION_ATOMS or int.from_bytes(item.kind, "big") in location_keys:
                _free(buf, item)
    if b"iinf" in by_kind and b"iloc" in by_kind:
        _items(buf, by_kind[b"iinf"], by_kind[b"iloc"], by_kind.get(b"idat"))
    _walk(buf, (child for child in children if child.kind not in (b"keys", b"ilst", b"iinf", b"iloc", b"idat")), depth)


def _location_keys(buf: bytearray, keys: _Box) -> set[int]:
    """QuickTime metadata keys (1-based) naming a location, e.g.
    `com.apple.quicktime.location.ISO6709`; `ilst` items are numbered by them."""
    count = _count(int.from_bytes(buf[keys.body + 4 : keys.body + 8], "big"))
    cursor, found = keys.body + 8, set()
    for index in range(1, count + 1):
        if cursor + 8 > keys.end:
            raise Malformed("truncated metadata keys")
        size = int.from_bytes(buf[cursor : cursor + 4], "big")
        if size < 8 or cursor + size > keys.end:
            raise Malformed("a metadata key runs past its list")
        name = bytes(buf[cursor + 8 : cursor + size])
        if name in LOCATION_ATOMS or re.search(rb"location|gps", name, re.I):
            found.add(index)
        cursor += size
    return found


class _Reader:
    """Big-endian fields read one after another inside a box."""

    def __init__(self, buf: bytearray, cursor: int, end: int) -> None:
        self.buf, self.cursor, self.end = buf, cursor, end

    def uint(self, size: int) -> int:
        if self.cursor + size > self.end:
            raise Malformed("a field runs past its box")
        value = int.from_bytes(self.buf[self.cursor : self.cursor + size], "big")
        self.cursor += size
        return value

    def text(self) -> bytes:
        stop = self.buf.find(b"\x00", self.cursor, self.end)
        if stop < 0:
            stop = self.end
        value = bytes(self.buf[self.cursor : stop])
        self.cursor = min(stop + 1, self.end)
        return value


def _items(buf: bytearray, iinf: _Box, iloc: _Box, idat: _Box | None) -> None:
    """HEIF items: EXIF (`Exif`) and XMP (`mime`, application/rdf+xml) blocks, wherever
    `iloc` says their bytes are."""
    kinds = _item_kinds(buf, iinf)
    for item_id, spans in _item_extents(buf, iloc, idat).items():
        kind = kinds.get(item_id)
        if kind == "exif":
            _rewrite_scattered(buf, spans, _strip_exif_item)
        elif kind == "xmp":
            _rewrite_scattered(buf, spans, strip_xmp)
        elif kind == "encoded-xmp":
            for a, b in spans:
                buf[a:b] = bytes(b - a)


def _strip_exif_item(data: bytearray, start: int, end: int) -> None:
    """An EXIF item starts with the offset of its TIFF header (after the offset itself)."""
    if end - start < 4:
        raise Malformed("EXIF item too short")
    header = start + 4 + int.from_bytes(data[start : start + 4], "big")
    if header > end:
        raise Malformed("EXIF item header offset past its end")
    strip_exif(data, _tiff_start(data, header), end)


def _item_kinds(buf: bytearray, iinf: _Box) -> dict[int, str]:
    version = buf[iinf.body]
    entries = iinf.body + 4 + (2 if version == 0 else 4)
    kinds = {}
    for infe in _boxes(buf, entries, iinf.end):
        if infe.kind != b"infe":
            continue
        read = _Reader(buf, infe.body, infe.end)
        infe_version = read.uint(1)
        read.uint(3)
        if infe_version < 2:
            item_id, _ = read.uint(2), read.uint(2)
            read.text()
            item_type, content_type = b"mime", read.text()
        else:
            item_id = read.uint(2 if infe_version == 2 else 4)
            read.uint(2)
            item_type = bytes(read.buf[read.cursor : read.cursor + 4])
            read.uint(4)
            read.text()  # item name
            content_type = read.text() if item_type == b"mime" else b""
        if item_type == b"Exif":
            kinds[item_id] = "exif"
        elif item_type == b"mime" and content_type == b"application/rdf+xml":
            kinds[item_id] = "encoded-xmp" if read.cursor < infe.end and read.text() else "xmp"
    return kinds


def _item_extents(buf: bytearray, iloc: _Box, idat: _Box | None) -> dict[int, list[tuple[int, int]]]:
    read = _Reader(buf, iloc.body, iloc.end)
    version = read.uint(1)
    read.uint(3)
    sizes = read.uint(1)
    offset_size, length_size = sizes >> 4, sizes & 0xF
    sizes = read.uint(1)
    base_offset_size, index_size = sizes >> 4, (sizes & 0xF) if version in (1, 2) else 0
    extents: dict[int, list[tuple[int, int]]] = {}
    counted = 0
    for _ in range(_count(read.uint(2 if version < 2 else 4))):
        item_id = read.uint(2 if version < 2 else 4)
        construction = read.uint(2) & 0xF if version in (1, 2) else 0
        read.uint(2)
        base = read.uint(base_offset_size)
        spans = []
        count = read.uint(2)
        counted = _count(counted + count)
        for _ in range(count):
            read.uint(index_size)
            offset, length = read.uint(offset_size), read.uint(length_size)
            if construction == 0:
                origin, limit = 0, len(buf)
            elif construction == 1 and idat is not None:
                origin, limit = idat.body, idat.end
            else:
                origin = limit = -1  # built from other items: holds no bytes of its own
            if origin < 0:
                continue
            start = origin + base + offset
            end = limit if length == 0 else start + length
            if start < origin or end > limit:
                raise Malformed("an item extent lies outside the file")
            spans.append((start, end))
        extents[item_id] = spans
    return extents


# --- the one entry point -------------------------------------------------------------------------


def without_location(data: bytes, content_type: str) -> bytes | bytearray:
    """The file with every location it carries removed, all else byte for byte where it was (PNG
    and WebP lose anything appended after their end). Raises `Malformed` for a broken file.
    One copy of the file is made, and handed back as it is: a video may be 100 MB."""
    try:
        if content_type == "image/png":
            return _png(data)
        buf = bytearray(data)
        if content_type == "image/jpeg":
            _jpeg(buf)
        elif content_type == "image/webp":
            buf = _webp(buf)
        else:
            _isobmff(buf)
        return buf
    except (IndexError, ValueError, struct.error) as error:
        if isinstance(error, Malformed):
            raise
        raise Malformed(str(error)) from error
