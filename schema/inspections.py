"""Inspection rounds (巡检记录): checklists, rounds, findings, and the hazards still open."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from models.inspections import ROUND_LIFECYCLE, FindingOutcome, RoundAction, RoundParty, RoundStatus
from resolvers import complaints, inspections, organisation, people
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
    viewer_can,
)
from schema.cost import cost
from schema.organisation import Grid, Person, person_from_row
from schema.uploads import ATTACHMENT_IDS_DESCRIPTION, download_url, incoming_files

if TYPE_CHECKING:
    from schema.complaints import Complaint

MAX_ITEMS = 50
if TYPE_CHECKING:  # see mirror_enum
    RoundStatusType = RoundStatus
else:
    RoundStatusType = mirror_enum(
        RoundStatus, inspections.STATUS_NAMES, name="InspectionRoundStatus", description="Where a round stands."
    )
if TYPE_CHECKING:  # see mirror_enum
    FindingOutcomeType = FindingOutcome
else:
    FindingOutcomeType = mirror_enum(
        FindingOutcome, inspections.OUTCOME_NAMES, name="InspectionOutcome", description="How an item was found."
    )
ROUND_CAN = viewer_can(
    "InspectionRoundViewerCan",
    "InspectionRound",
    ROUND_LIFECYCLE,
    system=RoundParty.SYSTEM,
    mutations={
        RoundAction.RECORD_ITEM: "recordInspectionRoundItem",
        RoundAction.FINISH: "finishInspectionRound",
        RoundAction.ABANDON: "abandonInspectionRound",
    },
)
InspectionRoundViewerCan = ROUND_CAN.type


@strawberry.type(description="One item of a checklist.")
class ChecklistItem(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    label: str

    @classmethod
    def from_row(cls, row: inspections.ItemRow) -> ChecklistItem:
        return cls(id=row.id, code=row.code, label=row.label)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[ChecklistItem | None]:
        return await nodes_by_id(node_ids, lambda i: inspections.checklist_item(info.context, i), cls.from_row)


@strawberry.type(description="巡检清单: one of the street office's checklists (from its manifest).")
class InspectionChecklist(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    name: str

    @classmethod
    def from_row(cls, row: inspections.ChecklistRow) -> InspectionChecklist:
        return cls(id=row.id, code=row.code, name=row.name)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[InspectionChecklist | None]:
        return await nodes_by_id(node_ids, lambda i: inspections.checklist(info.context, i), cls.from_row)

    @strawberry.field(
        description="Its items in order (a checklist has a few dozen at most).", metadata=cost(items=MAX_ITEMS)
    )
    async def items(self, info: Info) -> list[ChecklistItem]:
        return [ChecklistItem.from_row(row) for row in await inspections.items_of(info.context, self.id)]


@strawberry.type(description="检查项记录: one checklist item as found on a round.")
class InspectionFinding(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    item_label: str
    outcome: FindingOutcomeType
    note: str | None
    longitude: float | None = strawberry.field(description="GCJ-02 longitude where it was recorded.")
    latitude: float | None = strawberry.field(description="GCJ-02 latitude where it was recorded.")
    recorded_at: datetime
    resolved: bool = strawberry.field(
        description="A problem whose complaint is resolved or closed (always true for a fine item)."
    )
    row: strawberry.Private[inspections.FindingRow]

    @classmethod
    def from_row(cls, row: inspections.FindingRow) -> InspectionFinding:
        return cls(
            id=row.id,
            item_label=row.item_label,
            outcome=FindingOutcomeType(row.outcome.value),
            note=row.note,
            longitude=row.longitude,
            latitude=row.latitude,
            recorded_at=shanghai(row.recorded_at),
            resolved=row.complaint_status in inspections.SETTLED if row.complaint_id else True,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[InspectionFinding | None]:
        return await nodes_by_id(node_ids, lambda i: inspections.finding(info.context, i), cls.from_row)

    @strawberry.field(description="The photo (a signed URL), if one was taken.")
    def photo_url(self, info: Info) -> str | None:
        return download_url(info, self.row.storage_key) if self.row.storage_key else None

    @strawberry.field(description="The complaint a problem became, if the caller may see it.")
    async def complaint(self, info: Info) -> Annotated[Complaint, strawberry.lazy("schema.complaints")] | None:
        from schema.complaints import Complaint

        if self.row.complaint_id is None:
            return None
        found = await complaints.complaint(info.context, self.row.complaint_id)
        return Complaint.from_row(info, found) if found else None

    @strawberry.field(description="The round it was recorded on.")
    async def round(self, info: Info) -> InspectionRound | None:
        found = await inspections.inspection_round(info.context, self.row.round_id)
        return InspectionRound.from_row(found) if found else None


@strawberry.type(description="巡检: a grid worker's round of one grid with one checklist.")
class InspectionRound(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    status: RoundStatusType
    checklist_name: str
    started_at: datetime
    ended_at: datetime | None = strawberry.field(description="When it was finished or abandoned.")
    items_total: int
    items_recorded: int
    problems: int = strawberry.field(description="Items found with a problem (each filed as a complaint).")
    problems_resolved: int = strawberry.field(description="Of those, the ones whose complaint is resolved or closed.")
    row: strawberry.Private[inspections.RoundRow]

    @classmethod
    def from_row(cls, row: inspections.RoundRow) -> InspectionRound:
        return cls(
            id=row.id,
            status=RoundStatusType(row.status.value),
            checklist_name=row.checklist_name,
            started_at=shanghai(row.started_at),
            ended_at=shanghai(row.ended_at),
            items_total=row.items_total,
            items_recorded=row.items_recorded,
            problems=row.problems,
            problems_resolved=row.problems_settled,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[InspectionRound | None]:
        return await nodes_by_id(node_ids, lambda i: inspections.inspection_round(info.context, i), cls.from_row)

    @strawberry.field
    async def checklist(self, info: Info) -> InspectionChecklist | None:
        found = await inspections.checklist(info.context, self.row.checklist_id)
        return InspectionChecklist.from_row(found) if found else None

    @strawberry.field
    async def grid(self, info: Info) -> Grid:
        return Grid.from_row(referenced(await organisation.grid(info.context, self.row.grid_id)))

    @strawberry.field(description="The grid worker who walked it.")
    async def worker(self, info: Info) -> Person | None:
        row = await people.person(info.context, self.row.worker_id)
        return person_from_row(info, row) if row else None

    @strawberry.field(description="What was recorded, in order.")
    async def findings(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[InspectionFinding]:
        page = await inspections.findings_of(info.context, self.id, page_request(info, first, after))
        return connection(page, InspectionFinding.from_row)

    @strawberry.field(description="What the caller may do to it now.")
    def viewer_can(self, info: Info) -> InspectionRoundViewerCan:  # type: ignore[valid-type]
        return ROUND_CAN.of(inspections.viewer_can(info.context, self.row))


@strawberry.type(description="One grid's inspections over a period.")
class GridInspectionTally:
    rounds: int = strawberry.field(description="Rounds started in the period.")
    rounds_finished: int
    problems: int = strawberry.field(description="Problems those rounds found.")
    hazards_open: int = strawberry.field(description="Of those, the ones whose complaint is still open.")
    row: strawberry.Private[inspections.GridTallyRow]

    @classmethod
    def from_row(cls, row: inspections.GridTallyRow) -> GridInspectionTally:
        return cls(
            rounds=row.rounds,
            rounds_finished=row.rounds_finished,
            problems=row.problems,
            hazards_open=row.hazards_open,
            row=row,
        )

    @strawberry.field
    async def grid(self, info: Info) -> Grid:
        return Grid.from_row(referenced(await organisation.grid(info.context, self.row.grid_id)))

    @strawberry.field(description="The grid's worker now.")
    async def worker(self, info: Info) -> Person | None:
        if self.row.worker_id is None:
            return None
        row = await people.person(info.context, self.row.worker_id)
        return person_from_row(info, row) if row else None


@strawberry.input(description="Narrows the caller's rounds; a place outside their scope matches none.")
class InspectionRoundFilter:
    worker_id: relay.GlobalID | None = None
    grid_id: relay.GlobalID | None = None
    community_id: relay.GlobalID | None = None
    statuses: list[RoundStatusType] | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None


@strawberry.input
class StartInspectionRoundInput:
    grid_id: relay.GlobalID
    checklist_id: relay.GlobalID


@strawberry.input(description="One item as found; a PROBLEM is filed at once as a complaint in the round's grid.")
class RecordInspectionRoundItemInput:
    round_id: relay.GlobalID
    item_id: relay.GlobalID
    outcome: FindingOutcomeType
    note: str | None = strawberry.field(default=None, description="Required for a problem: what is wrong.")
    longitude: float | None = strawberry.field(default=None, description="GCJ-02, where it was found.")
    latitude: float | None = strawberry.field(default=None, description="GCJ-02, where it was found.")
    building_id: relay.GlobalID | None = strawberry.field(default=None, description="The building it is in, if any.")
    address: str | None = strawberry.field(default=None, description="Where it is, for a problem outside a building.")
    photo: Upload | None = strawberry.field(default=None, description="A photo (GraphQL multipart).")
    photo_id: relay.GlobalID | None = strawberry.field(default=None, description=ATTACHMENT_IDS_DESCRIPTION)


@strawberry.input
class InspectionRoundStepInput:
    round_id: relay.GlobalID


@strawberry.type
class InspectionRoundPayload:
    round: InspectionRound | None
    errors: list[UserError]


def _round_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "InspectionRound", "roundId")


async def _round_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> InspectionRoundPayload:
    outcome = await attempt(info, action)
    row = await inspections.inspection_round(info.context, outcome.value) if outcome.value else None
    return InspectionRoundPayload(round=InspectionRound.from_row(row) if row else None, errors=outcome.errors)


def round_filter(value: InspectionRoundFilter | None) -> inspections.RoundFilter:
    """The list's filter as its use case takes it (also an export's, resolvers.exports)."""
    if value is None:
        return inspections.RoundFilter()
    return inspections.RoundFilter(
        worker_id=decode_id(value.worker_id, "Person", "filter.workerId") if value.worker_id else None,
        grid_id=decode_id(value.grid_id, "Grid", "filter.gridId") if value.grid_id else None,
        community_id=decode_id(value.community_id, "Community", "filter.communityId") if value.community_id else None,
        statuses=tuple(RoundStatus(s.value) for s in value.statuses or ()),
        started_from=value.started_from,
        started_to=value.started_to,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The street office's inspection checklists. Grid workers and admins.")
    async def inspection_checklists(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[InspectionChecklist]:
        page = await inspections.list_checklists(info.context, page_request(info, first, after))
        return connection(page, InspectionChecklist.from_row)

    @strawberry.field(
        description="Inspection rounds in the caller's scope, newest first: per worker, grid, community and time (totalCount counts them)."
    )
    async def inspection_rounds(
        self,
        info: Info,
        filter: InspectionRoundFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[InspectionRound]:
        page = await inspections.list_rounds(info.context, round_filter(filter), page_request(info, first, after))
        return connection(page, InspectionRound.from_row)

    @strawberry.field(
        description="Each grid in the caller's scope (of one community, if given), by code, with the rounds started from `startedFrom` until `startedTo` and what they found: rounds per grid and worker over time."
    )
    async def inspection_tally(
        self,
        info: Info,
        started_from: datetime,
        started_to: datetime,
        community_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[GridInspectionTally]:
        page = await inspections.tally_by_grid(
            info.context,
            decode_id(community_id, "Community", "communityId") if community_id else None,
            started_from,
            started_to,
            page_request(info, first, after),
        )
        return connection(page, GridInspectionTally.from_row)

    @strawberry.field(
        description="Problems found on rounds whose complaints are still open (hazards still there), oldest first."
    )
    async def open_hazards(
        self,
        info: Info,
        grid_id: relay.GlobalID | None = None,
        community_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[InspectionFinding]:
        page = await inspections.open_hazards(
            info.context,
            decode_id(grid_id, "Grid", "gridId") if grid_id else None,
            decode_id(community_id, "Community", "communityId") if community_id else None,
            page_request(info, first, after),
        )
        return connection(page, InspectionFinding.from_row)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A grid worker starts a round in one of their grids with a checklist.")
    async def start_inspection_round(self, info: Info, input: StartInspectionRoundInput) -> InspectionRoundPayload:
        return await _round_payload(
            info,
            lambda: inspections.start_round(
                info.context,
                decode_id(input.grid_id, "Grid", "gridId"),
                decode_id(input.checklist_id, "InspectionChecklist", "checklistId"),
            ),
        )

    @strawberry.mutation(
        description="The round's worker records one item, once: fine, or a problem (note, photo, place), which is filed as a complaint (source INSPECTION) in the round's grid."
    )
    async def record_inspection_round_item(
        self, info: Info, input: RecordInspectionRoundItemInput
    ) -> InspectionRoundPayload:
        draft = inspections.FindingDraft(
            item_id=decode_id(input.item_id, "ChecklistItem", "itemId"),
            outcome=FindingOutcome(input.outcome.value),
            note=input.note,
            longitude=input.longitude,
            latitude=input.latitude,
            building_id=decode_id(input.building_id, "Building", "buildingId") if input.building_id else None,
            address=input.address,
        )
        files = incoming_files(
            [input.photo] if input.photo else [], [input.photo_id] if input.photo_id else [], "photoId"
        )
        return await _round_payload(
            info, lambda: inspections.record_item(info.context, _round_id(input.round_id), draft, files)
        )

    @strawberry.mutation(description="The round's worker finishes it, once every item is recorded.")
    async def finish_inspection_round(self, info: Info, input: InspectionRoundStepInput) -> InspectionRoundPayload:
        return await _round_payload(info, lambda: inspections.finish_round(info.context, _round_id(input.round_id)))

    @strawberry.mutation(description="The round's worker, or an admin over its grid, abandons it.")
    async def abandon_inspection_round(self, info: Info, input: InspectionRoundStepInput) -> InspectionRoundPayload:
        return await _round_payload(info, lambda: inspections.abandon_round(info.context, _round_id(input.round_id)))
