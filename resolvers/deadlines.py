"""The tenant's working calendar and settings, shared by every use case with a deadline."""

from __future__ import annotations

from models.calendar import OfficialCalendar, WorkingCalendar, parse_overrides
from tenants.context import RequestContext


def calendar_of(ctx: RequestContext) -> WorkingCalendar:
    """The platform's holiday table comes with the tenant (tenants.directory): no query here."""
    official = ctx.tenant.holidays if ctx.tenant else OfficialCalendar()
    return WorkingCalendar(official, parse_overrides(tenant_setting(ctx, "calendar_overrides", {})))


def tenant_setting(ctx: RequestContext, name: str, default: object) -> object:
    return (ctx.tenant.settings if ctx.tenant else {}).get(name, default)
