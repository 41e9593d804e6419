"""Contacts and the one-to-one line: a community's contact card, and each grid's worker as their
residents see them.

A verified resident is meant to call their own grid worker (专属网格员): they see that worker's
phone whole (audited, as every whole phone shown to someone else is); everyone else sees it
masked. The grid worker, in turn, sees the phones of their grids' verified residents whole
(resolvers.people.sees_full_contact).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from models.organisation import Building
from models.people import ResidentProfile, ResidentStatus, Role
from resolvers.loaders import loader
from resolvers.people import PersonRow, person
from resolvers.permissions import ANYONE, allowed_to, session_of
from tenants.context import RequestContext
from tenants.manifests import ContactCardSpec


@allowed_to(ANYONE)
async def contact_card(ctx: RequestContext, community_code: str) -> ContactCardSpec | None:
    """Public, from the street office's settings: no statement at all."""
    assert ctx.tenant is not None
    return ctx.tenant.settings.community_contacts.get(community_code)


async def _home_grids(ctx: RequestContext, user_ids: list[uuid.UUID]) -> list[uuid.UUID | None]:
    rows = (
        await session_of(ctx).execute(
            select(ResidentProfile.id, Building.grid_id)
            .join(
                Building,
                (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id),
            )
            .where(ResidentProfile.id.in_(user_ids), ResidentProfile.status == ResidentStatus.VERIFIED)
        )
    ).all()
    found = dict(rows)
    return [found.get(user_id) for user_id in user_ids]


async def is_my_grid(ctx: RequestContext, grid_id: uuid.UUID) -> bool:
    """The caller is a verified resident of this grid (one statement per request, however many
    grids ask)."""
    viewer = ctx.viewer
    if viewer is None or Role.RESIDENT not in viewer.roles:
        return False
    return await loader(ctx, _home_grids).load(viewer.user_id) == grid_id


async def grid_worker(
    ctx: RequestContext, grid_id: uuid.UUID, worker_id: uuid.UUID
) -> tuple[PersonRow, bool | None] | None:
    """The worker of a grid, and whether the caller sees their phone whole because it is their
    own grid worker (None: the usual rules decide)."""
    row = await person(ctx, worker_id)
    if row is None:
        return None
    return row, (True if await is_my_grid(ctx, grid_id) else None)
