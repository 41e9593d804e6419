"""Communities, grids, buildings and departments: the tenant's structure.

Names and codes are public inside a tenant (a resident registering picks their building from
these lists); who works a grid is shown to signed-in callers only (see resolvers.people).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from models.organisation import Building, Community, Department, Grid
from resolvers.compiled import Listing
from resolvers.loaders import batch_by_key, loader, pages_by_parent
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ANYONE, allowed_to
from resolvers.rows import Selection
from tenants.context import RequestContext


@dataclass(frozen=True, slots=True)
class CommunityRow:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class GridRow:
    id: uuid.UUID
    code: str
    name: str
    community_id: uuid.UUID
    worker_id: uuid.UUID | None
    boundary: dict[str, Any] | None  # GeoJSON Polygon, GCJ-02


@dataclass(frozen=True, slots=True)
class BuildingRow:
    id: uuid.UUID
    code: str
    name: str
    units: int
    grid_id: uuid.UUID
    longitude: float | None  # GCJ-02
    latitude: float | None


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    id: uuid.UUID
    code: str
    name: str


COMMUNITY = Selection(CommunityRow, select(Community.id, Community.code, Community.name))
GRID = Selection(GridRow, select(Grid.id, Grid.code, Grid.name, Grid.community_id, Grid.worker_id, Grid.boundary))
BUILDING = Selection(
    BuildingRow,
    select(
        Building.id,
        Building.code,
        Building.name,
        Building.units,
        Building.grid_id,
        Building.longitude,
        Building.latitude,
    ),
)
DEPARTMENT = Selection(DepartmentRow, select(Department.id, Department.code, Department.name))

COMMUNITY_ORDER = (Community.code, Community.id)
GRID_ORDER = (Grid.code, Grid.id)
BUILDING_ORDER = (Building.code, Building.id)
DEPARTMENT_ORDER = (Department.code, Department.id)


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    communities = batch_by_key(COMMUNITY, Community.id)
    grids = batch_by_key(GRID, Grid.id)
    buildings = batch_by_key(BUILDING, Building.id)
    departments = batch_by_key(DEPARTMENT, Department.id)
    grids_of_communities = pages_by_parent(GRID, Grid.community_id, GRID_ORDER)
    buildings_of_grids = pages_by_parent(BUILDING, Building.grid_id, BUILDING_ORDER)


@allowed_to(ANYONE)
async def list_communities(ctx: RequestContext, page: PageRequest) -> Page[CommunityRow]:
    return await paginate(ctx, COMMUNITY, COMMUNITY_ORDER, page)


@allowed_to(ANYONE)
async def list_departments(ctx: RequestContext, page: PageRequest) -> Page[DepartmentRow]:
    return await paginate(ctx, DEPARTMENT, DEPARTMENT_ORDER, page)


@allowed_to(ANYONE)
async def grids_of_community(ctx: RequestContext, community_id: uuid.UUID, page: PageRequest) -> Page[GridRow]:
    return await loader(ctx, Loaders.grids_of_communities, checked(ctx, page)).load(community_id)


@allowed_to(ANYONE)
async def buildings_of_grid(ctx: RequestContext, grid_id: uuid.UUID, page: PageRequest) -> Page[BuildingRow]:
    return await loader(ctx, Loaders.buildings_of_grids, checked(ctx, page)).load(grid_id)


@allowed_to(ANYONE)
async def community(ctx: RequestContext, community_id: uuid.UUID) -> CommunityRow | None:
    return await loader(ctx, Loaders.communities).load(community_id)


@allowed_to(ANYONE)
async def grid(ctx: RequestContext, grid_id: uuid.UUID) -> GridRow | None:
    return await loader(ctx, Loaders.grids).load(grid_id)


@allowed_to(ANYONE)
async def building(ctx: RequestContext, building_id: uuid.UUID) -> BuildingRow | None:
    return await loader(ctx, Loaders.buildings).load(building_id)


@allowed_to(ANYONE)
async def department(ctx: RequestContext, department_id: uuid.UUID) -> DepartmentRow | None:
    return await loader(ctx, Loaders.departments).load(department_id)


# The lists as compiled reads may build them (resolvers.compiled): the same selections and
# orders as the use cases above page them with, for the callers those admit.
COMMUNITIES = Listing(COMMUNITY, COMMUNITY_ORDER, list_communities)
DEPARTMENTS = Listing(DEPARTMENT, DEPARTMENT_ORDER, list_departments)
GRIDS_OF_COMMUNITY = Listing(GRID, GRID_ORDER, grids_of_community, parent=Grid.community_id)
BUILDINGS_OF_GRID = Listing(BUILDING, BUILDING_ORDER, buildings_of_grid, parent=Building.grid_id)
