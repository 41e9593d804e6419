"""Communities, grids, buildings and departments: the tenant's structure.

Names and codes are public inside a tenant (a resident registering picks their building from
these lists); who works a grid is shown to signed-in callers only (see resolvers.people).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, select

from models.organisation import Building, Community, Department, Grid
from resolvers.loaders import batch_by_key, loader, pages_by_parent
from resolvers.pagination import Page, PageRequest, check_page_size, paginate
from resolvers.permissions import ANYONE, allowed_to, session_of
from tenants.context import RequestContext

COMMUNITY = select(Community.id, Community.code, Community.name)
GRID = select(Grid.id, Grid.code, Grid.name, Grid.community_id, Grid.worker_id)
BUILDING = select(Building.id, Building.code, Building.name, Building.units, Building.grid_id)
DEPARTMENT = select(Department.id, Department.code, Department.name)

COMMUNITY_ORDER = (Community.code, Community.id)
GRID_ORDER = (Grid.code, Grid.id)
BUILDING_ORDER = (Building.code, Building.id)
DEPARTMENT_ORDER = (Department.code, Department.id)


def checked(ctx: RequestContext, page: PageRequest) -> PageRequest:
    check_page_size(page.first, ctx.settings.max_page_size)
    return page


@allowed_to(ANYONE)
async def list_communities(ctx: RequestContext, page: PageRequest) -> Page:
    return await paginate(session_of(ctx), COMMUNITY, COMMUNITY_ORDER, checked(ctx, page))


@allowed_to(ANYONE)
async def list_departments(ctx: RequestContext, page: PageRequest) -> Page:
    return await paginate(session_of(ctx), DEPARTMENT, DEPARTMENT_ORDER, checked(ctx, page))


async def _grids_by_community(ctx: RequestContext, ids: list[uuid.UUID], page: PageRequest) -> list[Page]:
    return await pages_by_parent(ctx, GRID, Grid.community_id, GRID_ORDER, page, ids)


async def _buildings_by_grid(ctx: RequestContext, ids: list[uuid.UUID], page: PageRequest) -> list[Page]:
    return await pages_by_parent(ctx, BUILDING, Building.grid_id, BUILDING_ORDER, page, ids)


@allowed_to(ANYONE)
async def grids_of_community(ctx: RequestContext, community_id: uuid.UUID, page: PageRequest) -> Page:
    return await loader(ctx, _grids_by_community, checked(ctx, page)).load(community_id)


@allowed_to(ANYONE)
async def buildings_of_grid(ctx: RequestContext, grid_id: uuid.UUID, page: PageRequest) -> Page:
    return await loader(ctx, _buildings_by_grid, checked(ctx, page)).load(grid_id)


_communities = batch_by_key(COMMUNITY, Community.id)
_grids = batch_by_key(GRID, Grid.id)
_buildings = batch_by_key(BUILDING, Building.id)
_departments = batch_by_key(DEPARTMENT, Department.id)


@allowed_to(ANYONE)
async def community(ctx: RequestContext, community_id: uuid.UUID) -> Row[Any] | None:
    return await loader(ctx, _communities).load(community_id)


@allowed_to(ANYONE)
async def grid(ctx: RequestContext, grid_id: uuid.UUID) -> Row[Any] | None:
    return await loader(ctx, _grids).load(grid_id)


@allowed_to(ANYONE)
async def building(ctx: RequestContext, building_id: uuid.UUID) -> Row[Any] | None:
    return await loader(ctx, _buildings).load(building_id)


@allowed_to(ANYONE)
async def department(ctx: RequestContext, department_id: uuid.UUID) -> Row[Any] | None:
    return await loader(ctx, _departments).load(department_id)
