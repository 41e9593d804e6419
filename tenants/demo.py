"""Demo data: the shipped street offices, their residents and households (Faker, zh_CN), their
complaints, room bookings and appointments, volunteers, population records, a month of grid work
and home visits, and a signed-in account for every role, so GraphiQL
shows a living system."""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import new_id, utcnow
from models.households import IdNumberVault
from models.organisation import Building, Household
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User
from tenants.context import Services, unit_of_work
from tenants.demo_bookings import add_appointments, add_bookings
from tenants.demo_complaints import add_complaints
from tenants.demo_gridwork import add_grid_work
from tenants.demo_households import add_households
from tenants.demo_volunteers import add_volunteers
from tenants.directory import TenantInfo
from tenants.manifests import MANIFESTS_DIR, load_manifest
from tenants.onboarding import Progress, onboard

DEMO_PASSWORD = "Wanjia@2026"
# The same phone registered in both street offices: one person, two separate accounts.
DEMO_RESIDENT_PHONE = "13800138000"


@dataclass(frozen=True)
class DemoTenant:
    manifest: str
    residents: int
    complaints: int
    phone_prefix: str


DEMO_TENANTS = (
    DemoTenant("wanqinglu.toml", residents=300, complaints=300, phone_prefix="1370472"),
    DemoTenant("qingshanlu.toml", residents=60, complaints=60, phone_prefix="1370473"),
)


async def load_demo(services: Services, progress: Progress = lambda _: None) -> list[str]:
    """Onboards the demo street offices and gives each its residents (once). Returns slugs."""
    resident_hash = await services.passwords.hash(DEMO_PASSWORD)
    slugs = []
    for demo in DEMO_TENANTS:
        manifest = load_manifest(MANIFESTS_DIR / demo.manifest)
        report = await onboard(services, manifest, progress)
        tenant = TenantInfo(id=report.tenant_id, slug=manifest.slug, name=manifest.name, settings=manifest.settings)
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=True) as ctx:
            session = ctx.session
            assert session is not None
            if not await session.scalar(select(func.count()).select_from(ResidentProfile)):
                first_building = manifest.communities[0].grids[0].buildings[0].code
                await _add_residents(session, demo, resident_hash, first_building)
                await add_complaints(session, demo.complaints, seed=demo.phone_prefix, featured=DEMO_RESIDENT_PHONE)
                await add_bookings(session, seed=demo.phone_prefix)
                await add_appointments(session, seed=demo.phone_prefix)
                await add_volunteers(session, seed=demo.phone_prefix)
                await add_grid_work(session, seed=demo.phone_prefix, community_code=manifest.communities[0].code)
                await add_households(
                    session,
                    seed=demo.phone_prefix,
                    vault=_vault(services),
                    tenant_id=tenant.id,
                    now=utcnow(),
                    featured_grid=manifest.communities[0].grids[0].code,
                )
        slugs.append(manifest.slug)
    return slugs


def _vault(services: Services) -> IdNumberVault:
    key = services.settings.personal_data_key
    assert key is not None
    return IdNumberVault(key.get_secret_value().encode())


async def _add_residents(session: AsyncSession, demo: DemoTenant, password_hash: str, first_building: str) -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(demo.phone_prefix)
    chooser = random.Random(demo.phone_prefix)
    buildings = (
        await session.execute(select(Building.id, Building.units, Building.code).order_by(Building.code))
    ).all()
    demo_building = next(b for b in buildings if b.code == first_building)
    households: dict[tuple[object, str], Household] = {}
    dependents: list[object] = []
    now = utcnow()
    for n in range(demo.residents + 1):
        # The README's resident (n = 0) and the next few live in the first grid, the README's
        # grid worker's: the few wait for verification; of the rest, about one in eight waits.
        first_grid = 1 <= n <= 3
        building = demo_building if n <= 3 else chooser.choice(buildings)
        room = f"{chooser.randint(1, building.units)}-{chooser.randint(1, 6)}0{chooser.randint(1, 4)}"
        phone = DEMO_RESIDENT_PHONE if n == 0 else f"{demo.phone_prefix}{n:04d}"
        pending = first_grid or (n != 0 and chooser.random() < 0.125)
        household = None
        if not pending:
            household = households.get((building.id, room))
            if household is None:
                household = Household(id=new_id(), building_id=building.id, room=room)
                households[(building.id, room)] = household
                session.add(household)
        user = User(id=new_id(), phone=phone, name=fake.name(), password_hash=password_hash)
        session.add(user)
        dependents += [
            RoleGrant(id=new_id(), user_id=user.id, role=Role.RESIDENT),
            ResidentProfile(
                id=user.id,
                building_id=building.id,
                room=room,
                household_id=household.id if household else None,
                status=ResidentStatus.PENDING if pending else ResidentStatus.VERIFIED,
                reviewed_at=None if pending else now,
            ),
        ]
    # No ORM relationships tell the unit of work the order, so parents are flushed first.
    await session.flush()
    session.add_all(dependents)
    await session.flush()
