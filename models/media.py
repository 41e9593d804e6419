"""Deciding what an uploaded file really is, whether it is within the limits, and removing where
it was taken before it is stored.

The type comes from the content (magic numbers, via `filetype`), never from the file name or
the type the client declared: a text file named `photo.jpg` is refused. An image's size in
pixels comes from its header, and an image over the limit is refused before anything decodes
it: a 657 KB PNG can declare 13000×13000 pixels, half a gigabyte once decoded (a decompression
bomb), for the server and for every phone that shows it. Nothing here decodes pixels at all:
location is removed from the metadata in place (models.geotags).

This is CPU work on up to a hundred megabytes: callers run it off the event loop.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import filetype
from PIL import Image
from pillow_heif import register_heif_opener

from models.complaints import AttachmentKind
from models.errors import ErrorCode
from models.geotags import Malformed, without_location

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
MB = 1024 * 1024


@dataclass(frozen=True)
class Media:
    kind: AttachmentKind
    content_type: str
    extension: str


@dataclass(frozen=True)
class Limits:
    image_bytes: int
    video_bytes: int
    image_pixels: int


class Refused(Exception):
    """A file we do not store, with a code and a message for the person who sent it."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def media_of(content_type: str) -> Media:
    kind, extension = ACCEPTED[content_type]
    return Media(kind=kind, content_type=content_type, extension=extension)


def identify(head: bytes) -> Media | None:
    """What the first bytes of a file say it is, if it is a type we accept."""
    guess = filetype.guess(head)
    if guess is None or guess.mime not in ACCEPTED:
        return None
    return media_of(guess.mime)


def prepared(data: bytes, limits: Limits) -> tuple[Media, bytes | bytearray]:
    """The file's type and the bytes to store: checked against the limits, without location."""
    media = identify(data[:8192])
    if media is None:
        raise Refused(ErrorCode.UNSUPPORTED_FILE, "只能上传图片（JPEG、PNG、WebP、HEIC）或短视频（MP4、MOV）。")
    image = media.kind is AttachmentKind.IMAGE
    limit = limits.image_bytes if image else limits.video_bytes
    if len(data) > limit:
        raise Refused(ErrorCode.FILE_TOO_LARGE, f"文件超过 {limit // MB} MB 的上限。")
    if image:
        _check_pixels(data, limits.image_pixels)
    try:
        return media, without_location(data, media.content_type)
    except Malformed as error:
        raise Refused(
            ErrorCode.UNSUPPORTED_FILE, "图片文件已损坏，无法读取。" if image else "视频文件已损坏，无法读取。"
        ) from error


def _check_pixels(data: bytes, limit: int) -> None:
    """Opening reads the header only; the pixels of every frame together must fit the limit.
    Pillow's own bomb check only warns below twice its default (179 MP), so ours is the one that
    counts, and Pillow's error (or its warning, where warnings are errors) is answered alike."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise Refused(ErrorCode.IMAGE_TOO_LARGE, f"图片像素过多，单张图片最多 {limit // 10_000} 万像素。") from error
    except (OSError, ValueError, SyntaxError, RuntimeError) as error:
        raise Refused(ErrorCode.UNSUPPORTED_FILE, "图片文件已损坏，无法读取。") from error
    if width * height * frames > limit:
        size = f"{width}×{height}" + (f"，{frames} 帧" if frames > 1 else "")
        raise Refused(ErrorCode.IMAGE_TOO_LARGE, f"图片像素过多（{size}），单张图片最多 {limit // 10_000} 万像素。")
