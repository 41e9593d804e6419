"""Me, residents, and the grid worker's review of new residents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.people import ResidentStatus, Role
from resolvers import auth, badges, organisation, people
from schema.auth import AuthTokens
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
from schema.cost import cost
from schema.organisation import Building, Community, Department, Grid, Person, grid_worker_of, person_from_row

if TYPE_CHECKING:  # see mirror_enum
    RoleType = Role
else:
    RoleType = mirror_enum(
        Role,
        {
            Role.RESIDENT: "居民",
            Role.GRID_WORKER: "网格员",
            Role.STAFF: "职能部门工作人员",
            Role.COMMUNITY_ADMIN: "社区管理员",
            Role.TENANT_ADMIN: "街道管理员",
            Role.PLATFORM_ADMIN: "平台管理员",
            Role.BUILDING_LEADER: "楼栋长",
        },
        name="Role",
        description="A role a user holds in the street office.",
    )
if TYPE_CHECKING:  # see mirror_enum
    ResidentStatusType = ResidentStatus
else:
    ResidentStatusType = mirror_enum(
        ResidentStatus,
        {ResidentStatus.PENDING: "待网格员核实", ResidentStatus.VERIFIED: "已核实", ResidentStatus.REJECTED: "已驳回"},
        name="ResidentStatus",
        description="Where a resident's registration stands.",
    )


@strawberry.type(description="One role of the caller, with its scope.")
class RoleGrant:
    role: RoleType
    community_id: strawberry.Private[uuid.UUID | None]
    department_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The community a community admin administers.")
    async def community(self, info: Info) -> Community | None:
        if self.community_id is None:
            return None
        row = await organisation.community(info.context, self.community_id)
        return Community.from_row(row) if row else None

    @strawberry.field(description="The department a staff member works in.")
    async def department(self, info: Info) -> Department | None:
        if self.department_id is None:
            return None
        row = await organisation.department(info.context, self.department_id)
        return Department.from_row(row) if row else None


@strawberry.type(description="居民: a registered resident, as the caller is allowed to see them.")
class Resident(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    phone: str = strawberry.field(
        description="Masked (138****1234) unless the caller is the resident, an admin over them or, once verified, their grid worker (audited)."
    )
    id_number: str | None = strawberry.field(
        description="Identity card number, masked like the phone; null if not given."
    )
    status: ResidentStatusType
    room: str
    rejection_reason: str | None = strawberry.field(description="Why the grid worker rejected the registration.")
    registered_at: datetime
    building: Building
    grid: Grid
    worker_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, info: Info, row: people.ResidentRow) -> Resident:
        return cls(
            id=row.id,
            name=row.name,
            phone=people.shown_phone(
                info.context,
                row.id,
                row.phone,
                row.community_id,
                row.worker_id if row.status is ResidentStatus.VERIFIED else None,
            ),
            id_number=people.shown_id_number(info.context, row.id, row.id_number, row.community_id),
            status=ResidentStatusType(row.status),
            room=row.room,
            rejection_reason=row.rejection_reason,
            registered_at=shanghai(row.registered_at),
            building=Building(
                id=row.building_id,
                code=row.building_code,
                name=row.building_name,
                units=row.building_units,
                grid_id=row.grid_id,
            ),
            grid=Grid(
                id=row.grid_id,
                code=row.grid_code,
                name=row.grid_name,
                community_id=row.community_id,
                worker_id=row.worker_id,
            ),
            worker_id=row.worker_id,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Resident | None]:
        return await nodes_by_id(node_ids, lambda i: people.resident(info.context, i), lambda r: cls.from_row(info, r))

    @strawberry.field(description="The grid worker whose badge the resident scanned to register, if they did.")
    async def referrer(self, info: Info) -> Person | None:
        worker_id = await badges.referrer_of(info.context, self.id)
        row = await people.person(info.context, worker_id) if worker_id else None
        return person_from_row(info, row) if row else None

    @strawberry.field(
        description="The resident's own grid worker (专属网格员): the phone whole for the resident once verified."
    )
    async def grid_worker(self, info: Info) -> Person | None:
        return await grid_worker_of(info, self.grid.id, self.worker_id)


@strawberry.type(description="The signed-in caller. `node()` finds it only for the caller themself.")
class Me(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    phone: str

    @classmethod
    def from_row(cls, row: people.PersonRow) -> Me:
        return cls(id=row.id, name=row.name, phone=row.phone)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Me | None]:
        async def mine(user_id: uuid.UUID) -> people.PersonRow | None:
            row = await people.me(info.context)
            return row if row is not None and row.id == user_id else None

        return await nodes_by_id(node_ids, mine, cls.from_row)

    @strawberry.field(description="The caller's roles and their scopes.", metadata=cost(items=10))
    async def roles(self, info: Info) -> list[RoleGrant]:
        grants = await people.grants_of(info.context, self.id)
        return [
            RoleGrant(role=RoleType(g.role), community_id=g.community_id, department_id=g.department_id) for g in grants
        ]

    @strawberry.field(description="The caller's resident registration, if they are a resident.")
    async def resident(self, info: Info) -> Resident | None:
        viewer = info.context.viewer
        row = await people.resident(info.context, self.id) if viewer and Role.RESIDENT in viewer.roles else None
        return Resident.from_row(info, row) if row else None


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in caller, or null when anonymous.")
    async def me(self, info: Info) -> Me | None:
        row = await people.me(info.context)
        return Me.from_row(row) if row is not None else None

    @strawberry.field(
        description="Residents awaiting verification in the caller's grids or community (grid workers and admins)."
    )
    async def residents_awaiting_review(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Resident]:
        page = await people.residents_awaiting_review(info.context, page_request(info, first, after))
        return connection(page, lambda row: Resident.from_row(info, row))


@strawberry.input(description="A resident's self-registration.")
class RegisterResidentInput:
    phone: str = strawberry.field(description="Mainland mobile number; the login name within this street office.")
    phone_code: str = strawberry.field(
        description="The SMS code from `requestPhoneCode` (purpose REGISTER; BIND_WECHAT with a wechatTicket)."
    )
    password: str = strawberry.field(description="At least 8 characters.")
    name: str
    building_id: relay.GlobalID = strawberry.field(
        description="A building of this street office (from `communities → grids → buildings`)."
    )
    room: str = strawberry.field(description="Room number, e.g. 3-502.")
    id_number: str | None = strawberry.field(
        default=None, description="Optional identity card number (18 characters, checked)."
    )
    wechat_ticket: str | None = strawberry.field(
        default=None, description="A `loginWithWechat` binding ticket: the new account signs in with that WeChat too."
    )
    badge: str | None = strawberry.field(
        default=None,
        description="The token of the grid worker's badge the resident scanned (registrationBadge): the building must be in its grid.",
    )


@strawberry.type
class RegisterResidentPayload:
    resident: Resident | None
    tokens: AuthTokens | None = strawberry.field(
        description="Signed in at once: residents may use resident features before verification."
    )
    errors: list[UserError]


@strawberry.input(description="Only the fields given change.")
class UpdateMyProfileInput:
    name: str | None = None
    building_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A move: with a new building or room the registration waits for verification again."
    )
    room: str | None = None


@strawberry.input
class VerifyResidentInput:
    resident_id: relay.GlobalID


@strawberry.input
class RejectResidentInput:
    resident_id: relay.GlobalID
    reason: str = strawberry.field(description="Shown to the resident (2–200 characters).")


@strawberry.type
class ReviewResidentPayload:
    resident: Resident | None
    errors: list[UserError]


async def _resident_node(info: Info, resident_id: uuid.UUID | None) -> Resident | None:
    if resident_id is None:
        return None
    row = await people.resident(info.context, resident_id)
    return Resident.from_row(info, row) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A resident registers with a phone proved by SMS code, a password, name and where they live. Anonymous, names the street office by X-Tenant."
    )
    async def register_resident(self, info: Info, input: RegisterResidentInput) -> RegisterResidentPayload:
        async def register() -> tuple[uuid.UUID, auth.Tokens]:
            building_id = decode_id(input.building_id, "Building", "buildingId")
            resident_id = await people.register_resident(
                info.context,
                phone=input.phone,
                phone_code=input.phone_code,
                password=input.password,
                name=input.name,
                building_id=building_id,
                room=input.room,
                id_number=input.id_number,
                wechat_ticket=input.wechat_ticket,
                badge=input.badge,
            )
            return resident_id, await auth.issue_tokens(info.context, resident_id)

        outcome = await attempt(info, register)
        if outcome.value is None:
            return RegisterResidentPayload(resident=None, tokens=None, errors=outcome.errors)
        resident_id, tokens = outcome.value
        row = await people.resident_as_registered(info.context, resident_id)
        return RegisterResidentPayload(
            resident=Resident.from_row(info, referenced(row)), tokens=AuthTokens.from_tokens(tokens), errors=[]
        )

    @strawberry.mutation(description="A resident changes their name or moves to another room.")
    async def update_my_profile(self, info: Info, input: UpdateMyProfileInput) -> ReviewResidentPayload:
        async def update() -> uuid.UUID:
            building_id = decode_id(input.building_id, "Building", "buildingId") if input.building_id else None
            return await people.update_my_profile(
                info.context, name=input.name, building_id=building_id, room=input.room
            )

        outcome = await attempt(info, update)
        return ReviewResidentPayload(resident=await _resident_node(info, outcome.value), errors=outcome.errors)

    @strawberry.mutation(
        description="A grid worker (or admin) confirms a resident's address, linking them to the household of their room."
    )
    async def verify_resident(self, info: Info, input: VerifyResidentInput) -> ReviewResidentPayload:
        outcome = await attempt(
            info, lambda: people.verify_resident(info.context, decode_id(input.resident_id, "Resident", "residentId"))
        )
        return ReviewResidentPayload(resident=await _resident_node(info, outcome.value), errors=outcome.errors)

    @strawberry.mutation(
        description="A grid worker (or admin) rejects a registration, with a reason the resident sees."
    )
    async def reject_resident(self, info: Info, input: RejectResidentInput) -> ReviewResidentPayload:
        outcome = await attempt(
            info,
            lambda: people.reject_resident(
                info.context, decode_id(input.resident_id, "Resident", "residentId"), input.reason
            ),
        )
        return ReviewResidentPayload(resident=await _resident_node(info, outcome.value), errors=outcome.errors)
