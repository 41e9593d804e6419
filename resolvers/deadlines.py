"""The tenant's working calendar and settings, shared by every use case with a deadline."""

from __future__ import annotations

from models.calendar import OfficialCalendar, WorkingCalendar
from tenants.context import RequestContext
from tenants.manifests import SettingsSpec


def tenant_settings(ctx: RequestContext) -> SettingsSpec:
    """The street office's settings, typed; their defaults live in the spec alone."""
    return ctx.tenant.settings if ctx.tenant else SettingsSpec()


def calendar_of(ctx: RequestContext) -> WorkingCalendar:
    """The platform's holiday table comes with the tenant (tenants.directory): no query here."""
    official = ctx.tenant.holidays if ctx.tenant else OfficialCalendar()
    overrides = tenant_settings(ctx).calendar_overrides
    return WorkingCalendar(official, {day: kind == "work" for day, kind in overrides.items()})
