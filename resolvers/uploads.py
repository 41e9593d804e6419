"""Files a mutation stores, whichever way they came: in a GraphQL multipart request (`Upload`
values in its input), or ahead of it through `POST /uploads`, one file per call as
`wx.uploadFile` sends them, and then named by id. Any domain with attachments takes its files
through `receive`; the complaints' `attachments`/`attachmentIds` are the first.

Every file is typed by its content, checked against the size and pixel limits and stripped of
where it was taken (models.media) on a small thread pool, off the event loop, one file at a time;
then it is written, before its rows. A file whose rows are rolled back is removed again; one
whose process dies before the commit is left to `wanjia media sweep`.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete, event
from sqlalchemy.orm import Session, SessionTransaction

from models.complaints import AttachmentKind
from models.errors import ErrorCode
from models.media import Limits, Media, Refused, media_of, prepared
from models.people import Role
from models.uploads import PendingUpload
from resolvers.errors import DomainError, Issue, fail
from resolvers.permissions import allowed_to, session_of, viewer_of
from tenants.context import RequestContext


class UploadedFile(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class IncomingFiles:
    """A mutation's files: sent with it, or uploaded before and named by id."""

    uploads: Sequence[UploadedFile] = ()
    upload_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True)
class StoredFile:
    key: str
    media: Media
    size: int


@functools.cache
def _media_pool(workers: int) -> ThreadPoolExecutor:
    """Bounded: at most `workers` files are being read at once in this process, whatever the
    number of requests; the others wait their turn instead of taking memory and cores."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wanjia-media")


async def receive(
    ctx: RequestContext, files: IncomingFiles, field: str = "attachments", ids_field: str = "attachmentIds"
) -> list[StoredFile]:
    """The files stored and claimed: those sent with the mutation, then those named by id. Every
    problem of every file is reported at once (`attachments.1`, `attachmentIds.0`)."""
    settings = ctx.settings
    if len(files.uploads) + len(files.upload_ids) > settings.max_attachments:
        raise fail(ErrorCode.TOO_MANY_FILES, f"最多上传 {settings.max_attachments} 个文件。", field)
    claimed = await _claim(ctx, files.upload_ids, ids_field)
    return [*await _store_all(ctx, files.uploads, field), *claimed]


async def receive_photo(ctx: RequestContext, files: IncomingFiles, field: str, ids_field: str, what: str) -> str | None:
    """The stored key of the one image given (a cover, a check-in's photo), if any."""
    stored = await receive(ctx, files, field, ids_field)
    if len(stored) > 1 or any(s.media.kind is not AttachmentKind.IMAGE for s in stored):
        raise fail(ErrorCode.INVALID, f"{what}须为一张图片。", field)
    return stored[0].key if stored else None


async def _store_all(ctx: RequestContext, uploads: Sequence[UploadedFile], field: str) -> list[StoredFile]:
    stored: list[StoredFile] = []
    issues: list[Issue] = []
    try:
        for index, upload in enumerate(uploads):
            try:
                stored.append(await _store_one(ctx, upload))
            except Refused as refused:
                issues.append(Issue(refused.code, refused.message, f"{field}.{index}"))
    except BaseException:
        _remove(ctx, [s.key for s in stored])
        raise
    if issues:
        _remove(ctx, [s.key for s in stored])
        raise DomainError(*issues)
    _remove_on_rollback(ctx, [s.key for s in stored])
    return stored


async def _store_one(ctx: RequestContext, upload: UploadedFile) -> StoredFile:
    settings = ctx.settings
    assert ctx.tenant is not None
    data = await upload.read(max(settings.max_image_bytes, settings.max_video_bytes) + 1)
    limits = Limits(settings.max_image_bytes, settings.max_video_bytes, settings.max_image_pixels)
    now = ctx.clock()

    def prepare_and_write() -> StoredFile:
        media, content = prepared(data, limits)
        key = f"{ctx.tenant.id}/{now:%Y/%m}/{uuid.uuid4()}.{media.extension}"  # type: ignore[union-attr]
        ctx.storage.save(key, content)
        return StoredFile(key, media, len(content))

    return await asyncio.get_running_loop().run_in_executor(_media_pool(settings.media_workers), prepare_and_write)


async def _claim(ctx: RequestContext, ids: Sequence[uuid.UUID], field: str) -> list[StoredFile]:
    """Deleting the pending rows is the claim: two mutations naming one upload at once, one of
    them finds it gone. Another tenant's, another person's, an expired or an unknown id all
    answer alike."""
    if not ids:
        return []
    viewer = viewer_of(ctx)
    pending = PendingUpload
    rows = (
        await session_of(ctx).execute(
            delete(pending)
            .where(
                pending.id.in_(set(ids)),
                pending.uploader_id == viewer.user_id,
                pending.created_at > ctx.clock() - timedelta(hours=ctx.settings.unclaimed_upload_hours),
            )
            .returning(pending.id, pending.storage_key, pending.content_type, pending.size)
        )
    ).all()
    found = {row.id: row for row in rows}
    issues, seen = [], set()
    for index, upload_id in enumerate(ids):
        if upload_id in seen:
            issues.append(Issue(ErrorCode.DUPLICATE, "同一个文件只能附上一次。", f"{field}.{index}"))
        elif upload_id not in found:
            issues.append(Issue(ErrorCode.NOT_FOUND, "上传的文件不存在或已过期，请重新上传。", f"{field}.{index}"))
        seen.add(upload_id)
    if issues:
        raise DomainError(*issues)
    return [StoredFile(found[i].storage_key, media_of(found[i].content_type), found[i].size) for i in ids]


@allowed_to(*Role)
async def upload_ahead(ctx: RequestContext, upload: UploadedFile) -> PendingUpload:
    """`POST /uploads`: one file, stored and waiting for its uploader's mutation to name it."""
    [stored] = await _store_all(ctx, [upload], "file")
    row = PendingUpload(
        uploader_id=viewer_of(ctx).user_id,
        kind=stored.media.kind,
        content_type=stored.media.content_type,
        size=stored.size,
        storage_key=stored.key,
        created_at=ctx.clock(),
    )
    session_of(ctx).add(row)
    await session_of(ctx).flush()
    return row


def _remove(ctx: RequestContext, keys: list[str]) -> None:
    for key in keys:
        ctx.storage.delete(key)


def _remove_on_rollback(ctx: RequestContext, keys: list[str]) -> None:
    """Files written inside a transaction go unless it commits: when the mutation's savepoint is
    rolled back (a later step failed), or the request's transaction is rolled back or ends
    without its commit succeeding. Transactions are told apart, not just the session's next
    rollback: another mutation of the same request may fail on its own."""
    if not keys or ctx.session is None:
        return
    session = ctx.session.sync_session
    written_in = session.get_nested_transaction() or session.get_transaction()
    root = session.get_transaction()
    committed = False

    def rolled_back(_: Session, previous: SessionTransaction) -> None:
        transaction = written_in
        while transaction is not None:
            if transaction is previous:
                _remove(ctx, keys)
                return
            transaction = transaction.parent

    def commit(current: Session) -> None:
        nonlocal committed
        committed = committed or current.get_nested_transaction() is None

    def ended(_: Session, transaction: SessionTransaction) -> None:
        if transaction is root and not committed:
            _remove(ctx, keys)

    event.listen(session, "after_soft_rollback", rolled_back)
    event.listen(session, "after_commit", commit)
    event.listen(session, "after_transaction_end", ended)
