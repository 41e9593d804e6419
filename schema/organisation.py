"""Communities, grids, buildings and departments."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from models.geometry import rings_of
from resolvers import (
    appointments,
    bookings,
    complaints,
    contacts,
    guides,
    inspections,
    organisation,
    people,
    volunteers,
)
from schema.common import Connection, Info, ScopedNode, connection, nodes_by_id, page_request, referenced
from schema.cost import cost

if TYPE_CHECKING:
    from schema.leaders import BuildingLeader


@strawberry.type(description="社区: a neighbourhood committee area of the street office.")
class Community(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    name: str

    @classmethod
    def from_row(cls, row: organisation.CommunityRow) -> Community:
        return cls(id=row.id, code=row.code, name=row.name)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Community | None]:
        return await nodes_by_id(node_ids, lambda i: organisation.community(info.context, i), cls.from_row)

    @strawberry.field(description="The community's grids, by code, each with its worker (the worker cards).")
    async def grids(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Grid]:
        page = await organisation.grids_of_community(info.context, self.id, page_request(info, first, after))
        return connection(page, Grid.from_row)

    @strawberry.field(
        description="Address, office phone, hours and map point; null if the street office gave none. Public."
    )
    async def contact_card(self, info: Info) -> ContactCard | None:
        card = await contacts.contact_card(info.context, self.code)
        if card is None:
            return None
        return ContactCard(
            address=card.address,
            office_phone=card.office_phone,
            office_hours=card.office_hours,
            latitude=card.latitude,
            longitude=card.longitude,
        )


# The domains whose items show people (a complaint's reporter, a booking's resident): a person
# they show the caller is a person node() finds for the caller. A new domain adds its own.
PEOPLE_SHOWN = (
    complaints.people_shown,
    bookings.people_shown,
    appointments.people_shown,
    volunteers.people_shown,
    inspections.people_shown,
    guides.people_shown,
)


@strawberry.type(
    description="A person as the caller is shown them (a reporter, a handler, a grid worker), keyed by the person: the phone is masked unless the caller is the person or an admin over them. `node()` finds a person only for callers shown that person somewhere."
)
class Person(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    phone: str

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Person | None]:
        return await nodes_by_id(
            node_ids,
            lambda i: people.visible_person(info.context, i, PEOPLE_SHOWN),
            lambda row: person_from_row(info, row),
        )


def person_from_row(info: Info, row: people.PersonRow, *, whole: bool | None = None) -> Person:
    """`whole`: the caller's own grid worker, whose phone they see whole (resolvers.contacts)."""
    phone = people.shown_phone(info.context, row.id, row.phone, row.community_id, row.served_by, whole=whole)
    return Person(id=row.id, name=row.name, phone=phone)


async def grid_worker_of(info: Info, grid_id: uuid.UUID, worker_id: uuid.UUID | None) -> Person | None:
    card = await contacts.grid_worker(info.context, grid_id, worker_id) if worker_id is not None else None
    if card is None:
        return None
    row, whole = card
    return person_from_row(info, row, whole=whole)


@strawberry.type(description="A community's contact card (联系我们), as the street office's settings give it.")
class ContactCard:
    address: str
    office_phone: str = strawberry.field(description="The office's landline or service number: public, never masked.")
    office_hours: str = strawberry.field(description="As shown on the office's door.")
    latitude: float | None = strawberry.field(description="The office on a map, GCJ-02 (as Chinese map SDKs use).")
    longitude: float | None = strawberry.field(description="GCJ-02.")


@strawberry.type(
    description="A point on the map in GCJ-02 (the coordinates Chinese map SDKs such as AMap, Tencent Maps and wx.getLocation({type: 'gcj02'}) use), not WGS-84."
)
class GeoPoint:
    longitude: float = strawberry.field(description="GCJ-02 longitude, degrees east.")
    latitude: float = strawberry.field(description="GCJ-02 latitude, degrees north.")


def _rings(boundary: dict[str, Any] | None) -> list[list[GeoPoint]] | None:
    if boundary is None:
        return None
    return [[GeoPoint(longitude=p.longitude, latitude=p.latitude) for p in ring] for ring in rings_of(boundary)]


@strawberry.type(description="网格: the smallest management cell, served by one grid worker.")
class Grid(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    name: str
    community_id: strawberry.Private[uuid.UUID]
    worker_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: organisation.GridRow) -> Grid:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            community_id=row.community_id,
            worker_id=row.worker_id,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Grid | None]:
        return await nodes_by_id(node_ids, lambda i: organisation.grid(info.context, i), cls.from_row)

    @strawberry.field
    async def community(self, info: Info) -> Community:
        return Community.from_row(referenced(await organisation.community(info.context, self.community_id)))

    @strawberry.field(
        description="The grid's outline in GCJ-02, as a GeoJSON Polygon's rings: the outer ring first (closed: its last point repeats the first), then any holes. Null until the street office draws it.",
        metadata=cost(items=200),
    )
    async def boundary(self, info: Info) -> list[list[GeoPoint]] | None:
        row = await organisation.grid(info.context, self.id)
        return _rings(row.boundary) if row else None

    @strawberry.field(
        description="The grid worker (专属网格员); null for anonymous callers or a grid without one. The grid's verified residents see the phone whole, to call them (audited)."
    )
    async def worker(self, info: Info) -> Person | None:
        return await grid_worker_of(info, self.id, self.worker_id)

    @strawberry.field(description="The grid's buildings, by code.")
    async def buildings(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Building]:
        page = await organisation.buildings_of_grid(info.context, self.id, page_request(info, first, after))
        return connection(page, Building.from_row)


@strawberry.type(description="楼栋: a residential building inside a grid.")
class Building(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    name: str
    units: int
    grid_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: organisation.BuildingRow) -> Building:
        return cls(id=row.id, code=row.code, name=row.name, units=row.units, grid_id=row.grid_id)

    @strawberry.field(description="Where the building stands, in GCJ-02; null until the street office places it.")
    async def location(self, info: Info) -> GeoPoint | None:
        row = await organisation.building(info.context, self.id)
        if row is None or row.longitude is None or row.latitude is None:
            return None
        return GeoPoint(longitude=row.longitude, latitude=row.latitude)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Building | None]:
        return await nodes_by_id(node_ids, lambda i: organisation.building(info.context, i), cls.from_row)

    @strawberry.field
    async def grid(self, info: Info) -> Grid:
        return Grid.from_row(referenced(await organisation.grid(info.context, self.grid_id)))

    @strawberry.field(description="楼栋长 serving now, as the board shows them to anyone (names, masked phones).")
    async def leaders(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[BuildingLeader, strawberry.lazy("schema.leaders")]]:
        from schema.leaders import leaders_of_building  # that module builds on this one (Person, Building)

        return await leaders_of_building(info, self.id, first, after)


@strawberry.type(description="职能部门: a government unit that takes dispatched work.")
class Department(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    name: str

    @classmethod
    def from_row(cls, row: organisation.DepartmentRow) -> Department:
        return cls(id=row.id, code=row.code, name=row.name)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Department | None]:
        return await nodes_by_id(node_ids, lambda i: organisation.department(info.context, i), cls.from_row)


@strawberry.type
class Query:
    @strawberry.field(description="The street office's communities, by code. Public.")
    async def communities(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Community]:
        return connection(
            await organisation.list_communities(info.context, page_request(info, first, after)), Community.from_row
        )

    @strawberry.field(description="The street office's departments, by code. Public.")
    async def departments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Department]:
        return connection(
            await organisation.list_departments(info.context, page_request(info, first, after)), Department.from_row
        )
