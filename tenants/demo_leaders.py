"""Demo building leaders: most buildings have one serving now (a few buildings none, a few an
earlier leader who was dismissed), so the board, the register and a leader's screens are full.

The leader of the README's resident's building is its verified resident with the lowest phone
number other than theirs: 13704720009 in 万青路街道, the README's building leader.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import new_id, utcnow
from models.leaders import BuildingLeader, BuildingLeaderEvent, LeaderAction, local_date
from models.organisation import Building, Grid
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User

DEMO_RESIDENT_PHONE = "13800138000"
# How many buildings have a leader serving now: "most" of them.
SHARE_LED = 0.85


async def add_leaders(session: AsyncSession, seed: str) -> dict[uuid.UUID, uuid.UUID]:
    """Leaders for most buildings; returns each led building's leader (user id). A leader
    lives in the building where someone verified does, else in its grid or community (one
    person may lead a few neighbouring buildings)."""
    chooser = random.Random(f"leaders-{seed}")
    now = utcnow()
    today = local_date(now)
    residents = (
        await session.execute(
            select(ResidentProfile.id, ResidentProfile.building_id, Building.grid_id, Grid.community_id, User.phone)
            .join(User, (User.tenant_id == ResidentProfile.tenant_id) & (User.id == ResidentProfile.id))
            .join(
                Building,
                (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id),
            )
            .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
            .where(ResidentProfile.status == ResidentStatus.VERIFIED)
            .order_by(User.phone)
        )
    ).all()
    buildings = (
        await session.execute(
            select(Building.id, Building.grid_id, Grid.community_id)
            .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
            .order_by(Building.code)
        )
    ).all()
    admins = {
        row.community_id: row.user_id
        for row in (
            await session.execute(
                select(RoleGrant.community_id, RoleGrant.user_id).where(RoleGrant.role == Role.COMMUNITY_ADMIN)
            )
        ).all()
    }
    tenant_admin = await session.scalar(select(RoleGrant.user_id).where(RoleGrant.role == Role.TENANT_ADMIN))
    candidates = [r for r in residents if r.phone != DEMO_RESIDENT_PHONE]
    by_place: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in candidates:
        for place in (row.building_id, row.grid_id, row.community_id):
            by_place.setdefault(place, []).append(row.id)
    # Always led: the README's resident's building (by its first other verified resident,
    # the README's building leader) and the first building of the list the README reads.
    home = next((r.building_id for r in residents if r.phone == DEMO_RESIDENT_PHONE), None)
    always = {home, buildings[0].id if buildings else None}

    led: dict[uuid.UUID, uuid.UUID] = {}
    terms: list[BuildingLeader] = []
    events: list[BuildingLeaderEvent] = []
    for building in buildings:
        if building.id not in always and chooser.random() > SHARE_LED:
            continue
        pool = next((by_place[p] for p in (building.id, building.grid_id, building.community_id) if p in by_place), [])
        if not pool:
            continue
        leader_id = pool[0] if building.id == home else chooser.choice(pool)
        appointer = admins.get(building.community_id, tenant_admin)
        assert appointer is not None
        others = [p for p in pool if p != leader_id]
        if others and chooser.random() < 0.08:
            # An earlier leader, dismissed: the register and the timeline show it.
            started = today - timedelta(days=chooser.randint(400, 700))
            earlier = BuildingLeader(
                id=new_id(),
                user_id=chooser.choice(others),
                building_id=building.id,
                community_id=building.community_id,
                starts_on=started,
                ends_on=started + timedelta(days=3 * 365),
                appointed_by_id=appointer,
                appointed_at=now - (today - started),
                dismissed_by_id=appointer,
                dismissed_at=now - timedelta(days=chooser.randint(60, 300)),
                dismissal_reason="已搬离本楼栋",
            )
            terms.append(earlier)
            events += _events(earlier, appointer)
        started = today - timedelta(days=chooser.randint(10, 300))
        term = BuildingLeader(
            id=new_id(),
            user_id=leader_id,
            building_id=building.id,
            community_id=building.community_id,
            starts_on=started,
            ends_on=started + timedelta(days=3 * 365 - 1),
            appointed_by_id=appointer,
            appointed_at=now - (today - started),
        )
        terms.append(term)
        events += _events(term, appointer)
        led[building.id] = leader_id
    session.add_all(terms)
    session.add_all(RoleGrant(id=new_id(), user_id=user_id, role=Role.BUILDING_LEADER) for user_id in set(led.values()))
    await session.flush()
    session.add_all(events)
    await session.flush()
    return led


def _events(term: BuildingLeader, actor: uuid.UUID) -> list[BuildingLeaderEvent]:
    made = [
        BuildingLeaderEvent(
            id=new_id(),
            term_id=term.id,
            action=LeaderAction.APPOINT,
            actor_id=actor,
            note=f"任期 {term.starts_on.isoformat()} 至 {term.ends_on.isoformat()}",
            created_at=term.appointed_at,
        )
    ]
    if term.dismissed_at is not None:
        made.append(
            BuildingLeaderEvent(
                id=new_id(),
                term_id=term.id,
                action=LeaderAction.DISMISS,
                actor_id=actor,
                note=term.dismissal_reason,
                created_at=term.dismissed_at,
            )
        )
    return made
