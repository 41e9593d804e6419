"""Onboarding a street office from its manifest: idempotent, in one transaction.

Rows are matched by natural keys (codes, phones, room names), so re-running a manifest changes
nothing and editing it updates exactly what changed. Rows missing from the manifest are left
alone: deleting a community with its history is not something a config file should do.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.appointments import AppointmentType
from models.base import TenantOwned, new_id
from models.bookings import Room
from models.complaints import ComplaintCategory
from models.inspections import Checklist, ChecklistItem
from models.organisation import Building, Community, Department, Grid
from models.passwords import Passwords
from models.people import MANIFEST_ROLES, Role, RoleGrant, User
from models.tenants import Tenant
from tenants.context import Services, unit_of_work
from tenants.manifests import Manifest
from tenants.sessions import bind_tenant

Progress = Callable[[int], None]


@dataclass
class OnboardingReport:
    tenant_id: uuid.UUID
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class _Sync:
    """Creates or updates rows of one table by natural key, counting what it did."""

    def __init__(self, session: AsyncSession, report: OnboardingReport, progress: Progress) -> None:
        self.session = session
        self.report = report
        self.progress = progress

    async def existing(self, model: type[TenantOwned], key: Sequence[str]) -> dict[tuple[Any, ...], Any]:
        rows = (await self.session.scalars(select(model))).all()
        return {tuple(getattr(row, k) for k in key): row for row in rows}

    def put(
        self, existing: dict[tuple[Any, ...], Any], model: type, key: dict[str, Any], values: dict[str, Any]
    ) -> Any:
        row = existing.get(tuple(key.values()))
        if row is None:
            row = model(id=new_id(), **key, **values)
            self.session.add(row)
            existing[tuple(key.values())] = row
            self.report.created += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        self.progress(1)
        return row


async def onboard(
    services: Services,
    manifest: Manifest,
    progress: Progress = lambda _: None,
    *,
    shared_hashes: dict[str, str] | None = None,
) -> OnboardingReport:
    """`shared_hashes` (password → argon2 hash, filled as it goes) gives every new account with the
    same initial password the same hash, salt included: for demo and benchmark data only, where one
    known password opens hundreds of accounts and hashing each at production cost would be nearly
    all the work. Without it every account gets its own salt."""
    async with unit_of_work(services, tenant=None, viewer=None, writes=True) as ctx:
        session = ctx.session
        assert session is not None
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == manifest.slug))
        settings = manifest.settings.model_dump(mode="json")
        if tenant is None:
            tenant = Tenant(id=new_id(), slug=manifest.slug, name=manifest.name, settings=settings)
            session.add(tenant)
            report = OnboardingReport(tenant.id, created=1)
        else:
            changed = (tenant.name, tenant.settings) != (manifest.name, settings)
            report = OnboardingReport(tenant.id, updated=int(changed), unchanged=int(not changed))
            tenant.name = manifest.name
            tenant.settings = settings
        await session.flush()
        await bind_tenant(session, tenant.id)
        # No ORM relationships tell the unit of work which table goes first, so _apply flushes
        # each level before the next refers to it.
        await _apply(_Sync(session, report, progress), manifest, _InitialPasswords(services.passwords, shared_hashes))
    return report


class _InitialPasswords:
    def __init__(self, passwords: Passwords, shared_hashes: dict[str, str] | None) -> None:
        self.passwords = passwords
        self.shared_hashes = shared_hashes

    async def hash(self, password: str | None) -> str:
        # Without an initial password the account exists but cannot sign in until one is set.
        if not password:
            return await self.passwords.hash(secrets.token_urlsafe(32))
        if self.shared_hashes is None:
            return await self.passwords.hash(password)
        if password not in self.shared_hashes:
            self.shared_hashes[password] = await self.passwords.hash(password)
        return self.shared_hashes[password]


async def _apply(sync: _Sync, m: Manifest, passwords: _InitialPasswords) -> None:
    session = sync.session
    departments = await sync.existing(Department, ["code"])
    for d in m.departments:
        sync.put(departments, Department, {"code": d.code}, {"name": d.name})
    communities = await sync.existing(Community, ["code"])
    for c in m.communities:
        sync.put(communities, Community, {"code": c.code}, {"name": c.name})
    await session.flush()

    users = await sync.existing(User, ["phone"])
    for member in m.staff:
        is_new = (member.phone,) not in users
        user = sync.put(users, User, {"phone": member.phone}, {"name": member.name})
        if is_new:
            user.password_hash = await passwords.hash(member.initial_password)
    await session.flush()
    await _sync_grants(sync, m, users, communities, departments)

    grids = await sync.existing(Grid, ["code"])
    for c in m.communities:
        community_id = communities[(c.code,)].id
        for g in c.grids:
            worker_id = users[(g.worker,)].id if g.worker else None
            sync.put(
                grids,
                Grid,
                {"code": g.code},
                {"name": g.name, "community_id": community_id, "worker_id": worker_id, "boundary": g.boundary},
            )
    await session.flush()
    buildings = await sync.existing(Building, ["code"])
    for c in m.communities:
        for g in c.grids:
            for b in g.buildings:
                grid_id = grids[(g.code,)].id
                longitude, latitude = b.location or (None, None)
                sync.put(
                    buildings,
                    Building,
                    {"code": b.code},
                    {
                        "name": b.name,
                        "units": b.units,
                        "grid_id": grid_id,
                        "longitude": longitude,
                        "latitude": latitude,
                    },
                )
    await session.flush()

    categories = await sync.existing(ComplaintCategory, ["code"])
    for cat in m.categories:
        department = departments[(cat.default_department,)].id if cat.default_department else None
        sync.put(
            categories,
            ComplaintCategory,
            {"code": cat.code},
            {
                "name": cat.name,
                "acknowledge_hours": cat.acknowledge_hours,
                "resolve_days": cat.resolve_days,
                "default_department_id": department,
            },
        )
    await session.flush()
    await _sync_checklists(sync, m, categories)
    rooms = await sync.existing(Room, ["community_id", "name"])
    for c in m.communities:
        for r in c.rooms:
            sync.put(
                rooms,
                Room,
                {"community_id": communities[(c.code,)].id, "name": r.name},
                r.model_dump(mode="json", exclude={"name"}),
            )
    await session.flush()
    kinds = await sync.existing(AppointmentType, ["code"])
    for kind in m.appointment_types:
        room_id = rooms[(communities[(kind.room.community,)].id, kind.room.name)].id if kind.room else None
        department_id = departments[(kind.department,)].id if kind.department else None
        sync.put(
            kinds,
            AppointmentType,
            {"code": kind.code},
            {"name": kind.name, "department_id": department_id, "room_id": room_id},
        )
    await session.flush()


async def _sync_checklists(sync: _Sync, m: Manifest, categories: dict[tuple[Any, ...], Any]) -> None:
    checklists = await sync.existing(Checklist, ["code"])
    for c in m.inspection_checklists:
        sync.put(checklists, Checklist, {"code": c.code}, {"name": c.name})
    await sync.session.flush()
    items = await sync.existing(ChecklistItem, ["checklist_id", "code"])
    for c in m.inspection_checklists:
        for position, item in enumerate(c.items):
            sync.put(
                items,
                ChecklistItem,
                {"checklist_id": checklists[(c.code,)].id, "code": item.code},
                {"label": item.label, "position": position, "category_id": categories[(item.category,)].id},
            )
    await sync.session.flush()


async def _sync_grants(
    sync: _Sync,
    m: Manifest,
    users: dict[tuple[Any, ...], Any],
    communities: dict[tuple[Any, ...], Any],
    departments: dict[tuple[Any, ...], Any],
) -> None:
    """Staff named in the manifest hold exactly the staff roles it lists (a role the app gave
    them, as a resident or a building leader, stays). Whoever's roles changed gets a new session
    version: access tokens carry roles, so the old ones must stop working."""
    session = sync.session
    existing = await sync.existing(RoleGrant, ["user_id", "role", "community_id", "department_id"])
    changed: set[uuid.UUID] = set()
    for member in m.staff:
        user_id = users[(member.phone,)].id
        wanted = {
            (
                user_id,
                Role(g.role),
                communities[(g.community,)].id if g.community else None,
                departments[(g.department,)].id if g.department else None,
            )
            for g in member.roles
        }
        for key, grant in list(existing.items()):
            if key[0] == user_id and key[1] in MANIFEST_ROLES and key not in wanted:
                await session.delete(grant)
                del existing[key]
                sync.report.updated += 1
                changed.add(user_id)
        changed.update(key[0] for key in wanted if key not in existing)
        for user, role, community_id, department_id in sorted(wanted, key=str):
            sync.put(
                existing,
                RoleGrant,
                {"user_id": user, "role": role, "community_id": community_id, "department_id": department_id},
                {},
            )
    await session.flush()
    if changed:
        await session.execute(update(User).where(User.id.in_(changed)).values(session_version=User.session_version + 1))
