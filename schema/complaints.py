"""Complaints: categories, submitting, the lifecycle, queues, the public feed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from models.complaints import (
    LIFECYCLE,
    AttachmentKind,
    ComplaintAction,
    ComplaintParty,
    ComplaintSource,
    ComplaintStatus,
)
from resolvers import complaints, inspections, organisation, people
from resolvers.uploads import IncomingFiles
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
from schema.inspections import InspectionRound
from schema.organisation import Building, Community, Department, Grid, Person
from schema.uploads import ATTACHMENT_IDS_DESCRIPTION, download_url, incoming_files

if TYPE_CHECKING:  # see mirror_enum
    ComplaintStatusType = ComplaintStatus
else:
    ComplaintStatusType = mirror_enum(
        ComplaintStatus,
        complaints.STATUS_NAMES,
        name="ComplaintStatus",
        description="Where a complaint stands in its lifecycle.",
    )
if TYPE_CHECKING:  # see mirror_enum
    ComplaintActionType = ComplaintAction
else:
    ComplaintActionType = mirror_enum(
        ComplaintAction,
        complaints.ACTION_NAMES,
        name="ComplaintAction",
        description="A step on a complaint's timeline.",
    )
if TYPE_CHECKING:  # see mirror_enum
    ComplaintSourceType = ComplaintSource
else:
    ComplaintSourceType = mirror_enum(
        ComplaintSource,
        complaints.SOURCE_NAMES,
        name="ComplaintSource",
        description="How a complaint reached the street office.",
    )
if TYPE_CHECKING:  # see mirror_enum
    AttachmentKindType = AttachmentKind
else:
    AttachmentKindType = mirror_enum(
        AttachmentKind, {AttachmentKind.IMAGE: "图片", AttachmentKind.VIDEO: "视频"}, name="AttachmentKind"
    )


COMPLAINT_CAN = viewer_can(
    "ComplaintViewerCan",
    "Complaint",
    LIFECYCLE,
    system=ComplaintParty.SYSTEM,
    mutations={
        ComplaintAction.ACCEPT: "acceptComplaint",
        ComplaintAction.START_WORK: "startComplaintWork",
        ComplaintAction.DISPATCH: "dispatchComplaint",
        ComplaintAction.DEPARTMENT_ACCEPT: "acceptWorkOrder",
        ComplaintAction.RETURN_TO_GRID: "returnComplaintToGrid",
        ComplaintAction.RESOLVE: "resolveComplaint",
        ComplaintAction.REJECT: "rejectComplaint",
        ComplaintAction.REASSIGN: "reassignComplaint",
        ComplaintAction.SUPERVISE: "superviseComplaint",
        ComplaintAction.CONFIRM: "confirmComplaint",
        ComplaintAction.REOPEN: "reopenComplaint",
        ComplaintAction.WITHDRAW: "withdrawComplaint",
    },
)
if TYPE_CHECKING:  # made at run time from the lifecycle (viewer_can)
    ComplaintViewerCan = object
else:
    ComplaintViewerCan = COMPLAINT_CAN.type


if TYPE_CHECKING:  # see mirror_enum
    ComplaintOrderType = complaints.ComplaintOrder
else:
    ComplaintOrderType = mirror_enum(
        complaints.ComplaintOrder,
        complaints.ORDER_NAMES,
        name="ComplaintOrder",
        description="How to sort a list of complaints; a cursor pages on in the order it came from.",
    )


@strawberry.type(description="诉求类别, with the deadlines the street office set for it.")
class ComplaintCategory(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    name: str
    acknowledge_hours: int = strawberry.field(description="Working hours to acknowledge (受理).")
    resolve_days: int = strawberry.field(description="Working days to resolve (办结).")

    @classmethod
    def from_row(cls, row: complaints.CategoryRow) -> ComplaintCategory:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            acknowledge_hours=row.acknowledge_hours,
            resolve_days=row.resolve_days,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[ComplaintCategory | None]:
        return await nodes_by_id(node_ids, lambda i: complaints.category(info.context, i), cls.from_row)


@strawberry.type(
    description="A photo or video of a complaint. Its URL is absolute and signed; it stays the same for a whole signature window (an hour by default), so clients may cache the file, and is valid for one to two windows."
)
class Attachment(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    kind: AttachmentKindType
    content_type: str = strawberry.field(
        description="image/jpeg, image/png, image/webp, image/heic, video/mp4 or video/quicktime."
    )
    size: int = strawberry.field(description="Bytes.")
    url: str

    @classmethod
    def from_row(cls, info: Info, row: complaints.AttachmentRow) -> Attachment:
        return cls(
            id=row.id,
            kind=AttachmentKindType(row.kind),
            content_type=row.content_type,
            size=row.size,
            url=download_url(info, row.storage_key),
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Attachment | None]:
        return await nodes_by_id(
            node_ids, lambda i: complaints.attachment(info.context, i), lambda r: cls.from_row(info, r)
        )


@strawberry.type(description="One step on a complaint's timeline.")
class TimelineEvent:
    action: ComplaintActionType
    actor_name: str | None = strawberry.field(description="Who took the step; null for the system.")
    from_status: ComplaintStatusType | None
    to_status: ComplaintStatusType
    note: str | None
    at: datetime


@strawberry.type(description="诉求: a resident's issue or suggestion, as the caller may see it.")
class Complaint(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    title: str
    content: str
    status: ComplaintStatusType
    source: ComplaintSourceType
    is_public: bool = strawberry.field(description="The resident allows it in the public feed once resolved.")
    category: ComplaintCategory
    grid: Grid
    address: str | None
    latitude: float | None
    longitude: float | None
    resolution: str | None = strawberry.field(description="The handler's reply when resolving.")
    rating: int | None = strawberry.field(description="The resident's 1–5 rating on confirming.")
    feedback: str | None
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    overdue: bool = strawberry.field(description="Open and past its deadline.")
    submitted_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    row: strawberry.Private[complaints.ComplaintRow]

    @classmethod
    def from_row(cls, info: Info, row: complaints.ComplaintRow) -> Complaint:
        return cls(
            id=row.id,
            title=row.title,
            content=row.content,
            status=ComplaintStatusType(row.status),
            source=ComplaintSourceType(row.source),
            is_public=row.is_public,
            category=ComplaintCategory(
                id=row.category_id,
                code=row.category_code,
                name=row.category_name,
                acknowledge_hours=row.category_acknowledge_hours,
                resolve_days=row.category_resolve_days,
            ),
            grid=Grid(
                id=row.grid_id,
                code=row.grid_code,
                name=row.grid_name,
                community_id=row.community_id,
                worker_id=row.grid_worker_id,
            ),
            address=row.address,
            latitude=row.latitude,
            longitude=row.longitude,
            resolution=row.resolution,
            rating=row.rating,
            feedback=row.feedback,
            acknowledge_due_at=shanghai(row.acknowledge_due_at),
            resolve_due_at=shanghai(row.resolve_due_at),
            overdue=complaints.is_overdue(row, info.context.clock()),
            submitted_at=shanghai(row.submitted_at),
            updated_at=shanghai(row.updated_at),
            acknowledged_at=shanghai(row.acknowledged_at),
            resolved_at=shanghai(row.resolved_at),
            closed_at=shanghai(row.closed_at),
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Complaint | None]:
        return await nodes_by_id(
            node_ids, lambda i: complaints.complaint(info.context, i), lambda r: cls.from_row(info, r)
        )

    @strawberry.field(
        description="Who reported it; phone masked unless the caller is that resident, an admin over them or the grid worker handling it (who calls them back). Null for items found on inspection."
    )
    def resident(self, info: Info) -> Person | None:
        row = self.row
        # One outer join: the id, name and phone are there together or not at all.
        if row.resident_id is None or row.resident_name is None or row.resident_phone is None:
            return None
        phone = people.shown_phone(
            info.context, row.resident_id, row.resident_phone, row.community_id, served_by=row.handler_id
        )
        return Person(id=row.resident_id, name=row.resident_name, phone=phone)

    @strawberry.field(description="The inspection round it was found on (source INSPECTION), if the caller may see it.")
    async def inspection_round(self, info: Info) -> InspectionRound | None:
        found = await inspections.round_of_complaint(info.context, self.id)
        return InspectionRound.from_row(found) if found else None

    @strawberry.field(description="What the caller may do to it now.")
    def viewer_can(self, info: Info) -> ComplaintViewerCan:
        return COMPLAINT_CAN.of(complaints.viewer_can(info.context, self.row))

    @strawberry.field(description="The grid worker handling it.")
    def handler(self, info: Info) -> Person | None:
        row = self.row
        if row.handler_id is None or row.handler_name is None or row.handler_phone is None:  # as for resident
            return None
        return Person(
            id=row.handler_id,
            name=row.handler_name,
            phone=people.shown_phone(info.context, row.handler_id, row.handler_phone),
        )

    @strawberry.field
    async def community(self, info: Info) -> Community:
        return Community.from_row(referenced(await organisation.community(info.context, self.row.community_id)))

    @strawberry.field
    async def building(self, info: Info) -> Building | None:
        if self.row.building_id is None:
            return None
        return Building.from_row(referenced(await organisation.building(info.context, self.row.building_id)))

    @strawberry.field(description="The department it is dispatched to as a work order.")
    async def department(self, info: Info) -> Department | None:
        if self.row.department_id is None:
            return None
        return Department.from_row(referenced(await organisation.department(info.context, self.row.department_id)))

    @strawberry.field(description="Every step so far, oldest first.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[TimelineEvent]:
        page = await complaints.timeline(info.context, self.id, page_request(info, first, after))
        return connection(
            page,
            lambda e: TimelineEvent(
                action=ComplaintActionType(e.action),
                actor_name=e.actor_name,
                from_status=ComplaintStatusType(e.from_status) if e.from_status else None,
                to_status=ComplaintStatusType(e.to_status),
                note=e.note,
                at=shanghai(e.created_at),
            ),
        )

    # Up to 9 with the complaint and 9 with each step that carries photos; rarely more than 30.
    @strawberry.field(description="Photos and videos of the complaint and of its steps.", metadata=cost(items=30))
    async def attachments(self, info: Info) -> list[Attachment]:
        return [Attachment.from_row(info, row) for row in await complaints.attachments(info.context, self.id)]


@strawberry.type(description="A resolved complaint in the public feed (晒一晒), without who reported it.")
class PublicComplaint:
    title: str
    content: str
    category_name: str
    resolution: str | None
    resolved_at: datetime | None
    rating: int | None


@strawberry.type
class StatusCount:
    status: ComplaintStatusType
    count: int


@strawberry.type(description="Counts of the caller's complaints, for a badge.")
class ComplaintCounts:
    by_status: list[StatusCount] = strawberry.field(metadata=cost(items=len(ComplaintStatus)))
    overdue: int
    total: int


@strawberry.input(
    description="Narrows a list of complaints; every field is optional, and the caller's scope always applies (a place outside it matches nothing)."
)
class ComplaintFilter:
    statuses: list[ComplaintStatusType] | None = None
    sources: list[ComplaintSourceType] | None = None
    community_id: relay.GlobalID | None = None
    grid_id: relay.GlobalID | None = None
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Work orders dispatched to this department."
    )
    category_id: relay.GlobalID | None = None
    overdue: bool | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    # A text search may read many of the caller's complaints for one page: a short or common word
    # is matched on the rows the list walks (resolvers.complaints.search_condition).
    search: str | None = strawberry.field(
        default=None, description="Words in the title or content.", metadata=cost(weight=100)
    )


def complaint_filter(value: ComplaintFilter | None) -> complaints.Filter:
    if value is None:
        return complaints.Filter()
    return complaints.Filter(
        statuses=tuple(ComplaintStatus(s.value) for s in value.statuses or ()),
        sources=tuple(ComplaintSource(s.value) for s in value.sources or ()),
        community_id=_optional_id(value.community_id, "Community", "filter.communityId"),
        grid_id=_optional_id(value.grid_id, "Grid", "filter.gridId"),
        department_id=_optional_id(value.department_id, "Department", "filter.departmentId"),
        category_id=_optional_id(value.category_id, "ComplaintCategory", "filter.categoryId"),
        overdue=value.overdue,
        submitted_from=value.submitted_from,
        submitted_to=value.submitted_to,
        search=value.search,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The street office's complaint categories. Public.")
    async def complaint_categories(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ComplaintCategory]:
        return connection(
            await complaints.list_categories(info.context, page_request(info, first, after)), ComplaintCategory.from_row
        )

    @strawberry.field(
        description="The caller's complaints: a resident's own, a grid worker's grids, a department's work orders, an admin's community or street office."
    )
    async def complaints(
        self,
        info: Info,
        filter: ComplaintFilter | None = None,
        order: ComplaintOrderType = ComplaintOrderType.DEADLINE,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Complaint]:
        page = await complaints.list_complaints(
            info.context,
            complaint_filter(filter),
            page_request(info, first, after),
            complaints.ComplaintOrder(order.value),
        )
        return connection(page, lambda row: Complaint.from_row(info, row))

    @strawberry.field(
        description="How many of the caller's complaints are in each status, and how many are overdue.",
        metadata=cost(weight=100),  # counts every complaint in the caller's scope
    )
    async def complaint_counts(self, info: Info) -> ComplaintCounts:
        by_status, overdue = await complaints.counts_by_status(info.context)
        return ComplaintCounts(
            by_status=[StatusCount(status=ComplaintStatusType(s.value), count=n) for s, n in sorted(by_status.items())],
            overdue=overdue,
            total=sum(by_status.values()),
        )

    @strawberry.field(description="晒一晒: a community's resolved complaints shown publicly, newest first. Public.")
    async def public_complaints(
        self, info: Info, community_id: relay.GlobalID, first: int | None = None, after: str | None = None
    ) -> Connection[PublicComplaint]:
        page = await complaints.public_feed(
            info.context, decode_id(community_id, "Community", "communityId"), page_request(info, first, after)
        )
        return connection(
            page,
            lambda r: PublicComplaint(
                title=r.title,
                content=r.content,
                category_name=r.category_name,
                resolution=r.resolution,
                resolved_at=shanghai(r.resolved_at),
                rating=r.rating,
            ),
        )


# --- mutations -------------------------------------------------------------------------------


@strawberry.input(description="All of a category's settings, as the tenant admin's form sends them.")
class UpdateComplaintCategoryInput:
    category_id: relay.GlobalID
    name: str
    acknowledge_hours: int = strawberry.field(description="1–720 working hours.")
    resolve_days: int = strawberry.field(description="1–365 working days.")
    default_department_id: relay.GlobalID | None = None


@strawberry.type
class ComplaintCategoryPayload:
    category: ComplaintCategory | None
    errors: list[UserError]


@strawberry.type
class ComplaintPayload:
    complaint: Complaint | None
    errors: list[UserError]


async def _respond(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> ComplaintPayload:
    outcome = await attempt(info, action)
    node = None
    if outcome.value is not None:
        row = await complaints.complaint(info.context, outcome.value)
        node = Complaint.from_row(info, row) if row else None
    return ComplaintPayload(complaint=node, errors=outcome.errors)


def _complaint_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "Complaint", "complaintId")


def _optional_id(value: relay.GlobalID | None, type_name: str, field: str) -> uuid.UUID | None:
    return decode_id(value, type_name, field) if value is not None else None


@strawberry.input(
    description="What the problem is and where. Without a building, give an address and the grid it is in; with neither, the resident's own building is used."
)
class ComplaintDraftInput:
    title: str = strawberry.field(description="At most 50 characters.")
    content: str = strawberry.field(description="At most 1000 characters.")
    category_id: relay.GlobalID
    building_id: relay.GlobalID | None = None
    address: str | None = None
    grid_id: relay.GlobalID | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_public: bool = False
    attachments: list[Upload] = strawberry.field(
        default_factory=list,
        description="Photos (JPEG, PNG, WebP, HEIC) and short videos (MP4, MOV), sent as a GraphQL multipart request.",
    )
    attachment_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description=ATTACHMENT_IDS_DESCRIPTION
    )


def _draft(value: ComplaintDraftInput) -> complaints.Draft:
    return complaints.Draft(
        title=value.title,
        content=value.content,
        category_id=decode_id(value.category_id, "ComplaintCategory", "categoryId"),
        building_id=_optional_id(value.building_id, "Building", "buildingId"),
        address=value.address,
        grid_id=_optional_id(value.grid_id, "Grid", "gridId"),
        latitude=value.latitude,
        longitude=value.longitude,
        is_public=value.is_public,
    )


def _files(value: ComplaintDraftInput | ResolveComplaintInput) -> IncomingFiles:
    return incoming_files(value.attachments, value.attachment_ids)


@strawberry.input
class SubmitComplaintInput:
    complaint: ComplaintDraftInput


@strawberry.input
class FileComplaintInput:
    complaint: ComplaintDraftInput
    source: ComplaintSourceType = strawberry.field(description="PHONE, VISIT or INSPECTION.")
    resident_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The resident it is filed for; none for an inspection finding."
    )


@strawberry.input
class ComplaintStepInput:
    complaint_id: relay.GlobalID


@strawberry.input
class ResolveComplaintInput:
    complaint_id: relay.GlobalID
    reply: str = strawberry.field(description="What was done; the resident sees it.")
    attachments: list[Upload] = strawberry.field(default_factory=list)
    attachment_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description=ATTACHMENT_IDS_DESCRIPTION
    )


@strawberry.input
class ComplaintReasonInput:
    complaint_id: relay.GlobalID
    reason: str = strawberry.field(description="Shown to the people concerned.")


@strawberry.input
class DispatchComplaintInput:
    complaint_id: relay.GlobalID
    department_id: relay.GlobalID
    due_in_working_days: int = strawberry.field(description="The work order's deadline, 1–60 working days from now.")
    note: str | None = None


@strawberry.input
class ReassignComplaintInput:
    complaint_id: relay.GlobalID
    grid_id: relay.GlobalID = strawberry.field(description="The grid (and so the grid worker) to take it over.")
    note: str | None = None


@strawberry.input
class SuperviseComplaintInput:
    complaint_id: relay.GlobalID
    note: str
    due_in_working_days: int = strawberry.field(description="The new deadline, 1–60 working days from now.")


@strawberry.input
class ConfirmComplaintInput:
    complaint_id: relay.GlobalID
    rating: int = strawberry.field(description="1–5.")
    comment: str | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A tenant admin edits a complaint category: its name, deadlines and default department."
    )
    async def update_complaint_category(
        self, info: Info, input: UpdateComplaintCategoryInput
    ) -> ComplaintCategoryPayload:
        outcome = await attempt(
            info,
            lambda: complaints.update_category(
                info.context,
                decode_id(input.category_id, "ComplaintCategory", "categoryId"),
                name=input.name,
                acknowledge_hours=input.acknowledge_hours,
                resolve_days=input.resolve_days,
                default_department_id=_optional_id(input.default_department_id, "Department", "defaultDepartmentId"),
            ),
        )
        row = await complaints.category(info.context, outcome.value) if outcome.value else None
        return ComplaintCategoryPayload(
            category=ComplaintCategory.from_row(row) if row else None, errors=outcome.errors
        )

    @strawberry.mutation(
        description="A resident reports a problem, with photos or a short video. Goes to the grid worker of the place."
    )
    async def submit_complaint(self, info: Info, input: SubmitComplaintInput) -> ComplaintPayload:
        return await _respond(
            info,
            lambda: complaints.submit(info.context, _draft(input.complaint), _files(input.complaint)),
        )

    @strawberry.mutation(
        description="A grid worker or admin files a complaint heard by phone or on a visit, or found on an inspection."
    )
    async def file_complaint(self, info: Info, input: FileComplaintInput) -> ComplaintPayload:
        return await _respond(
            info,
            lambda: complaints.file_on_behalf(
                info.context,
                _draft(input.complaint),
                _files(input.complaint),
                resident_id=_optional_id(input.resident_id, "Resident", "residentId"),
                source=ComplaintSource(input.source.value),
            ),
        )

    @strawberry.mutation(description="The grid worker takes the complaint (受理).")
    async def accept_complaint(self, info: Info, input: ComplaintStepInput) -> ComplaintPayload:
        return await _respond(info, lambda: complaints.accept(info.context, _complaint_id(input.complaint_id)))

    @strawberry.mutation(description="The handler starts working on it.")
    async def start_complaint_work(self, info: Info, input: ComplaintStepInput) -> ComplaintPayload:
        return await _respond(info, lambda: complaints.start_work(info.context, _complaint_id(input.complaint_id)))

    @strawberry.mutation(description="Department staff sign for a dispatched work order (签收).")
    async def accept_work_order(self, info: Info, input: ComplaintStepInput) -> ComplaintPayload:
        return await _respond(
            info, lambda: complaints.department_accept(info.context, _complaint_id(input.complaint_id))
        )

    @strawberry.mutation(description="The resident withdraws it before it is accepted.")
    async def withdraw_complaint(self, info: Info, input: ComplaintStepInput) -> ComplaintPayload:
        return await _respond(info, lambda: complaints.withdraw(info.context, _complaint_id(input.complaint_id)))

    @strawberry.mutation(description="The handler or an admin declines it, with a reason the resident sees.")
    async def reject_complaint(self, info: Info, input: ComplaintReasonInput) -> ComplaintPayload:
        return await _respond(
            info, lambda: complaints.reject(info.context, _complaint_id(input.complaint_id), input.reason)
        )

    @strawberry.mutation(description="Department staff send a work order back to the grid worker, with a reason.")
    async def return_complaint_to_grid(self, info: Info, input: ComplaintReasonInput) -> ComplaintPayload:
        return await _respond(
            info, lambda: complaints.return_to_grid(info.context, _complaint_id(input.complaint_id), input.reason)
        )

    @strawberry.mutation(
        description="An unsatisfied resident sends a resolved complaint back, within the street office's window."
    )
    async def reopen_complaint(self, info: Info, input: ComplaintReasonInput) -> ComplaintPayload:
        return await _respond(
            info, lambda: complaints.reopen(info.context, _complaint_id(input.complaint_id), input.reason)
        )

    @strawberry.mutation(
        description="The handler (or, for a work order, department staff) resolves it with a reply and photos."
    )
    async def resolve_complaint(self, info: Info, input: ResolveComplaintInput) -> ComplaintPayload:
        return await _respond(
            info,
            lambda: complaints.resolve(info.context, _complaint_id(input.complaint_id), input.reply, _files(input)),
        )

    @strawberry.mutation(
        description="立项派单: make it a work order for a department, with a deadline in working days."
    )
    async def dispatch_complaint(self, info: Info, input: DispatchComplaintInput) -> ComplaintPayload:
        return await _respond(
            info,
            lambda: complaints.dispatch(
                info.context,
                _complaint_id(input.complaint_id),
                decode_id(input.department_id, "Department", "departmentId"),
                input.due_in_working_days,
                input.note,
            ),
        )

    @strawberry.mutation(description="An admin moves it to another grid and its grid worker.")
    async def reassign_complaint(self, info: Info, input: ReassignComplaintInput) -> ComplaintPayload:
        return await _respond(
            info,
            lambda: complaints.reassign(
                info.context, _complaint_id(input.complaint_id), decode_id(input.grid_id, "Grid", "gridId"), input.note
            ),
        )

    @strawberry.mutation(description="督办: an admin's note and a new deadline for whoever holds it.")
    async def supervise_complaint(self, info: Info, input: SuperviseComplaintInput) -> ComplaintPayload:
        return await _respond(
            info,
            lambda: complaints.supervise(
                info.context, _complaint_id(input.complaint_id), input.note, input.due_in_working_days
            ),
        )

    @strawberry.mutation(description="The resident confirms the outcome and rates it 1–5; the complaint closes.")
    async def confirm_complaint(self, info: Info, input: ConfirmComplaintInput) -> ComplaintPayload:
        return await _respond(
            info,
            lambda: complaints.confirm(info.context, _complaint_id(input.complaint_id), input.rating, input.comment),
        )
