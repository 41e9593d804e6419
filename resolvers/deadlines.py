"""The tenant's working calendar and settings, shared by every use case with a deadline."""

from __future__ import annotations

from models.calendar import WorkingCalendar, parse_overrides
from tenants.context import RequestContext


def calendar_of(ctx: RequestContext) -> WorkingCalendar:
    return WorkingCalendar(parse_overrides(tenant_setting(ctx, "calendar_overrides", {})))


def tenant_setting(ctx: RequestContext, name: str, default: object) -> object:
    return (ctx.tenant.settings if ctx.tenant else {}).get(name, default)
