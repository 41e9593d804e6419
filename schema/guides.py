"""Service guides (便民服务): the catalogue, its search, applications made online (办理) through
their review levels, and community certificates anyone can check."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.guides import (
    APPLICATION_LIFECYCLE,
    CHECK_PATH,
    GUIDE_LIFECYCLE,
    LEVELS,
    SEARCH_MAX,
    ApplicationAction,
    ApplicationParty,
    ApplicationStatus,
    GuideAction,
    GuideKind,
    GuideStatus,
    ReviewLevel,
    display_code,
)
from resolvers import guides, organisation, people
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
    shanghai,
    viewer_can,
)
from schema.cost import cost
from schema.organisation import Department, Person
from schema.uploads import ATTACHMENT_IDS_DESCRIPTION, UPLOAD_ID_TYPE, download_url

if TYPE_CHECKING:  # see mirror_enum
    GuideKindType = GuideKind
else:
    GuideKindType = mirror_enum(
        GuideKind, guides.KIND_NAMES, name="ServiceGuideKind", description="The six kinds of the 便民服务 catalogue."
    )
if TYPE_CHECKING:  # see mirror_enum
    ReviewLevelType = ReviewLevel
else:
    ReviewLevelType = mirror_enum(
        ReviewLevel, guides.LEVEL_NAMES, name="ServiceReviewLevel", description="Who reviews an application at a level."
    )
if TYPE_CHECKING:  # see mirror_enum
    GuideStatusType = GuideStatus
else:
    GuideStatusType = mirror_enum(
        GuideStatus, guides.GUIDE_STATUS_NAMES, name="ServiceGuideStatus", description="Whether a guide is shown."
    )
if TYPE_CHECKING:  # see mirror_enum
    ApplicationStatusType = ApplicationStatus
else:
    ApplicationStatusType = mirror_enum(
        ApplicationStatus,
        guides.APPLICATION_STATUS_NAMES,
        name="ServiceApplicationStatus",
        description="Where an application stands.",
    )
if TYPE_CHECKING:  # see mirror_enum
    ApplicationActionType = ApplicationAction
else:
    ApplicationActionType = mirror_enum(
        ApplicationAction,
        guides.APPLICATION_ACTION_NAMES,
        name="ServiceApplicationAction",
        description="A step on an application's timeline.",
    )

GUIDE_CAN = viewer_can(
    "ServiceGuideViewerCan",
    "ServiceGuide",
    GUIDE_LIFECYCLE,
    mutations={
        GuideAction.EDIT: "updateServiceGuide",
        GuideAction.PUBLISH: "publishServiceGuide",
        GuideAction.UNPUBLISH: "unpublishServiceGuide",
    },
)
if TYPE_CHECKING:  # made at run time from the lifecycle (viewer_can)
    ServiceGuideViewerCan = object
else:
    ServiceGuideViewerCan = GUIDE_CAN.type
APPLICATION_CAN = viewer_can(
    "ServiceApplicationViewerCan",
    "ServiceApplication",
    APPLICATION_LIFECYCLE,
    system=ApplicationParty.SYSTEM,
    mutations={
        ApplicationAction.FORWARD: "forwardServiceApplication",
        ApplicationAction.APPROVE: "approveServiceApplication",
        ApplicationAction.RETURN: "sendBackServiceApplication",
        ApplicationAction.REJECT: "rejectServiceApplication",
        ApplicationAction.RESUBMIT: "resubmitServiceApplication",
        ApplicationAction.WITHDRAW: "withdrawServiceApplication",
        ApplicationAction.REVOKE: "revokeServiceCertificate",
    },
)
if TYPE_CHECKING:  # made at run time from the lifecycle (viewer_can)
    ServiceApplicationViewerCan = object
else:
    ServiceApplicationViewerCan = APPLICATION_CAN.type

PLAIN_TEXT = "Plain text, as written: show it as text, never as markup."


@strawberry.type(description="One version of a guide's text (editors only).")
class ServiceGuideVersion:
    number: int
    title: str
    editor_name: str | None
    created_at: datetime
    published: bool = strawberry.field(description="The version readers see now.")


@strawberry.type(
    description=f"便民服务: an administrative service guide. Public once published; tenant admins read the newest version. Every text field is plain text. {PLAIN_TEXT}"
)
class ServiceGuide(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    kind: GuideKindType
    status: GuideStatusType
    title: str
    summary: str
    conditions: str = strawberry.field(description="办理条件.")
    materials: list[str] = strawberry.field(description="所需材料: an application brings files for each.")
    steps: list[str] = strawberry.field(description="办理流程, in order.")
    where_to_go: str
    office_hours: str
    phone: str
    fees: str
    time_limit_days: int = strawberry.field(description="办理时限 in working days (0: on the spot).")
    version: int = strawberry.field(description="The number of the version shown.")
    has_unpublished_changes: bool = strawberry.field(description="A newer version than the published one exists.")
    published_at: datetime | None
    updated_at: datetime
    review_levels: list[ReviewLevelType] = strawberry.field(
        description="The levels an application passes, in order (none: not applied for online)."
    )
    row: strawberry.Private[guides.GuideRow]

    @classmethod
    def from_row(cls, row: guides.GuideRow) -> ServiceGuide:
        return cls(
            id=row.id,
            kind=GuideKindType(row.kind.value),
            status=GuideStatusType(row.status.value),
            title=row.title,
            summary=row.summary,
            conditions=row.conditions,
            materials=list(row.materials),
            steps=list(row.steps),
            where_to_go=row.where_to_go,
            office_hours=row.office_hours,
            phone=row.phone,
            fees=row.fees,
            time_limit_days=row.time_limit_days,
            version=row.number,
            has_unpublished_changes=row.published_version != row.latest_version,
            published_at=shanghai(row.published_at),
            updated_at=shanghai(row.updated_at),
            review_levels=[ReviewLevelType(level.value) for level in LEVELS[row.kind]],
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[ServiceGuide | None]:
        return await nodes_by_id(node_ids, lambda i: guides.guide(info.context, i), cls.from_row)

    @strawberry.field(description="三级审批: the department that gives the last approval.")
    async def department(self, info: Info) -> Department | None:
        if self.row.department_id is None:
            return None
        found = await organisation.department(info.context, self.row.department_id)
        return Department.from_row(found) if found else None

    @strawberry.field(description="`applyForService` would accept the caller's application now.")
    def can_apply(self, info: Info) -> bool:
        return guides.may_apply(info.context, self.row)

    @strawberry.field(description="What the caller may do to the guide now.")
    def viewer_can(self, info: Info) -> ServiceGuideViewerCan:
        return GUIDE_CAN.of(guides.guide_viewer_can(info.context, self.row))

    @strawberry.field(description="Every version, oldest first: for tenant admins, null for anyone else.")
    async def versions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ServiceGuideVersion] | None:
        page = await guides.versions(info.context, self.id, page_request(info, first, after))
        if page is None:
            return None
        published = self.row.published_version
        return connection(
            page,
            lambda v: ServiceGuideVersion(
                number=v.number,
                title=v.title,
                editor_name=v.editor_name,
                created_at=shanghai(v.created_at),
                published=v.number == published and self.row.status is GuideStatus.PUBLISHED,
            ),
        )


@strawberry.type(description="A photo of a required material.")
class ServiceApplicationFile:
    content_type: str
    size: int
    uploaded_at: datetime
    url: str = strawberry.field(description="Absolute and signed, as attachments' URLs are.")


@strawberry.type(description="One required material and the files given for it.")
class ServiceApplicationMaterial:
    name: str
    # A submission takes up to WANJIA_MAX_ATTACHMENTS a material; resubmissions add a few more.
    files: list[ServiceApplicationFile] = strawberry.field(metadata=cost(items=20))


@strawberry.type(description="One step on an application's timeline.")
class ServiceApplicationEvent:
    action: ApplicationActionType
    level: ReviewLevelType = strawberry.field(description="The level the application was at.")
    actor_name: str | None
    from_status: ApplicationStatusType | None
    to_status: ApplicationStatusType
    note: str | None
    at: datetime


@strawberry.type(description="社区证明: the certificate an approved community certificate application ends in.")
class ServiceCertificate:
    code: str = strawberry.field(description="Printed under its QR code; `verifyCertificate` checks it.")
    title: str
    holder_name: str
    issuer: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    pdf_url: str = strawberry.field(
        description="The PDF (Chinese font embedded), signed, for its holder and reviewers."
    )


@strawberry.type(
    description="An application made online (办理). Seen by its applicant, their community's admins, the street office's tenant admins, and (once it reaches them) the staff of the department the guide names."
)
class ServiceApplication(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    status: ApplicationStatusType
    level: ReviewLevelType = strawberry.field(description="The level that holds it (or decided it).")
    review_levels: list[ReviewLevelType] = strawberry.field(description="Every level it passes, in order.")
    guide_title: str
    purpose: str = strawberry.field(description=f"办理用途. {PLAIN_TEXT}")
    reason: str | None = strawberry.field(description="Why it was returned or rejected.")
    submitted_at: datetime
    due_at: datetime | None = strawberry.field(
        description="The guide's time limit in working days from the (re)submission."
    )
    overdue: bool
    decided_at: datetime | None
    updated_at: datetime
    row: strawberry.Private[guides.ApplicationRow]

    @classmethod
    def from_row(cls, info: Info, row: guides.ApplicationRow) -> ServiceApplication:
        return cls(
            id=row.id,
            status=ApplicationStatusType(row.status.value),
            level=ReviewLevelType(row.level.value),
            review_levels=[ReviewLevelType(level.value) for level in LEVELS[row.kind]],
            guide_title=row.guide_title,
            purpose=row.purpose,
            reason=row.reason,
            submitted_at=shanghai(row.submitted_at),
            due_at=shanghai(row.due_at) if row.status is ApplicationStatus.IN_REVIEW else None,
            overdue=guides.is_overdue(row, info.context.clock()),
            decided_at=shanghai(row.decided_at),
            updated_at=shanghai(row.updated_at),
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[ServiceApplication | None]:
        return await nodes_by_id(
            node_ids, lambda i: guides.application(info.context, i), lambda r: cls.from_row(info, r)
        )

    @strawberry.field
    def applicant(self, info: Info) -> Person:
        phone = people.shown_phone(info.context, self.row.applicant_id, self.row.applicant_phone, self.row.community_id)
        return Person(id=self.row.applicant_id, name=self.row.applicant_name, phone=phone)

    @strawberry.field(description="The guide, while the caller may read it.")
    async def guide(self, info: Info) -> ServiceGuide | None:
        found = await guides.guide(info.context, self.row.guide_id)
        return ServiceGuide.from_row(found) if found else None

    @strawberry.field(
        description="The guide's required materials (as of the application) with their files.",
        metadata=cost(items=20),
    )
    async def materials(self, info: Info) -> list[ServiceApplicationMaterial]:
        files = await guides.files(info.context, self.id)
        return [
            ServiceApplicationMaterial(
                name=name,
                files=[
                    ServiceApplicationFile(
                        content_type=f.content_type,
                        size=f.size,
                        uploaded_at=shanghai(f.created_at),
                        url=download_url(info, f.storage_key),
                    )
                    for f in files
                    if f.material == name
                ],
            )
            for name in self.row.materials
        ]

    @strawberry.field(description="Its certificate, once a 社区证明 is approved.")
    async def certificate(self, info: Info) -> ServiceCertificate | None:
        found = await guides.certificate(info.context, self.id)
        if found is None:
            return None
        return ServiceCertificate(
            code=display_code(found.code),
            title=found.title,
            holder_name=found.holder_name,
            issuer=found.issuer,
            issued_at=shanghai(found.issued_at),
            revoked_at=shanghai(found.revoked_at),
            revoke_reason=found.revoke_reason,
            pdf_url=download_url(info, found.storage_key),
        )

    @strawberry.field(description="What the caller may do to it now.")
    def viewer_can(self, info: Info) -> ServiceApplicationViewerCan:
        return APPLICATION_CAN.of(guides.application_viewer_can(info.context, self.row))

    @strawberry.field(description="Every step so far, oldest first.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ServiceApplicationEvent]:
        page = await guides.timeline(info.context, self.id, page_request(info, first, after))
        return connection(
            page,
            lambda e: ServiceApplicationEvent(
                action=ApplicationActionType(e.action.value),
                level=ReviewLevelType(e.level.value),
                actor_name=e.actor_name,
                from_status=ApplicationStatusType(e.from_status.value) if e.from_status else None,
                to_status=ApplicationStatusType(e.to_status.value),
                note=e.note,
                at=shanghai(e.created_at),
            ),
        )


@strawberry.type(
    description="What checking a certificate's code answers anyone: whether a certificate with that code was issued here, and what it says, the holder's name masked. Nothing else."
)
class CertificateCheck:
    genuine: bool = strawberry.field(description="False: no certificate has this code (forged, or mistyped).")
    code: str | None = None
    title: str | None = None
    holder: str | None = strawberry.field(default=None, description="The holder's name, masked (王*明).")
    issuer: str | None = None
    issued_at: datetime | None = None
    revoked: bool | None = strawberry.field(default=None, description="Revoked after issue: no longer valid.")
    revoked_at: datetime | None = None


@strawberry.input
class ServiceApplicationFilter:
    statuses: list[ApplicationStatusType] | None = None
    awaiting_my_review: bool | None = strawberry.field(
        default=None, description="In review at a level the caller reviews: their queue."
    )
    overdue: bool | None = strawberry.field(default=None, description="In review past the time limit.")


def application_filter(given: ServiceApplicationFilter | None) -> guides.ApplicationFilter:
    """The list's filter as its use case takes it (also an export's, resolvers.exports)."""
    if given is None:
        return guides.ApplicationFilter()
    return guides.ApplicationFilter(
        statuses=tuple(ApplicationStatus(s.value) for s in given.statuses or ()),
        awaiting_my_review=given.awaiting_my_review,
        overdue=given.overdue,
    )


def _check_page(info: Info) -> str:
    """Where a certificate's QR code leads: the API's public address (else this request's)."""
    base = info.context.settings.public_url or str(info.context.request.base_url)
    return base.rstrip("/") + CHECK_PATH


@strawberry.type
class Query:
    @strawberry.field(
        description=f"The catalogue, by kind; `search` (up to {SEARCH_MAX} characters) finds guides containing every space-separated term anywhere in their text, title hits first. Public."
    )
    async def service_guides(
        self,
        info: Info,
        kind: GuideKindType | None = None,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ServiceGuide]:
        page = await guides.list_guides(
            info.context,
            GuideKind(kind.value) if kind is not None else None,
            search,
            page_request(info, first, after),
        )
        return connection(page, ServiceGuide.from_row)

    @strawberry.field(description="One guide; null if unpublished (for anyone but tenant admins) or unknown.")
    async def service_guide(self, info: Info, id: relay.GlobalID) -> ServiceGuide | None:
        found = await guides.guide(info.context, decode_id(id, "ServiceGuide", "id"))
        return ServiceGuide.from_row(found) if found else None

    @strawberry.field(description="A resident's own applications; a reviewer's scope. Newest first.")
    async def service_applications(
        self,
        info: Info,
        filter: ServiceApplicationFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ServiceApplication]:
        page = await guides.list_applications(
            info.context, application_filter(filter), page_request(info, first, after)
        )
        return connection(page, lambda row: ServiceApplication.from_row(info, row))

    @strawberry.field(
        description="Anyone (the page a certificate's QR code opens): is the certificate with this code genuine, and still valid?"
    )
    async def verify_certificate(self, info: Info, code: str) -> CertificateCheck:
        found = await guides.check_certificate(info.context, code)
        if found is None:
            return CertificateCheck(genuine=False)
        return CertificateCheck(
            genuine=True,
            code=found.code,
            title=found.title,
            holder=found.holder,
            issuer=found.issuer,
            issued_at=shanghai(found.issued_at),
            revoked=found.revoked_at is not None,
            revoked_at=shanghai(found.revoked_at),
        )


@strawberry.input(description=PLAIN_TEXT)
class ServiceGuideContentInput:
    title: str = strawberry.field(description="2–100 characters.")
    summary: str
    conditions: str
    materials: list[str] = strawberry.field(
        description="Up to 20, each up to 100 characters; at least one for a kind applied for online."
    )
    steps: list[str]
    where_to_go: str
    office_hours: str
    phone: str
    fees: str = strawberry.field(description="收费标准, e.g. 免费.")
    time_limit_days: int = strawberry.field(
        description="Working days, 0–60 (at least 1 for a kind applied for online)."
    )


@strawberry.input
class CreateServiceGuideInput:
    kind: GuideKindType
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="三级审批 only, and required for it: the department that gives the last approval."
    )
    guide: ServiceGuideContentInput


