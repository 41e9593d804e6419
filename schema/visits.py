"""Home visits (入户走访), care visits due, and visit coverage per grid."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from models.visits import VisitKind
from resolvers import complaints, households, organisation, people, visits
from schema.common import (
    Connection,
    Info,
    ScopedNode,
    UserError,
    attempt,
    connection,
    decode_id,
    mirror_enum,
    nodes_by_id,
    page_request,
    referenced,
    shanghai,
)
from schema.complaints import Complaint
from schema.cost import cost
from schema.organisation import Grid, Person, person_from_row
from schema.uploads import ATTACHMENT_IDS_DESCRIPTION, download_url, incoming_files

if TYPE_CHECKING:
    from schema.households import Household

if TYPE_CHECKING:  # see mirror_enum
    VisitKindType = VisitKind
else:
    VisitKindType = mirror_enum(
        VisitKind,
        visits.KIND_NAMES,
        name="VisitKind",
        description="Why a grid worker called at a household.",
    )


@strawberry.type(description="A photo taken on a visit; its URL is absolute and signed, like a complaint's.")
class VisitPhoto:
    content_type: str
    size: int
    url: str


@strawberry.type(
    description="An issue found on a visit; filed as a complaint on the household's behalf, it links to it."
)
class VisitFinding:
    description: str
    complaint_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The complaint it became, if it did (and the caller may see it).")
    async def complaint(self, info: Info) -> Complaint | None:
        if self.complaint_id is None:
            return None
        row = await complaints.complaint(info.context, self.complaint_id)
        return Complaint.from_row(info, row) if row else None


@strawberry.type(description="入户走访: a grid worker's call at a household. Seen by those who manage the household.")
class HouseholdVisit(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    kind: VisitKindType
    visited_at: datetime
    latitude: float | None = strawberry.field(description="Where it was recorded, GCJ-02.")
    longitude: float | None
    notes: str
    follow_up_on: date | None = strawberry.field(description="When to call again, if agreed.")
    household_id: strawberry.Private[uuid.UUID]
    worker_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: visits.VisitRow) -> HouseholdVisit:
        return cls(
            id=row.id,
            kind=VisitKindType(row.kind),
            visited_at=shanghai(row.visited_at),
            latitude=row.latitude,
            longitude=row.longitude,
            notes=row.notes,
            follow_up_on=row.follow_up_on,
            household_id=row.household_id,
            worker_id=row.worker_id,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[HouseholdVisit | None]:
        return await nodes_by_id(node_ids, lambda i: visits.visit(info.context, i), cls.from_row)

    @strawberry.field
    async def household(self, info: Info) -> Annotated[Household, strawberry.lazy("schema.households")] | None:
        from schema.households import Household

        row = await households.household(info.context, self.household_id)
        return Household.from_row(row) if row else None

    @strawberry.field(description="Who recorded it.")
    async def worker(self, info: Info) -> Person | None:
        row = await people.person(info.context, self.worker_id)
        return person_from_row(info, row) if row else None

    @strawberry.field(metadata=cost(items=20))
    async def findings(self, info: Info) -> list[VisitFinding]:
        rows = await visits.findings_of(info.context, self.id)
        return [VisitFinding(description=r.description, complaint_id=r.complaint_id) for r in rows]

    @strawberry.field(metadata=cost(items=9))
    async def photos(self, info: Info) -> list[VisitPhoto]:
        rows = await visits.photos_of(info.context, self.id)
        return [
            VisitPhoto(content_type=r.content_type, size=r.size, url=download_url(info, r.storage_key)) for r in rows
        ]


@strawberry.type(description="A care household due for a visit by its members' care tags.")
class CareVisitDue:
    every_days: int = strawberry.field(description="Its most demanding tag's frequency.")
    last_visited_at: datetime | None
    due_at: datetime
    overdue: bool
    household_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def household(self, info: Info) -> Annotated[Household, strawberry.lazy("schema.households")] | None:
        from schema.households import Household

        row = await households.household(info.context, self.household_id)
        return Household.from_row(row) if row else None


def care_visit_due(info: Info, row: visits.CareDueRow) -> CareVisitDue:
    return CareVisitDue(
        every_days=row.every_days,
        last_visited_at=shanghai(row.last_visited_at),
        due_at=shanghai(row.due_at),
        overdue=row.due_at <= info.context.clock(),
        household_id=row.household_id,
    )


@strawberry.type(
    description="One grid's visits over a period: households visited out of all, and care visits overdue now."
)
class GridVisitCoverage:
    households: int
    visited: int = strawberry.field(description="Households with at least one visit in the period.")
    care_households: int = strawberry.field(description="Households with a member whose care tag asks for visits.")
    overdue: int = strawberry.field(description="Care households overdue for a visit now.")
    grid_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="visited / households, 0 for a grid without households.")
    def rate(self) -> float:
        return round(self.visited / self.households, 4) if self.households else 0.0

    @strawberry.field
    async def grid(self, info: Info) -> Grid:
        return Grid.from_row(referenced(await organisation.grid(info.context, self.grid_id)))


@strawberry.input
class VisitFilter:
    household_id: relay.GlobalID | None = None
    grid_id: relay.GlobalID | None = None
    worker_id: relay.GlobalID | None = strawberry.field(default=None, description="A Person: who recorded them.")
    kind: VisitKindType | None = None
    since: datetime | None = None
    before: datetime | None = None


def visit_filter(given: VisitFilter | None) -> visits.VisitFilter:
    """The list's filter as its use case takes it (also an export's, resolvers.exports)."""
    if given is None:
        return visits.VisitFilter()
    return visits.VisitFilter(
        household_id=decode_id(given.household_id, "Household", "filter.householdId") if given.household_id else None,
        grid_id=decode_id(given.grid_id, "Grid", "filter.gridId") if given.grid_id else None,
        worker_id=decode_id(given.worker_id, "Person", "filter.workerId") if given.worker_id else None,
        kind=VisitKind(given.kind.value) if given.kind else None,
        since=given.since,
        before=given.before,
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Visits of the households the caller manages (and those they recorded), newest first."
    )
    async def household_visits(
        self, info: Info, filter: VisitFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[HouseholdVisit]:
        page = await visits.list_visits(info.context, visit_filter(filter), page_request(info, first, after))
        return connection(page, HouseholdVisit.from_row)

    @strawberry.field(
        description="Care households of the caller's grids or community due for a visit within `withinDays` (0: overdue now), by household."
    )
    async def care_visits_due(
        self, info: Info, within_days: int = 0, first: int | None = None, after: str | None = None
    ) -> Connection[CareVisitDue]:
        page = await visits.care_visits_due(info.context, page_request(info, first, after), within_days)
        return connection(page, lambda row: care_visit_due(info, row))

    @strawberry.field(
        description="Visit coverage per grid of the caller's scope over [since, before), optionally of one community."
    )
    async def visit_coverage(
        self,
        info: Info,
        since: datetime,
        before: datetime,
        community_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[GridVisitCoverage]:
        community = decode_id(community_id, "Community", "communityId") if community_id else None
        page = await visits.coverage(info.context, community, since, before, page_request(info, first, after))
        return connection(
            page,
            lambda row: GridVisitCoverage(
                households=row.households,
                visited=row.visited,
                care_households=row.care_households,
                overdue=row.overdue,
                grid_id=row.grid_id,
            ),
        )


@strawberry.input(description="An issue found on the visit.")
class VisitFindingInput:
    description: str
    file_as_complaint: bool = strawberry.field(
        default=False, description="File it as a complaint on the household's behalf (source VISIT), linked back."
    )
    category_id: relay.GlobalID | None = strawberry.field(default=None, description="Required to file it.")


@strawberry.input
class RecordHouseholdVisitInput:
    household_id: relay.GlobalID
    kind: VisitKindType
    visited_at: datetime | None = strawberry.field(default=None, description="Now, if left out; up to a month back.")
    latitude: float | None = strawberry.field(default=None, description="GCJ-02, with longitude.")
    longitude: float | None = None
    notes: str = ""
    follow_up_on: date | None = None
    findings: list[VisitFindingInput] = strawberry.field(default_factory=list)
    photos: list[Upload] = strawberry.field(default_factory=list)
    photo_ids: list[relay.GlobalID] = strawberry.field(default_factory=list, description=ATTACHMENT_IDS_DESCRIPTION)


@strawberry.type
class HouseholdVisitPayload:
    visit: HouseholdVisit | None
    errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="入户走访: the grid worker of the household's grid (or an admin over it) records a visit; findings may be filed as complaints."
    )
    async def record_household_visit(self, info: Info, input: RecordHouseholdVisitInput) -> HouseholdVisitPayload:
        async def record() -> uuid.UUID:
            draft = visits.VisitDraft(
                household_id=decode_id(input.household_id, "Household", "householdId"),
                kind=VisitKind(input.kind.value),
                visited_at=input.visited_at,
                latitude=input.latitude,
                longitude=input.longitude,
                notes=input.notes,
                follow_up_on=input.follow_up_on,
                findings=[
                    visits.FindingDraft(
                        description=f.description,
                        file_as_complaint=f.file_as_complaint,
                        category_id=decode_id(f.category_id, "ComplaintCategory", f"findings.{i}.categoryId")
                        if f.category_id
                        else None,
                    )
                    for i, f in enumerate(input.findings)
                ],
            )
            return await visits.record_visit(
                info.context, draft, incoming_files(input.photos, input.photo_ids, "photoIds")
            )

        outcome = await attempt(info, record)
        row = await visits.visit(info.context, outcome.value) if outcome.value else None
        return HouseholdVisitPayload(visit=HouseholdVisit.from_row(row) if row else None, errors=outcome.errors)
