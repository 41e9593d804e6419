"""Demo volunteering: volunteers of every community (some waiting for review, a few rejected,
在职党员 among them), teams with leaders, and activities in every state with their sign-ups,
check-ins, hours, points and rankings, so each role's screens have something in them.

The demo resident (13800138000) is an approved volunteer of 青年路社区 and leads its 红马甲 team.
Every activity is on a day of its own, so no volunteer holds two at once.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import new_id, utcnow
from models.calendar import SHANGHAI
from models.organisation import Building, Community, Grid
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User
from models.volunteers import (
    ActivityAction,
    ActivityStatus,
    Availability,
    PointsEntryKind,
    SignupStatus,
    Volunteer,
    VolunteerActivity,
    VolunteerActivityEvent,
    VolunteerMonthlyTotal,
    VolunteerPointsEntry,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerTeam,
    VolunteerTeamMember,
    points_for,
    served_minutes,
    service_month,
)

DEMO_RESIDENT_PHONE = "13800138000"
SKILLS = [
    "医疗救护",
    "法律咨询",
    "心理疏导",
    "助老助残",
    "教育辅导",
    "文艺演出",
    "环境保护",
    "治安巡逻",
    "垃圾分类指导",
    "理发义剪",
    "家电维修",
    "摄影摄像",
]
WORK_UNITS = ["包钢集团", "青山区税务局", "包头市第一医院", "青山区实验小学", "包头供电局"]
TEAMS = [("红马甲志愿服务队", "社区环境整治、文明劝导和应急值守。"), ("银龄互助队", "低龄老人帮扶高龄、独居老人。")]


@dataclass(frozen=True)
class Plan:
    """One demo activity: days from today, hours, and what became of it."""

    title: str
    description: str
    place: str
    days: int
    start: int
    hours: int
    capacity: int
    status: ActivityStatus
    skills: tuple[str, ...] = ()
    street_wide: bool = False
    team: bool = False
    signups: int = 0
    reason: str | None = None


PLANS = [
    Plan(
        "垃圾分类宣传进小区",
        "在小区门口设点宣传垃圾分类知识，指导居民正确投放。",
        "{community}党群服务中心门前",
        -16,
        9,
        3,
        10,
        ActivityStatus.COMPLETED,
        signups=8,
    ),
    Plan(
        "敬老院陪伴日",
        "陪伴老人聊天、读报、剪指甲，协助打扫活动室。",
        "青山区社会福利院",
        -9,
        14,
        3,
        8,
        ActivityStatus.COMPLETED,
        ("助老助残",),
        signups=8,
    ),
    Plan(
        "冬季楼道清扫",
        "清扫楼道杂物和小广告，排查消防通道堵塞。",
        "{community}各楼栋",
        -3,
        9,
        2,
        12,
        ActivityStatus.COMPLETED,
        team=True,
        signups=10,
    ),
    Plan(
        "户外健步走",
        "组织居民沿昆河健步走，志愿者负责沿途安全引导。",
        "昆都仑河公园",
        2,
        8,
        2,
        15,
        ActivityStatus.CANCELLED,
        signups=4,
        reason="预报大风降温，活动取消，另行通知。",
    ),
    Plan(
        "清扫积雪保畅通",
        "雪后清扫小区主干道和人行道积雪，撒融雪剂。",
        "{community}各小区主干道",
        1,
        8,
        3,
        20,
        ActivityStatus.PUBLISHED,
        team=True,
        signups=6,
    ),
    Plan(
        "义诊进社区",
        "联合社区卫生服务中心为居民测血压、血糖，宣传冬季常见病防治。",
        "万青路街道便民服务中心",
        4,
        9,
        3,
        4,
        ActivityStatus.PUBLISHED,
        ("医疗救护",),
        street_wide=True,
        signups=6,
    ),
    Plan(
        "反诈宣传进楼栋",
        "入户发放防范电信诈骗宣传册，帮助老人安装国家反诈中心APP。",
        "{community}",
        6,
        14,
        2,
        3,
        ActivityStatus.PUBLISHED,
        signups=5,
    ),
    Plan(
        "理发义剪",
        "为社区老人、残疾人免费理发。",
        "{community}党群服务中心",
        8,
        9,
        3,
        3,
        ActivityStatus.PUBLISHED,
        ("理发义剪",),
        signups=0,
    ),
    Plan(
        "春节写春联送福",
        "邀请书法志愿者为居民写春联、送福字。",
        "{community}党群服务中心",
        30,
        9,
        3,
        6,
        ActivityStatus.DRAFT,
    ),
]


def _at(day_offset: int, hour: int, now: datetime) -> datetime:
    day = now.astimezone(SHANGHAI).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), SHANGHAI)


async def add_volunteers(session: AsyncSession, seed: str) -> None:
    chooser = random.Random(f"volunteers-{seed}")
    now = utcnow()
    residents = (
        await session.execute(
            select(ResidentProfile.id, Grid.community_id, User.phone)
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
    admins = {
        row.community_id: row.user_id
        for row in (
            await session.execute(
                select(RoleGrant.community_id, RoleGrant.user_id).where(RoleGrant.role == Role.COMMUNITY_ADMIN)
            )
        ).all()
    }
    tenant_admin = await session.scalar(select(RoleGrant.user_id).where(RoleGrant.role == Role.TENANT_ADMIN))
    communities = (await session.execute(select(Community.id, Community.name).order_by(Community.code))).all()

    volunteers: dict[uuid.UUID, list[Volunteer]] = {c.id: [] for c in communities}
    applied: dict[uuid.UUID, int] = {c.id: 0 for c in communities}
    for resident in residents:
        demo = resident.phone == DEMO_RESIDENT_PHONE
        if not demo and chooser.random() > 0.35:
            continue
        # Every community's review queue has someone in it, and someone was turned down.
        order = applied[resident.community_id]
        applied[resident.community_id] += 1
        status = VolunteerStatus.APPROVED
        if not demo and order in (1, 9):
            status = VolunteerStatus.PENDING
        elif not demo and order == 6:
            status = VolunteerStatus.REJECTED
        party = demo or chooser.random() < 0.25
        row = Volunteer(
            id=resident.id,
            community_id=resident.community_id,
            skills=["助老助残", "医疗救护", "理发义剪"] if demo else chooser.sample(SKILLS, chooser.randint(1, 3)),
            availability=[a.value for a in chooser.sample(list(Availability), 2)],
            availability_note="下班后和周末都可以" if demo else None,
            party_member_reporting=party,
            work_unit=chooser.choice(WORK_UNITS) if party else None,
            status=status,
            reason="请先完成居民身份核实后再申请" if status is VolunteerStatus.REJECTED else None,
            decided_by_id=admins.get(resident.community_id, tenant_admin)
            if status is not VolunteerStatus.PENDING
            else None,
            decided_at=now - timedelta(days=30) if status is not VolunteerStatus.PENDING else None,
            applied_at=now - timedelta(days=chooser.randint(31, 200))
            if status is not VolunteerStatus.PENDING
            else now - timedelta(days=1),
            total_minutes=0,
            points_balance=0,
            points_earned=0,
        )
        session.add(row)
        if status is VolunteerStatus.APPROVED:
            # The demo resident first: they lead their community's first team.
            volunteers[resident.community_id].insert(0 if demo else len(volunteers[resident.community_id]), row)
    await session.flush()

    teams: dict[uuid.UUID, VolunteerTeam] = {}
    members: list[VolunteerTeamMember] = []
    for community in communities:
        pool = volunteers[community.id]
        for t, (name, description) in enumerate(TEAMS):
            team = VolunteerTeam(
                id=new_id(),
                community_id=community.id,
                name=f"{community.name}{name}",
                description=description,
                created_by_id=admins.get(community.id, tenant_admin),
                created_at=now - timedelta(days=120),
            )
            session.add(team)
            if t == 0:
                teams[community.id] = team
            for k, member in enumerate(pool[t::2][:8]):
                members.append(
                    VolunteerTeamMember(
                        id=new_id(),
                        team_id=team.id,
                        volunteer_id=member.id,
                        is_leader=k == 0,
                        joined_at=now - timedelta(days=100),
                    )
                )
    await session.flush()
    session.add_all(members)
    await session.flush()

    ledger: list[VolunteerPointsEntry] = []
    totals: dict[tuple[uuid.UUID, int], VolunteerMonthlyTotal] = {}
    for community in communities:
        organiser = admins.get(community.id, tenant_admin)
        pool = volunteers[community.id]
        for plan in PLANS:
            if plan.street_wide and community.id != communities[0].id:
                continue
            starts = _at(plan.days, plan.start, now)
            ends = starts + timedelta(hours=plan.hours)
            activity_team = teams[community.id] if plan.team else None
            candidates = [v for v in pool if all(s in v.skills for s in plan.skills)] if plan.skills else pool
            chosen = candidates[: plan.signups]
            seated = min(len(chosen), plan.capacity)
            activity = VolunteerActivity(
                id=new_id(),
                community_id=None if plan.street_wide else community.id,
                team_id=activity_team.id if activity_team else None,
                organiser_id=organiser,
                title=plan.title,
                description=plan.description,
                place=plan.place.format(community=community.name),
                starts_at=starts,
                ends_at=ends,
                signup_deadline=starts - timedelta(hours=12),
                capacity=plan.capacity,
                taken=0 if plan.status is ActivityStatus.CANCELLED else seated,
                required_skills=list(plan.skills),
                points_per_hour=10,
                status=plan.status,
                reason=plan.reason,
                published_at=None if plan.status is ActivityStatus.DRAFT else starts - timedelta(days=7),
                completed_at=ends + timedelta(hours=1) if plan.status is ActivityStatus.COMPLETED else None,
                reminded_at=starts - timedelta(hours=20) if starts - timedelta(days=1) < now < starts else None,
                created_at=starts - timedelta(days=8),
                updated_at=starts - timedelta(days=7),
            )
            session.add(activity)
            await session.flush()
            steps: list[tuple[ActivityAction, ActivityStatus | None, ActivityStatus, datetime, str | None]] = [
                (ActivityAction.CREATE, None, ActivityStatus.DRAFT, starts - timedelta(days=8), None)
            ]
            if plan.status is not ActivityStatus.DRAFT:
                steps.append(
                    (
                        ActivityAction.PUBLISH,
                        ActivityStatus.DRAFT,
                        ActivityStatus.PUBLISHED,
                        starts - timedelta(days=7),
                        None,
                    )
                )
            if plan.status is ActivityStatus.CANCELLED:
                steps.append(
                    (
                        ActivityAction.CANCEL,
                        ActivityStatus.PUBLISHED,
                        ActivityStatus.CANCELLED,
                        now - timedelta(hours=3),
                        plan.reason,
                    )
                )
            if plan.status is ActivityStatus.COMPLETED:
                steps.append(
                    (
                        ActivityAction.COMPLETE,
                        ActivityStatus.PUBLISHED,
                        ActivityStatus.COMPLETED,
                        ends + timedelta(hours=1),
                        None,
                    )
                )
            session.add_all(
                VolunteerActivityEvent(
                    id=new_id(),
                    activity_id=activity.id,
                    action=action,
                    actor_id=organiser,
                    from_status=before,
                    to_status=after,
                    note=note,
                    created_at=at,
                )
                for action, before, after, at, note in steps
            )
            for k, member in enumerate(chosen):
                signup = VolunteerSignup(
                    id=new_id(),
                    activity_id=activity.id,
                    volunteer_id=member.id,
                    starts_at=starts,
                    ends_at=ends,
                    queued_at=starts - timedelta(days=6, minutes=-k),
                    created_at=starts - timedelta(days=6, minutes=-k),
                )
                if plan.status is ActivityStatus.CANCELLED:
                    signup.status, signup.cancelled_at, signup.reason = (
                        SignupStatus.CANCELLED,
                        now - timedelta(hours=3),
                        "活动已取消",
                    )
                elif k >= plan.capacity:
                    signup.status = (
                        SignupStatus.WAITLISTED if plan.status is ActivityStatus.PUBLISHED else SignupStatus.CANCELLED
                    )
                elif plan.status is not ActivityStatus.COMPLETED:
                    signup.status = SignupStatus.CONFIRMED
                elif k == len(chosen) - 1:
                    signup.status = SignupStatus.ABSENT
                else:
                    signup.status = SignupStatus.SERVED
                    signup.checked_in_at = (
                        starts - timedelta(minutes=chooser.randint(0, 20)) + timedelta(minutes=15 * (k % 3 == 2))
                    )
                    signup.checked_out_at = ends + timedelta(minutes=chooser.randint(-20, 30))
                    signup.minutes = served_minutes(signup.checked_in_at, signup.checked_out_at, starts, ends)
                    signup.points = points_for(signup.minutes, activity.points_per_hour)
                session.add(signup)
                if signup.status is SignupStatus.SERVED:
                    assert signup.minutes is not None and signup.points is not None
                    ledger.append(
                        _entry(
                            member,
                            PointsEntryKind.EARNED,
                            signup.minutes,
                            signup.points,
                            signup.id,
                            plan.title,
                            organiser,
                            ends,
                        )
                    )
                    _count(totals, member, service_month(starts), signup.minutes, signup.points)
    await session.flush()
    # A redemption at two communities' 爱心超市 (community charity shops), as the ledger keeps it.
    for community in communities[:2]:
        pool = [v for v in volunteers[community.id] if v.points_balance >= 20]
        if pool:
            member = pool[0]
            ledger.append(
                _entry(
                    member,
                    PointsEntryKind.REDEEMED,
                    0,
                    -20,
                    None,
                    "爱心超市兑换大米一袋",
                    admins.get(community.id, tenant_admin),
                    now - timedelta(days=1),
                )
            )
    session.add_all(ledger)
    session.add_all(totals.values())
    await session.flush()


def _entry(
    member: Volunteer,
    kind: PointsEntryKind,
    minutes: int,
    points: int,
    signup_id: uuid.UUID | None,
    note: str,
    actor: uuid.UUID | None,
    at: datetime,
) -> VolunteerPointsEntry:
    member.total_minutes += minutes
    member.points_balance += points
    if kind is not PointsEntryKind.REDEEMED:
        member.points_earned += points
    return VolunteerPointsEntry(
        id=new_id(),
        volunteer_id=member.id,
        kind=kind,
        minutes=minutes,
        points=points,
        signup_id=signup_id,
        note=note,
        actor_id=actor,
        created_at=at,
    )


def _count(
    totals: dict[tuple[uuid.UUID, int], VolunteerMonthlyTotal], member: Volunteer, month: int, minutes: int, points: int
) -> None:
    row = totals.setdefault(
        (member.id, month),
        VolunteerMonthlyTotal(
            id=new_id(), volunteer_id=member.id, community_id=member.community_id, month=month, minutes=0, points=0
        ),
    )
    row.minutes += minutes
    row.points += points
