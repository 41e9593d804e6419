"""Demo population records and visits: every household's members (the verified residents and
relatives without accounts, ID numbers sealed with the server's key), care tags, a first history
entry, and a month of home visits in the first community, most for the README's grid worker
(13904721001, 青年路社区第1网格). A few care households there are left overdue on purpose, so
`careVisitsDue` and the sweep have something to show. Households are where verified residents
live, and most rooms of the README's worker's grid.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import new_id
from models.households import (
    HouseholdChange,
    HouseholdHistoryEntry,
    HouseholdMember,
    HouseholdMemberTag,
    IdNumberVault,
    ResidenceStatus,
)
from models.organisation import Building, Grid, Household
from models.people import ID_CHECK_DIGITS, ID_WEIGHTS, ResidentProfile, ResidentStatus, User
from models.visits import HouseholdVisit, VisitFinding, VisitKind

RELATIVES = ("配偶", "子女", "父亲", "母亲", "孙子女", "儿媳", "女婿")
STATUSES = (
    [ResidenceStatus.HUKOU] * 6 + [ResidenceStatus.RESIDENT] * 2 + [ResidenceStatus.FLOATING, ResidenceStatus.NOMINAL]
)
NOTES = (
    "家中整洁，老人精神状态良好。",
    "了解家庭近况，宣传垃圾分类政策。",
    "反映楼道照明不足，已记录。",
    "提醒冬季取暖安全，检查燃气管道。",
    "宣传高龄津贴和医保缴费政策。",
    "调解邻里噪音纠纷，双方已达成谅解。",
)
FINDINGS = ("楼道堆放杂物", "单元门禁损坏", "燃气软管老化", "屋顶漏水")


def _id_number(chooser: random.Random, birth: date) -> str:
    body = f"150203{birth:%Y%m%d}{chooser.randint(0, 999):03d}"
    return body + ID_CHECK_DIGITS[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def _birth(chooser: random.Random, today: date, youngest: int, oldest: int) -> date:
    return today - timedelta(days=chooser.randint(youngest * 365, oldest * 365))


def _tags(chooser: random.Random, age: int, alone: bool) -> list[str]:
    if age >= 70 and alone:
        return ["独居老人"]
    roll = chooser.random()
    if age >= 65 and roll < 0.4:
        return ["空巢老人"]
    if roll < 0.05:
        return ["残疾人"]
    if roll < 0.10:
        return ["低保"]
    if age >= 40 and roll < 0.14:
        return ["退役军人"]
    if roll < 0.16:
        return ["重点关注"]
    return []


async def add_households(
    session: AsyncSession, *, seed: str, vault: IdNumberVault, tenant_id: uuid.UUID, now: datetime, featured_grid: str
) -> None:
    """`featured_grid`: the README's grid worker's grid, which gets a household in most rooms."""
    fake = Faker("zh_CN")
    fake.seed_instance(f"households-{seed}")
    chooser = random.Random(f"households-{seed}")
    today = now.date()
    featured = await _fill_featured_grid(session, featured_grid, chooser)
    places = (
        await session.execute(
            select(
                Household.id, Household.room, Building.id.label("building_id"), Grid.id.label("grid_id"), Grid.worker_id
            )
            .join(Building, (Building.tenant_id == Household.tenant_id) & (Building.id == Household.building_id))
            .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
        )
    ).all()
    residents: dict[uuid.UUID, list[tuple[uuid.UUID, str, str]]] = defaultdict(list)
    for row in (
        await session.execute(
            select(ResidentProfile.household_id, User.id, User.name, User.phone)
            .join(User, (User.tenant_id == ResidentProfile.tenant_id) & (User.id == ResidentProfile.id))
            .where(ResidentProfile.status == ResidentStatus.VERIFIED, ResidentProfile.household_id.is_not(None))
            .order_by(User.phone)
        )
    ).all():
        residents[row.household_id].append((row.id, row.name, row.phone))

    rows: list[object] = []
    tags: list[HouseholdMemberTag] = []
    care_households: set[uuid.UUID] = set()
    for place in places:
        registered = now - timedelta(days=chooser.randint(60, 900))
        accounts = residents.get(place.id, [])
        relatives = chooser.choice((0, 0, 1, 1, 2, 3)) if accounts else chooser.choice((1, 1, 2, 3))
        alone = len(accounts) + relatives == 1
        people: list[tuple[str, str, str | None, uuid.UUID | None]] = [
            (name, "户主" if n == 0 else "家庭成员", phone, user_id)
            for n, (user_id, name, phone) in enumerate(accounts)
        ]
        people += [
            (fake.name(), "户主" if not accounts and n == 0 else chooser.choice(RELATIVES), None, None)
            for n in range(relatives)
        ]
        for name, relation, phone, user_id in people:
            age = chooser.randint(72, 92) if alone and chooser.random() < 0.5 else chooser.randint(3, 85)
            birth = _birth(chooser, today, age, age + 1)
            number = _id_number(chooser, birth) if chooser.random() < 0.8 else None
            member = HouseholdMember(
                id=new_id(),
                household_id=place.id,
                name=name,
                relation=relation,
                id_number_sealed=vault.seal(tenant_id, number) if number else None,
                id_number_index=vault.index(tenant_id, number) if number else None,
                phone=phone or (f"137{chooser.randint(0, 99_999_999):08d}" if chooser.random() < 0.3 else None),
                birth_date=birth,
                residence_status=chooser.choice(STATUSES),
                user_id=user_id,
                moved_in_at=registered,
            )
            rows.append(member)
            for tag in _tags(chooser, age, alone):
                tags.append(HouseholdMemberTag(id=new_id(), member_id=member.id, tag=tag))
                if tag in ("独居老人", "空巢老人", "残疾人", "低保", "重点关注"):
                    care_households.add(place.id)
        rows.append(
            HouseholdHistoryEntry(
                id=new_id(),
                household_id=place.id,
                actor_id=place.worker_id,
                change=HouseholdChange.CREATED,
                changes={"room": [None, place.room], "members": [None, len(people)]},
                at=registered,
            )
        )
    session.add_all(rows)
    await session.flush()
    session.add_all(tags)
    await session.flush()
    await _add_visits(session, places, care_households, chooser, now, featured)


async def _fill_featured_grid(session: AsyncSession, code: str, chooser: random.Random) -> Grid:
    grid = (await session.scalars(select(Grid).where(Grid.code == code))).one()
    buildings = (await session.execute(select(Building.id, Building.units).where(Building.grid_id == grid.id))).all()
    taken = {
        (row.building_id, row.room) for row in await session.execute(select(Household.building_id, Household.room))
    }
    rooms = {
        (b.id, f"{unit}-{floor}0{door}")
        for b in buildings
        for unit in range(1, b.units + 1)
        for floor in range(1, 7)
        for door in (1, 2)
    }
    session.add_all(
        Household(id=new_id(), building_id=building_id, room=room)
        for building_id, room in sorted(rooms - taken, key=str)
        if chooser.random() < 0.3
    )
    await session.flush()
    return grid


async def _add_visits(
    session: AsyncSession,
    places: Sequence[Any],
    care_households: set[uuid.UUID],
    chooser: random.Random,
    now: datetime,
    featured: Grid,
) -> None:
    """A month of visits by the workers of the featured grid's community: its own worker visits
    most of their households, care ones every week or so, a few left overdue."""
    readme_worker = featured.worker_id
    grids = set((await session.scalars(select(Grid.id).where(Grid.community_id == featured.community_id))).all())
    visits: list[HouseholdVisit] = []
    findings: list[VisitFinding] = []
    left_overdue = 0
    for place in places:
        if place.grid_id not in grids or place.worker_id is None:
            continue
        mine = place.worker_id == readme_worker
        care = place.id in care_households
        if care and mine and left_overdue < 3:
            left_overdue += 1
            continue
        if not care and chooser.random() > (0.7 if mine else 0.3):
            continue
        days = sorted(chooser.sample(range(1, 30), 4 if care else chooser.randint(1, 2)))
        for day in days:
            visit = HouseholdVisit(
                id=new_id(),
                household_id=place.id,
                worker_id=place.worker_id,
                kind=VisitKind.CARE
                if care
                else chooser.choice((VisitKind.ROUTINE, VisitKind.POLICY, VisitKind.DISPUTE)),
                visited_at=now - timedelta(days=day, hours=chooser.randint(0, 8)),
                latitude=40.657 + chooser.uniform(-0.004, 0.004),
                longitude=109.840 + chooser.uniform(-0.004, 0.004),
                notes=chooser.choice(NOTES),
                follow_up_on=(now + timedelta(days=7)).date() if chooser.random() < 0.1 else None,
                recorded_at=now - timedelta(days=day),
            )
            visits.append(visit)
            if chooser.random() < 0.1:
                findings.append(VisitFinding(id=new_id(), visit_id=visit.id, description=chooser.choice(FINDINGS)))
    session.add_all(visits)
    await session.flush()
    session.add_all(findings)
    await session.flush()
