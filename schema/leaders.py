"""Building leaders (楼栋长): the board, the register of terms, appointing and dismissing, and a
leader's view of their buildings' residents."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.leaders import LeaderAction
from resolvers import leaders, organisation, people
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
from schema.organisation import Building, Community, Person
from schema.people import Resident

if TYPE_CHECKING:  # see mirror_enum
    LeaderActionType = LeaderAction
else:
    LeaderActionType = mirror_enum(
        LeaderAction, leaders.ACTION_NAMES, name="BuildingLeaderAction", description="A step on a term's timeline."
    )


@strawberry.type(description="One step of a leader's term: appointed, dismissed.")
class BuildingLeaderEvent:
    action: LeaderActionType
    actor_name: str | None
    note: str | None = strawberry.field(description="The term appointed, or why it was ended.")
    at: datetime


@strawberry.type(
    description="楼栋长: one term of a resident as the leader of a building. Those serving are on the public board (name, masked phone)."
)
class BuildingLeader(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    leader: Person = strawberry.field(
        description="The leader; the phone masked unless the caller is them or an admin over them."
    )
    starts_on: date
    ends_on: date
    serving: bool = strawberry.field(description="Serving now: begun, not over, not dismissed.")
    appointed_at: datetime
    dismissed_at: datetime | None
    dismissal_reason: str | None = strawberry.field(description="Why it was ended: for admins over it and the leader.")
    row: strawberry.Private[leaders.TermRow]

    @classmethod
    def from_row(cls, info: Info, row: leaders.TermRow) -> BuildingLeader:
        ctx = info.context
        own = ctx.viewer is not None and (ctx.viewer.user_id == row.user_id or ctx.viewer.administers(row.community_id))
        return cls(
            id=row.id,
            leader=Person(
                id=row.user_id, name=row.name, phone=people.shown_phone(ctx, row.user_id, row.phone, row.community_id)
            ),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            serving=leaders.is_serving(row, ctx.clock()),
            appointed_at=shanghai(row.appointed_at),
            dismissed_at=shanghai(row.dismissed_at),
            dismissal_reason=row.dismissal_reason if own else None,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[BuildingLeader | None]:
        return await nodes_by_id(node_ids, lambda i: leaders.term(info.context, i), lambda r: cls.from_row(info, r))

    @strawberry.field
    async def building(self, info: Info) -> Building:
        return Building.from_row(referenced(await organisation.building(info.context, self.row.building_id)))

    @strawberry.field
    async def community(self, info: Info) -> Community:
        return Community.from_row(referenced(await organisation.community(info.context, self.row.community_id)))

    @strawberry.field(
        description="The building's verified residents (phones masked): for its leader while serving, and admins over it; empty for anyone else."
    )
    async def residents(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Resident]:
        page = await leaders.residents_of_term(info.context, self.row, page_request(info, first, after))
        return connection(page, lambda r: Resident.from_row(info, r))

    @strawberry.field(description="Appointed and dismissed, oldest first: for admins over it and the leader.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[BuildingLeaderEvent]:
        page = await leaders.timeline(info.context, self.row, page_request(info, first, after))
        return connection(
            page,
            lambda r: BuildingLeaderEvent(
                action=LeaderActionType(r.action), actor_name=r.actor_name, note=r.note, at=shanghai(r.created_at)
            ),
        )


async def leaders_of_building(
    info: Info, building_id: uuid.UUID, first: int | None, after: str | None
) -> Connection[BuildingLeader]:
    page = await leaders.leaders_of_building(info.context, building_id, page_request(info, first, after))
    return connection(page, lambda r: BuildingLeader.from_row(info, r))


def _optional_id(value: relay.GlobalID | None, type_name: str, field: str) -> uuid.UUID | None:
    return decode_id(value, type_name, field) if value is not None else None


@strawberry.type
class Query:
    @strawberry.field(
        description="An admin's register of building leaders, newest appointment first: a community admin's community, a tenant admin's street office."
    )
    async def building_leaders(
        self,
        info: Info,
        community_id: relay.GlobalID | None = None,
        building_id: relay.GlobalID | None = None,
        serving_only: bool = True,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[BuildingLeader]:
        page = await leaders.list_terms(
            info.context,
            page_request(info, first, after),
            community_id=_optional_id(community_id, "Community", "communityId"),
            building_id=_optional_id(building_id, "Building", "buildingId"),
            serving_only=serving_only,
        )
        return connection(page, lambda r: BuildingLeader.from_row(info, r))

    @strawberry.field(description="The caller's own terms as a building leader, past, present and to come.")
    async def my_building_leaderships(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[BuildingLeader]:
        page = await leaders.my_terms(info.context, page_request(info, first, after))
        return connection(page, lambda r: BuildingLeader.from_row(info, r))


@strawberry.input(description="A verified resident of the street office appointed leader of a building for a term.")
class AppointBuildingLeaderInput:
    resident_id: relay.GlobalID
    building_id: relay.GlobalID
    starts_on: date = strawberry.field(description="Its first day (today or later).")
    ends_on: date = strawberry.field(description="Its last day (at most five years on).")


@strawberry.input
class DismissBuildingLeaderInput:
    leader_id: relay.GlobalID = strawberry.field(description="The term (BuildingLeader id).")
    reason: str = strawberry.field(description="Told to the leader.")


@strawberry.type
class BuildingLeaderPayload:
    leader: BuildingLeader | None
    errors: list[UserError]


async def _payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> BuildingLeaderPayload:
    outcome = await attempt(info, action)
    row = await leaders.term(info.context, outcome.value) if outcome.value else None
    return BuildingLeaderPayload(leader=BuildingLeader.from_row(info, row) if row else None, errors=outcome.errors)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="An admin over the building's community appoints a resident its leader (their sessions end: the refreshed token carries the role)."
    )
    async def appoint_building_leader(self, info: Info, input: AppointBuildingLeaderInput) -> BuildingLeaderPayload:
        return await _payload(
            info,
            lambda: leaders.appoint(
                info.context,
                resident_id=decode_id(input.resident_id, "Resident", "residentId"),
                building_id=decode_id(input.building_id, "Building", "buildingId"),
                starts_on=input.starts_on,
                ends_on=input.ends_on,
            ),
        )

    @strawberry.mutation(
        description="An admin over the term's community ends it now, with a reason; the leader's reach over the building ends at once."
    )
    async def dismiss_building_leader(self, info: Info, input: DismissBuildingLeaderInput) -> BuildingLeaderPayload:
        return await _payload(
            info,
            lambda: leaders.dismiss(
                info.context, term_id=decode_id(input.leader_id, "BuildingLeader", "leaderId"), reason=input.reason
            ),
        )
