"""Grid workers' badges (工作牌二维码): a resident scans their grid worker's badge to register.

A badge carries the street office, the grid and the worker, sealed (models.seals) with the
worker's badge version. It never expires; it stops working when the version moves on
(`revoke_badge`: a lost badge, reprinted with the new version) or when the worker no longer
serves that grid (the printed badge names the wrong person then).

Who reviews a registration made with a badge: whoever serves the resident's grid when it is
reviewed, as for any registration. At the moment of registering that is the badge's worker (a
badge is refused once its worker left the grid); if the grid changes hands before the review,
the new worker, who now serves those households, reviews it, and the badge's worker (who may
no longer see that grid's residents at all) is kept as `referrer` for the record.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, select

from models.badges import BadgeRegistration, WorkerBadge
from models.base import new_id
from models.errors import ErrorCode
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Community, Grid
from models.people import Role, User
from models.seals import seal, unseal
from resolvers.errors import fail, not_found
from resolvers.loaders import loader
from resolvers.notifications import notify
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of
from resolvers.rows import Selection
from resolvers.upserts import upsert
from tenants.context import RequestContext

BADGE_SEAL = "grid-worker-badge"
_BADGE = struct.Struct(">16s16s16sI")  # tenant, grid, worker, badge version


@dataclass(frozen=True, slots=True)
class BadgeRow:
    """One badge: a grid and the worker who serves it, with the token its QR code carries."""

    grid_id: uuid.UUID
    grid_code: str
    grid_name: str
    community_name: str
    worker_id: uuid.UUID
    worker_name: str
    token: str


@dataclass(frozen=True, slots=True)
class ServedGridRow:
    grid_id: uuid.UUID
    grid_code: str
    grid_name: str
    community_name: str
    worker_id: uuid.UUID
    worker_name: str
    badge_version: int | None  # None: never revoked, version 1


# Every grid with its worker and the worker's badge version.
SERVED_GRID = Selection(
    ServedGridRow,
    select(
        Grid.id.label("grid_id"),
        Grid.code.label("grid_code"),
        Grid.name.label("grid_name"),
        Community.name.label("community_name"),
        User.id.label("worker_id"),
        User.name.label("worker_name"),
        WorkerBadge.version.label("badge_version"),
    )
    .join(Community, (Community.tenant_id == Grid.tenant_id) & (Community.id == Grid.community_id))
    .join(User, (User.tenant_id == Grid.tenant_id) & (User.id == Grid.worker_id))
    .outerjoin(WorkerBadge, (WorkerBadge.tenant_id == Grid.tenant_id) & (WorkerBadge.worker_id == Grid.worker_id)),
)


def _token(ctx: RequestContext, grid_id: uuid.UUID, worker_id: uuid.UUID, version: int) -> str:
    assert ctx.tenant is not None
    payload = _BADGE.pack(ctx.tenant.id.bytes, grid_id.bytes, worker_id.bytes, version)
    return seal(payload, secret=ctx.settings.secret_key or "", purpose=BADGE_SEAL)


async def _badges(ctx: RequestContext, *conditions: ColumnElement[bool]) -> list[BadgeRow]:
    rows = await SERVED_GRID.where(*conditions).order_by(Grid.code).all(session_of(ctx))
    return [
        BadgeRow(
            grid_id=r.grid_id,
            grid_code=r.grid_code,
            grid_name=r.grid_name,
            community_name=r.community_name,
            worker_id=r.worker_id,
            worker_name=r.worker_name,
            token=_token(ctx, r.grid_id, r.worker_id, r.badge_version or 1),
        )
        for r in rows
    ]


async def all_badges(ctx: RequestContext) -> list[BadgeRow]:
    """Every grid worker's badges, for printing (`wanjia qr badges`): the platform's own work."""
    return await _badges(ctx)


@allowed_to(Role.GRID_WORKER)
async def my_badges(ctx: RequestContext) -> list[BadgeRow]:
    """A grid worker's badges, one per grid they serve, for their app to show."""
    return await _badges(ctx, Grid.worker_id == viewer_of(ctx).user_id)


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def revoke_badge(ctx: RequestContext, grid_id: uuid.UUID | None) -> uuid.UUID:
    """A lost badge: every badge of its worker stops working, and the next ones printed or shown
    carry a new version. A grid worker revokes their own (no grid named); an admin the badges of
    the worker serving a grid of their community. Returns the worker's id."""
    viewer = viewer_of(ctx)
    session = session_of(ctx)
    if grid_id is None:
        if Role.GRID_WORKER not in viewer.roles:
            raise fail(ErrorCode.INVALID, "请指明网格。", "gridId")
        worker_id: uuid.UUID | None = viewer.user_id
    else:
        grid = (
            await session.execute(select(Grid.worker_id, Grid.community_id).where(Grid.id == grid_id))
        ).one_or_none()
        if grid is None or not (grid.worker_id == viewer.user_id or viewer.administers(grid.community_id)):
            raise not_found("网格", "gridId")
        worker_id = grid.worker_id
        if worker_id is None:
            raise fail(ErrorCode.NO_WORKER, "该网格暂无网格员。", "gridId")
    assert ctx.tenant is not None and worker_id is not None
    insert = await upsert(session, WorkerBadge)
    await session.execute(
        insert.values(
            tenant_id=ctx.tenant.id, id=new_id(), worker_id=worker_id, version=2, issued_at=ctx.clock()
        ).on_conflict_do_update(
            index_elements=[WorkerBadge.tenant_id, WorkerBadge.worker_id],
            set_={"version": WorkerBadge.version + 1, "issued_at": insert.excluded.issued_at},
        )
    )
    return worker_id