@strawberry.input
class UpdateServiceGuideInput:
    guide_id: relay.GlobalID
    department_id: relay.GlobalID | None = None
    guide: ServiceGuideContentInput


@strawberry.input
class ServiceGuideStepInput:
    guide_id: relay.GlobalID


@strawberry.input
class MaterialFilesInput:
    material: str = strawberry.field(description="One of the guide's `materials`, as written there.")
    attachment_ids: list[relay.GlobalID] = strawberry.field(description=ATTACHMENT_IDS_DESCRIPTION)


@strawberry.input
class ApplyForServiceInput:
    guide_id: relay.GlobalID
    purpose: str = strawberry.field(description="办理用途, 2–200 characters.")
    materials: list[MaterialFilesInput] = strawberry.field(description="Files for every required material.")


@strawberry.input
class ServiceApplicationStepInput:
    application_id: relay.GlobalID
    note: str | None = strawberry.field(default=None, description="审核意见, up to 500 characters.")


@strawberry.input
class ServiceApplicationReasonInput:
    application_id: relay.GlobalID
    reason: str = strawberry.field(description="Shown to the applicant.")


@strawberry.input
class ResubmitServiceApplicationInput:
    application_id: relay.GlobalID
    note: str | None = None
    materials: list[MaterialFilesInput] = strawberry.field(description="The files asked for (at least one).")


