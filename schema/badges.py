"""Grid workers' badges: the QR code a resident scans to register in the worker's grid."""

from __future__ import annotations

import uuid

import strawberry
from strawberry import relay

from models.errors import ErrorCode
from resolvers import badges, organisation
from resolvers.errors import DomainError
from schema.common import Info, UserError, attempt, decode_id, referenced
from schema.cost import cost
from schema.organisation import Grid


def registration_page(info: Info) -> str:
    """Where a badge's QR code sends the resident: the setting, else this server's /register."""
    settings = info.context.settings
    if settings.registration_url:
        return settings.registration_url
    base = settings.public_url or str(info.context.request.base_url)
    return base.rstrip("/") + "/register"


@strawberry.type(description="工作牌二维码: a grid worker's badge for one grid they serve.")
class GridWorkerBadge:
    token: str = strawberry.field(description="What registerResident takes as `badge`.")
    qr_payload: str = strawberry.field(description="The registration link the QR code holds.")
    grid_name: str
    community_name: str
    worker_name: str
    grid_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def grid(self, info: Info) -> Grid:
        return Grid.from_row(referenced(await organisation.grid(info.context, self.grid_id)))


@strawberry.type(description="What a scanned badge pre-fills on the registration page.")
class RegistrationBadge:
    community_name: str
    worker_name: str = strawberry.field(description="The grid worker whose badge it is.")
    grid_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The grid: the resident picks their building from its buildings.")
    async def grid(self, info: Info) -> Grid:
        return Grid.from_row(referenced(await organisation.grid(info.context, self.grid_id)))


@strawberry.type
class Query:
    @strawberry.field(description="A grid worker's own badges, one per grid they serve.", metadata=cost(items=20))
    async def my_badges(self, info: Info) -> list[GridWorkerBadge]:
        page = registration_page(info)
        return [
            GridWorkerBadge(
                token=row.token,
                qr_payload=badges.badge_link(page, row.token),
                grid_name=row.grid_name,
                community_name=row.community_name,
                worker_name=row.worker_name,
                grid_id=row.grid_id,
            )
            for row in await badges.my_badges(info.context)
        ]

    @strawberry.field(
        description="The grid and worker of a scanned badge, for the registration page; null if it does not work (anymore). Public."
    )
    async def registration_badge(self, info: Info, token: str) -> RegistrationBadge | None:
        try:
            found = await badges.scanned_badge(info.context, token)
        except DomainError as error:
            if error.code != ErrorCode.INVALID_BADGE:
                raise
            return None
        return RegistrationBadge(
            community_name=found.community_name, worker_name=found.worker_name, grid_id=found.grid_id
        )


@strawberry.input(description="Stops every badge of a worker (a lost badge); the new ones carry a new version.")
class RevokeBadgeInput:
    grid_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="Admins: the grid whose worker's badges to revoke. Grid workers leave it out for their own.",
    )


@strawberry.type
class RevokeBadgePayload:
    revoked: bool
    errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Revokes a grid worker's badges; the next ones shown or printed work instead.")
    async def revoke_badge(self, info: Info, input: RevokeBadgeInput) -> RevokeBadgePayload:
        outcome = await attempt(
            info,
            lambda: badges.revoke_badge(
                info.context, decode_id(input.grid_id, "Grid", "gridId") if input.grid_id else None
            ),
        )
        return RevokeBadgePayload(revoked=outcome.value is not None, errors=outcome.errors)
