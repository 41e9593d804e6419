"""What every domain with files shares in the schema: files named by upload id beside `Upload`
values, and absolute, cacheable download URLs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from strawberry import relay
from strawberry.file_uploads import Upload

from models.storage import signed_path
from resolvers.uploads import IncomingFiles, UploadedFile
from schema.common import Info, decode_id

UPLOAD_ID_TYPE = "PendingUpload"
ATTACHMENT_IDS_DESCRIPTION = (
    "Files uploaded before, one per `POST /uploads` call (as `wx.uploadFile` sends them), by the "
    "`id` it answered; only the uploader may name them, once, within the upload's lifetime."
)


def incoming_files(
    uploads: Sequence[Upload], upload_ids: Sequence[relay.GlobalID], ids_field: str = "attachmentIds"
) -> IncomingFiles:
    ids = [decode_id(value, UPLOAD_ID_TYPE, f"{ids_field}.{index}") for index, value in enumerate(upload_ids)]
    # strawberry declares `Upload` as bytes; on Starlette each one is an UploadFile, which reads.
    files = cast(Sequence[UploadedFile], uploads)
    return IncomingFiles(uploads=files, upload_ids=ids)


def download_url(info: Info, storage_key: str) -> str:
    """Absolute (`WANJIA_PUBLIC_URL`, else the origin the request came to), and the same for a
    whole signature window so an app's image cache can keep the file."""
    ctx = info.context
    settings = ctx.settings
    path, _ = signed_path(
        storage_key, secret=settings.secret_key or "", window_seconds=settings.download_url_seconds, now=ctx.clock()
    )
    return origin(info) + path


def origin(info: Info) -> str:
    public_url = info.context.settings.public_url
    if public_url:
        return public_url.rstrip("/")
    url = info.context.request.base_url
    # Over a websocket (subscriptions) the page still fetches files over HTTP.
    scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
    return str(url.replace(scheme=scheme)).rstrip("/")