@strawberry.input
class WithdrawServiceApplicationInput:
    application_id: relay.GlobalID
    reason: str | None = None


@strawberry.type
class ServiceGuidePayload:
    guide: ServiceGuide | None
    errors: list[UserError]


@strawberry.type
class ServiceApplicationPayload:
    application: ServiceApplication | None
    errors: list[UserError]


def _content(value: ServiceGuideContentInput) -> guides.GuideContent:
    return guides.GuideContent(
        title=value.title,
        summary=value.summary,
        conditions=value.conditions,
        materials=tuple(value.materials),
        steps=tuple(value.steps),
        where_to_go=value.where_to_go,
        office_hours=value.office_hours,
        phone=value.phone,
        fees=value.fees,
        time_limit_days=value.time_limit_days,
    )


def _department(value: relay.GlobalID | None) -> uuid.UUID | None:
    return decode_id(value, "Department", "departmentId") if value is not None else None


def _materials(values: list[MaterialFilesInput]) -> list[guides.MaterialFiles]:
    return [
        guides.MaterialFiles(
            material=value.material,
            upload_ids=tuple(
                decode_id(upload, UPLOAD_ID_TYPE, f"materials.{index}.attachmentIds.{n}")
                for n, upload in enumerate(value.attachment_ids)
            ),
        )
        for index, value in enumerate(values)
    ]