def badge_link(base: str, token: str) -> str:
    """What the QR code holds: the registration page with the badge in its query."""
    return f"{base}?{urlencode({'badge': token})}"


@dataclass(frozen=True, slots=True)
class ScannedBadge:
    grid_id: uuid.UUID
    grid_name: str
    community_name: str
    worker_id: uuid.UUID
    worker_name: str


@allowed_to(ANYONE)
async def scanned_badge(ctx: RequestContext, token: str, field: str = "badge") -> ScannedBadge:
    """The grid and worker of a badge that still works here; every other token (forged,
    revoked, another street office's, a worker who left the grid) answers alike."""
    invalid = fail(ErrorCode.INVALID_BADGE, "工作牌二维码无效或已停用，请联系您的网格员。", field)
    payload = unseal(token.strip(), secret=ctx.settings.secret_key or "", purpose=BADGE_SEAL)
    if payload is None or len(payload) != _BADGE.size or ctx.tenant is None:
        raise invalid
    tenant, grid, worker, version = _BADGE.unpack(payload)
    if tenant != ctx.tenant.id.bytes:
        raise invalid
    grid_id, worker_id = uuid.UUID(bytes=grid), uuid.UUID(bytes=worker)
    found = await SERVED_GRID.where(Grid.id == grid_id, Grid.worker_id == worker_id).one_or_none(session_of(ctx))
    if found is None or (found.badge_version or 1) != version:
        raise invalid
    return ScannedBadge(
        grid_id=grid_id,
        grid_name=found.grid_name,
        community_name=found.community_name,
        worker_id=worker_id,
        worker_name=found.worker_name,
    )


async def record_registration(ctx: RequestContext, resident_id: uuid.UUID, badge: ScannedBadge) -> None:
    """Called by the registration itself: who referred the resident, and their worker told."""
    session_of(ctx).add(BadgeRegistration(id=resident_id, worker_id=badge.worker_id, grid_id=badge.grid_id))
    await session_of(ctx).flush()
    await notify(
        ctx,
        [badge.worker_id],
        kind=NotificationKind.RESIDENT_REGISTERED,
        title="居民扫码注册",
        body=f"有居民扫描您的工作牌注册（{badge.grid_name}），请及时核实。",
        subject=Subject(SubjectType.RESIDENT, resident_id),
    )


async def _referrers(ctx: RequestContext, resident_ids: list[uuid.UUID]) -> list[uuid.UUID | None]:
    rows = (
        await session_of(ctx).execute(
            select(BadgeRegistration.id, BadgeRegistration.worker_id).where(BadgeRegistration.id.in_(resident_ids))
        )
    ).all()
    found = {r.id: r.worker_id for r in rows}
    return [found.get(i) for i in resident_ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    referrers = _referrers


async def referrer_of(ctx: RequestContext, resident_id: uuid.UUID) -> uuid.UUID | None:
    """Only reached through a resident the caller could see."""
    return await loader(ctx, Loaders.referrers).load(resident_id)
