"""Households (入户登记), their members and care tags, the population lists and their history."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.households import MEMBER_LIFECYCLE, AgeBand, HouseholdChange, MemberAction, MemberParty, ResidenceStatus
from resolvers import households, organisation, visits
from resolvers.pagination import Page
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
from schema.organisation import Building
from schema.visits import HouseholdVisit

if TYPE_CHECKING:  # see mirror_enum
    ResidenceStatusType = ResidenceStatus
else:
    ResidenceStatusType = mirror_enum(
        ResidenceStatus,
        {
            ResidenceStatus.HUKOU: "户籍：户口在此，人在此居住",
            ResidenceStatus.RESIDENT: "常住：户口在外，长期在此居住",
            ResidenceStatus.FLOATING: "流动：暂住在此",
            ResidenceStatus.NOMINAL: "空挂：户口在此，人不在此居住",
        },
        name="ResidenceStatus",
        description="How a person belongs to the household's address (户籍/常住/流动/空挂).",
    )
if TYPE_CHECKING:  # see mirror_enum
    AgeBandType = AgeBand
else:
    AgeBandType = mirror_enum(
        AgeBand,
        {
            AgeBand.CHILD: "未成年（18 岁以下）",
            AgeBand.ADULT: "18–59 岁",
            AgeBand.SENIOR: "60–79 岁",
            AgeBand.ELDERLY: "80 岁及以上",
        },
        name="AgeBand",
        description="Age on today's date in China, from the birth date.",
    )
if TYPE_CHECKING:  # see mirror_enum
    HouseholdChangeType = HouseholdChange
else:
    HouseholdChangeType = mirror_enum(
        HouseholdChange,
        {
            HouseholdChange.CREATED: "登记住户",
            HouseholdChange.MEMBER_ADDED: "增加成员",
            HouseholdChange.MEMBER_UPDATED: "修改成员信息",
            HouseholdChange.MEMBER_MOVED_OUT: "成员迁出",
            HouseholdChange.RESIDENT_JOINED: "注册居民经核实加入本户",
        },
        name="HouseholdChange",
        description="What a change to a household's record was.",
    )


MEMBER_CAN = viewer_can(
    "HouseholdMemberViewerCan",
    "HouseholdMember",
    MEMBER_LIFECYCLE,
    system=MemberParty.SYSTEM,
    mutations={
        MemberAction.UPDATE: "updateHouseholdMember",
        MemberAction.MOVE_OUT: "moveOutHouseholdMember",
    },
)
HouseholdMemberViewerCan = MEMBER_CAN.type


@strawberry.type(description="A care tag of the street office's list, with how often its households are visited.")
class CareTag:
    name: str
    visit_every_days: int | None = strawberry.field(description="Null: the tag asks for no regular visit.")


@strawberry.type(
    description="户: a dwelling in a building, with its members. Seen by the grid worker of its grid and the admins over it, and by its own verified residents."
)
class Household(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    room: str
    building_id: strawberry.Private[uuid.UUID]
    row: strawberry.Private[households.HouseholdRow]

    @classmethod
    def from_row(cls, row: households.HouseholdRow) -> Household:
        return cls(id=row.id, room=row.room, building_id=row.building_id, row=row)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Household | None]:
        return await nodes_by_id(node_ids, lambda i: households.household(info.context, i), cls.from_row)

    @strawberry.field
    async def building(self, info: Info) -> Building:
        return Building.from_row(referenced(await organisation.building(info.context, self.building_id)))

    @strawberry.field(description="Its members, current ones unless `includeMovedOut`.")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None, include_moved_out: bool = False
    ) -> Connection[HouseholdMember]:
        page = await households.members_of(
            info.context, self.id, page_request(info, first, after), include_moved_out=include_moved_out
        )
        return connection(page, lambda row: HouseholdMember.from_row(info, row))

    @strawberry.field(description="Who changed what, newest last; empty unless the caller manages the record.")
    async def history(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[HouseholdHistoryEntry]:
        page = await households.history_of(info.context, self.row, page_request(info, first, after))
        return connection(page, HouseholdHistoryEntry.from_row)

    @strawberry.field(description="Home visits, newest first; empty unless the caller manages the record.")
    async def visits(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[HouseholdVisit]:
        if not households.manages(info.context, self.row.community_id, self.row.worker_id):
            return connection(Page.empty(), HouseholdVisit.from_row)
        page = await visits.visits_of(info.context, self.id, page_request(info, first, after))
        return connection(page, HouseholdVisit.from_row)


@strawberry.type(
    description="A person of a household (人口信息). The ID number and phone are whole for the member themself and for those who manage the record (the grid worker of its grid, admins over it), every such view audited; masked for everyone else."
)
class HouseholdMember(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    relation: str = strawberry.field(description="To the head of the household: 户主, 配偶, 子女 …")
    id_number: str | None
    phone: str | None
    birth_date: date | None
    residence_status: ResidenceStatusType
    has_account: bool = strawberry.field(description="A registered resident, verified into this household.")
    moved_in_at: datetime
    moved_out_at: datetime | None = strawberry.field(description="Set once the member moved out; the record stays.")
    household_id: strawberry.Private[uuid.UUID]
    row: strawberry.Private[households.MemberRow]

    @classmethod
    def from_row(cls, info: Info, row: households.MemberRow) -> HouseholdMember:
        return cls(
            id=row.id,
            name=row.name,
            relation=row.relation,
            id_number=households.shown_member_id_number(info.context, row),
            phone=households.shown_member_phone(info.context, row),
            birth_date=row.birth_date,
            residence_status=ResidenceStatusType(row.residence_status),
            has_account=row.user_id is not None,
            moved_in_at=shanghai(row.moved_in_at),
            moved_out_at=shanghai(row.moved_out_at),
            household_id=row.household_id,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[HouseholdMember | None]:
        return await nodes_by_id(
            node_ids, lambda i: households.member(info.context, i), lambda r: cls.from_row(info, r)
        )

    @strawberry.field
    def viewer_can(self, info: Info) -> HouseholdMemberViewerCan:  # type: ignore[valid-type]
        return MEMBER_CAN.of(households.member_viewer_can(info.context, self.row))

    @strawberry.field(description="Care tags (独居老人 …), from the street office's list.", metadata=cost(items=10))
    async def care_tags(self, info: Info) -> list[str]:
        return await households.tags_of(info.context, self.id)

    @strawberry.field
    async def household(self, info: Info) -> Household | None:
        row = await households.household(info.context, self.household_id)
        return Household.from_row(row) if row else None


@strawberry.type(description="One field's change: values as JSON text (an ID number only as 已登记/已变更).")
class FieldChange:
    field: str
    before: str | None
    after: str | None


@strawberry.type(description="A change to a household's record: who, when, what.")
class HouseholdHistoryEntry:
    change: HouseholdChangeType
    actor_name: str | None = strawberry.field(description="Null when the system made it.")
    at: datetime
    changes: list[FieldChange] = strawberry.field(metadata=cost(items=20))

    @classmethod
    def from_row(cls, row: households.HistoryRow) -> HouseholdHistoryEntry:
        def text(value: object) -> str | None:
            return None if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

        return cls(
            change=HouseholdChangeType(row.change),
            actor_name=row.actor_name,
            at=shanghai(row.at),
            changes=[
                FieldChange(field=name, before=text(values[0]), after=text(values[1]))
                for name, values in sorted(row.changes.items())
            ],
        )


@strawberry.input(
    description="Narrows households (a member condition: at least one current member meets it) or people."
)
class PopulationFilter:
    building_id: relay.GlobalID | None = None
    grid_id: relay.GlobalID | None = None
    care_tag: str | None = None
    residence_status: ResidenceStatusType | None = None
    age_band: AgeBandType | None = None
    id_number: str | None = strawberry.field(
        default=None, description="Exact lookup of an 18-character ID number (through its keyed index)."
    )
    include_moved_out: bool = strawberry.field(default=False, description="People only: those who moved out too.")


def population_filter(value: PopulationFilter | None) -> households.PopulationFilter:
    if value is None:
        return households.PopulationFilter()
    return households.PopulationFilter(
        building_id=decode_id(value.building_id, "Building", "filter.buildingId") if value.building_id else None,
        grid_id=decode_id(value.grid_id, "Grid", "filter.gridId") if value.grid_id else None,
        tag=value.care_tag,
        residence_status=ResidenceStatus(value.residence_status.value) if value.residence_status else None,
        age_band=AgeBand(value.age_band.value) if value.age_band else None,
        id_number=value.id_number,
        include_moved_out=value.include_moved_out,
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Households of the caller's grids (grid workers), community (community admins) or street office (tenant admins), by building and room."
    )
    async def households(
        self, info: Info, filter: PopulationFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Household]:
        page = await households.list_households(
            info.context, population_filter(filter), page_request(info, first, after)
        )
        return connection(page, Household.from_row)

    @strawberry.field(
        description="People of the households in the caller's scope (population records), current members unless `includeMovedOut`."
    )
    async def people(
        self, info: Info, filter: PopulationFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[HouseholdMember]:
        page = await households.list_people(info.context, population_filter(filter), page_request(info, first, after))
        return connection(page, lambda row: HouseholdMember.from_row(info, row))

    @strawberry.field(description="A verified resident's own household.")
    async def my_household(self, info: Info) -> Household | None:
        row = await households.my_household(info.context)
        return Household.from_row(row) if row else None

    @strawberry.field(description="The street office's care tags. Public.", metadata=cost(items=50))
    async def care_tags(self, info: Info) -> list[CareTag]:
        return [
            CareTag(name=t.name, visit_every_days=t.visit_every_days) for t in await households.care_tags(info.context)
        ]


@strawberry.input(description="A member's fields.")
class HouseholdMemberInput:
    name: str
    relation: str = strawberry.field(description="To the head of the household: 户主, 配偶, 子女 …")
    residence_status: ResidenceStatusType
    id_number: str | None = strawberry.field(default=None, description="18 characters, checked; stored encrypted.")
    phone: str | None = None
    birth_date: date | None = strawberry.field(default=None, description="Taken from the ID number when left out.")
    care_tags: list[str] = strawberry.field(default_factory=list, description="From `careTags`.")


def _draft(value: HouseholdMemberInput) -> households.MemberDraft:
    return households.MemberDraft(
        name=value.name,
        relation=value.relation,
        id_number=value.id_number,
        phone=value.phone,
        birth_date=value.birth_date,
        residence_status=ResidenceStatus(value.residence_status.value),
        tags=value.care_tags,
    )


@strawberry.input
class RegisterHouseholdInput:
    building_id: relay.GlobalID
    room: str = strawberry.field(description="Room number, e.g. 2-301.")
    members: list[HouseholdMemberInput]


@strawberry.input
class AddHouseholdMemberInput:
    household_id: relay.GlobalID
    member: HouseholdMemberInput


@strawberry.input(description="Only the fields given change; each change goes into the household's history.")
class UpdateHouseholdMemberInput:
    member_id: relay.GlobalID
    name: str | None = None
    relation: str | None = None
    residence_status: ResidenceStatusType | None = None
    id_number: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    care_tags: list[str] | None = strawberry.field(default=None, description="The whole new list.")


@strawberry.input
class MoveOutHouseholdMemberInput:
    member_id: relay.GlobalID
    note: str | None = strawberry.field(default=None, description="Where to, why (up to 200 characters).")


@strawberry.type
class HouseholdPayload:
    household: Household | None
    errors: list[UserError]


@strawberry.type
class HouseholdMemberPayload:
    member: HouseholdMember | None
    errors: list[UserError]


async def _household_payload(info: Info, household_id: uuid.UUID | None, errors: list[UserError]) -> HouseholdPayload:
    row = await households.household(info.context, household_id) if household_id else None
    return HouseholdPayload(household=Household.from_row(row) if row else None, errors=errors)


async def _member_payload(info: Info, member_id: uuid.UUID | None, errors: list[UserError]) -> HouseholdMemberPayload:
    row = await households.member(info.context, member_id) if member_id else None
    return HouseholdMemberPayload(member=HouseholdMember.from_row(info, row) if row else None, errors=errors)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="入户登记: a grid worker registers a household of their grid (admins: of their community) with its members."
    )
    async def register_household(self, info: Info, input: RegisterHouseholdInput) -> HouseholdPayload:
        outcome = await attempt(
            info,
            lambda: households.register_household(
                info.context,
                decode_id(input.building_id, "Building", "buildingId"),
                input.room,
                [_draft(m) for m in input.members],
            ),
        )
        return await _household_payload(info, outcome.value, outcome.errors)

    @strawberry.mutation(description="A new member of a household the caller manages.")
    async def add_household_member(self, info: Info, input: AddHouseholdMemberInput) -> HouseholdMemberPayload:
        outcome = await attempt(
            info,
            lambda: households.add_member(
                info.context, decode_id(input.household_id, "Household", "householdId"), _draft(input.member)
            ),
        )
        return await _member_payload(info, outcome.value, outcome.errors)

    @strawberry.mutation(description="Corrects a member's record, recording who changed what.")
    async def update_household_member(self, info: Info, input: UpdateHouseholdMemberInput) -> HouseholdMemberPayload:
        async def update() -> uuid.UUID:
            draft = households.MemberDraft(
                name=input.name,
                relation=input.relation,
                id_number=input.id_number,
                phone=input.phone,
                birth_date=input.birth_date,
                residence_status=ResidenceStatus(input.residence_status.value) if input.residence_status else None,
                tags=input.care_tags,
            )
            return await households.update_member(
                info.context, decode_id(input.member_id, "HouseholdMember", "memberId"), draft
            )

        outcome = await attempt(info, update)
        return await _member_payload(info, outcome.value, outcome.errors)

    @strawberry.mutation(description="A member moves out: the record and its history stay.")
    async def move_out_household_member(self, info: Info, input: MoveOutHouseholdMemberInput) -> HouseholdMemberPayload:
        outcome = await attempt(
            info,
            lambda: households.move_out_member(
                info.context, decode_id(input.member_id, "HouseholdMember", "memberId"), input.note
            ),
        )
        return await _member_payload(info, outcome.value, outcome.errors)
