"""`wanjia media sweep`: removes the stored files that no row names any more.

They come from three places: uploads sent to `POST /uploads` and never claimed (expired after
`WANJIA_UNCLAIMED_UPLOAD_HOURS`: their rows go too); a process that died between writing a
file and committing its row; and partial files of a write cut short. A file younger than the
grace age is never touched, whoever names it, so an upload in flight (written, its row not yet
committed) is safe. Files are looked up in batches against every table with a `storage_key`
column, so a new domain's files are protected by declaring that column.

Only the folders of tenants the database knows are swept: pointed at the wrong database, the
sweep removes nothing rather than everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.base import Base
from models.database import WRITES
from models.storage import Storage, StoredObject
from models.tenants import Tenant
from models.uploads import PendingUpload
from tenants.sessions import open_session

BATCH = 500


@dataclass
class MediaSweepReport:
    expired_uploads: list[str] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)
    kept_for_grace: int = 0
    unknown_folders: list[str] = field(default_factory=list)

    @property
    def removed(self) -> list[str]:
        return [*self.expired_uploads, *self.unreferenced]


def _key_columns() -> list[Any]:
    return [mapper.class_.storage_key for mapper in Base.registry.mappers if "storage_key" in mapper.columns]


async def sweep_media(
    sessions: async_sessionmaker[AsyncSession],
    storage: Storage,
    *,
    now: datetime,
    unclaimed_upload_hours: int,
    grace: timedelta,
    dry_run: bool,
) -> MediaSweepReport:
    report = MediaSweepReport()
    async with open_session(sessions, None) as session:
        tenants = {str(tenant_id) for tenant_id in (await session.scalars(select(Tenant.id))).all()}
    for prefix in storage.prefixes():
        if _tenant_folder(prefix) not in tenants:
            report.unknown_folders.append(prefix)
            continue
        async with open_session(sessions, uuid.UUID(prefix)) as session:
            await session.connection(execution_options={WRITES: not dry_run})
            expired = await _expire_uploads(session, now - timedelta(hours=unclaimed_upload_hours), dry_run)
            await session.commit()
            report.expired_uploads += expired
            young_after = now - grace
            batch: list[StoredObject] = []
            for stored in storage.objects(prefix):
                if stored.modified_at > young_after:
                    report.kept_for_grace += 1
                    continue
                batch.append(stored)
                if len(batch) == BATCH:
                    report.unreferenced += await _unreferenced(session, batch, set(expired))
                    batch = []
            report.unreferenced += await _unreferenced(session, batch, set(expired))
            await session.rollback()
    if not dry_run:
        for key in report.removed:
            storage.delete(key)
    return report


def _tenant_folder(prefix: str) -> str | None:
    try:
        return str(uuid.UUID(prefix))
    except ValueError:
        return None


async def _expire_uploads(session: AsyncSession, cutoff: datetime, dry_run: bool) -> list[str]:
    """Rows first, files after the commit: a file whose row survived a failure is never lost."""
    expired = PendingUpload.created_at <= cutoff
    if dry_run:
        return list((await session.scalars(select(PendingUpload.storage_key).where(expired))).all())
    return list(
        (await session.scalars(delete(PendingUpload).where(expired).returning(PendingUpload.storage_key))).all()
    )


async def _unreferenced(session: AsyncSession, batch: Iterable[StoredObject], expired: set[str]) -> list[str]:
    keys = [stored.key for stored in batch if stored.key not in expired]
    if not keys:
        return []
    named: set[str] = set()
    for column in _key_columns():
        named.update((await session.scalars(select(column).where(column.in_(keys)))).all())
    return [key for key in keys if key not in named]
