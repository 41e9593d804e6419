"""The street office a request is served for."""

from __future__ import annotations

import strawberry

from schema.common import Info


@strawberry.type(description="街道: the street office (tenant) this request is served for.")
class Tenant:
    slug: str
    name: str


@strawberry.type
class Query:
    @strawberry.field(
        description="The street office named by the token, X-Tenant header or subdomain; null if none is named."
    )
    def tenant(self, info: Info) -> Tenant | None:
        tenant = info.context.tenant
        return Tenant(slug=tenant.slug, name=tenant.name) if tenant else None