async def _guide_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> ServiceGuidePayload:
    outcome = await attempt(info, action)
    row = await guides.guide(info.context, outcome.value) if outcome.value else None
    return ServiceGuidePayload(guide=ServiceGuide.from_row(row) if row else None, errors=outcome.errors)


async def _application_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> ServiceApplicationPayload:
    outcome = await attempt(info, action)
    row = await guides.application(info.context, outcome.value) if outcome.value else None
    return ServiceApplicationPayload(
        application=ServiceApplication.from_row(info, row) if row else None, errors=outcome.errors
    )


def _guide_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "ServiceGuide", "guideId")


def _application_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "ServiceApplication", "applicationId")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A tenant admin writes a new guide, as a draft (version 1).")
    async def create_service_guide(self, info: Info, input: CreateServiceGuideInput) -> ServiceGuidePayload:
        return await _guide_payload(
            info,
            lambda: guides.create_guide(
                info.context, GuideKind(input.kind.value), _department(input.department_id), _content(input.guide)
            ),
        )

    @strawberry.mutation(description="A tenant admin edits a guide: a new version, shown to readers once published.")
    async def update_service_guide(self, info: Info, input: UpdateServiceGuideInput) -> ServiceGuidePayload:
        return await _guide_payload(
            info,
            lambda: guides.edit_guide(
                info.context, _guide_id(input.guide_id), _department(input.department_id), _content(input.guide)
            ),
        )

    @strawberry.mutation(description="Publishes a guide's newest version.")
    async def publish_service_guide(self, info: Info, input: ServiceGuideStepInput) -> ServiceGuidePayload:
        return await _guide_payload(info, lambda: guides.publish_guide(info.context, _guide_id(input.guide_id)))

    @strawberry.mutation(description="Takes a guide down; applications already made go on.")
    async def unpublish_service_guide(self, info: Info, input: ServiceGuideStepInput) -> ServiceGuidePayload:
        return await _guide_payload(info, lambda: guides.unpublish_guide(info.context, _guide_id(input.guide_id)))

    @strawberry.mutation(
        description="办理: a resident applies for a published guide of kind 社区直办, 社区证明, 二级审批 or 三级审批, with files (from `POST /uploads`) for each required material."
    )
    async def apply_for_service(self, info: Info, input: ApplyForServiceInput) -> ServiceApplicationPayload:
        return await _application_payload(
            info,
            lambda: guides.apply(info.context, _guide_id(input.guide_id), input.purpose, _materials(input.materials)),
        )

    @strawberry.mutation(description="The level holding it approves and passes it to the next level.")
    async def forward_service_application(
        self, info: Info, input: ServiceApplicationStepInput
    ) -> ServiceApplicationPayload:
        return await _application_payload(
            info, lambda: guides.forward(info.context, _application_id(input.application_id), input.note)
        )

    @strawberry.mutation(
        description="The last level approves: the application is done (a 社区证明 gets its PDF certificate)."
    )
    async def approve_service_application(
        self, info: Info, input: ServiceApplicationStepInput
    ) -> ServiceApplicationPayload:
        return await _application_payload(
            info,
            lambda: guides.approve(info.context, _application_id(input.application_id), input.note, _check_page(info)),
        )

    @strawberry.mutation(description="The level holding it returns it to the applicant for more material.")
    async def send_back_service_application(
        self, info: Info, input: ServiceApplicationReasonInput
    ) -> ServiceApplicationPayload:
        return await _application_payload(
            info,
            lambda: guides.return_for_material(info.context, _application_id(input.application_id), input.reason),
        )

    @strawberry.mutation(description="The level holding it refuses it, with a reason.")
    async def reject_service_application(
        self, info: Info, input: ServiceApplicationReasonInput
    ) -> ServiceApplicationPayload:
        return await _application_payload(
            info, lambda: guides.reject(info.context, _application_id(input.application_id), input.reason)
        )

    @strawberry.mutation(description="The applicant sends what was asked for; back to the level that returned it.")
    async def resubmit_service_application(
        self, info: Info, input: ResubmitServiceApplicationInput
    ) -> ServiceApplicationPayload:
        return await _application_payload(
            info,
            lambda: guides.resubmit(
                info.context, _application_id(input.application_id), input.note, _materials(input.materials)
            ),
        )

    @strawberry.mutation(description="The applicant withdraws an open application.")
    async def withdraw_service_application(
        self, info: Info, input: WithdrawServiceApplicationInput
    ) -> ServiceApplicationPayload:
        return await _application_payload(
            info, lambda: guides.withdraw(info.context, _application_id(input.application_id), input.reason)
        )

    @strawberry.mutation(description="The issuing community revokes a certificate: checking its code says so.")
    async def revoke_service_certificate(
        self, info: Info, input: ServiceApplicationReasonInput
    ) -> ServiceApplicationPayload:
        return await _application_payload(
            info, lambda: guides.revoke(info.context, _application_id(input.application_id), input.reason)
        )
