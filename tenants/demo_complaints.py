"""Demo complaints: a few hundred across every state and category, each with the timeline its
state implies, so GraphiQL shows inboxes, work orders, overdue items and rated resolutions."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import new_id, utcnow
from models.calendar import WorkingCalendar
from models.complaints import (
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintSource,
    ComplaintStatus,
    WorkOrder,
)
from models.organisation import Building, Department, Grid
from models.people import ResidentProfile, User

# (category code, title, content, handler's reply)
STORIES = [
    (
        "environment",
        "楼道堆放杂物",
        "3单元楼道堆满纸箱和旧家具，影响通行，存在消防隐患。",
        "已联系物业和住户清理，楼道已畅通。",
    ),
    ("environment", "垃圾桶满溢", "小区东门垃圾桶两天没有清运，气味很大。", "已协调环卫公司增加清运频次。"),
    ("environment", "绿化带有积水", "楼前绿化带积水发臭，蚊虫很多。", "已疏通排水口并喷洒消杀药剂。"),
    ("property", "电梯经常停运", "2号楼电梯一周内停了三次，老人上下楼很困难。", "物业已请维保单位检修并更换控制板。"),
    ("property", "物业费公示不清", "希望物业公开去年的物业费收支明细。", "已督促物业在公告栏公示收支明细。"),
    ("property", "单元门禁损坏", "5单元门禁坏了半个月，外来人员随意进出。", "物业已更换门禁主板。"),
    ("infrastructure", "路灯不亮", "小区南侧道路两盏路灯不亮，晚上走路不安全。", "已报修供电部门，路灯恢复照明。"),
    ("infrastructure", "井盖松动", "8号楼前井盖松动，车辆经过声音很大。", "已联系市政部门固定井盖。"),
    ("infrastructure", "下水道堵塞", "1单元一楼下水道返水，味道难闻。", "已安排疏通，管道恢复正常。"),
    ("urban", "占道经营", "小区门口早市摊贩占用人行道，行人只能走机动车道。", "城管中队已劝导摊贩进入规定区域经营。"),
    ("urban", "乱停车堵消防通道", "消防通道上长期停放私家车。", "已张贴告知书并联系车主挪车，增设禁停标识。"),
    ("urban", "广告乱贴乱画", "楼道墙面贴满小广告。", "已组织志愿者清理。"),
    ("epidemic", "公共区域消杀", "希望加强电梯和楼道扶手的消毒。", "物业已每日两次消杀并登记。"),
    ("other", "建议增设休息座椅", "小区广场没有座椅，老人散步累了没地方坐。", "已协调在广场增设6组座椅。"),
    ("other", "噪音扰民", "楼上住户深夜装修，噪音很大。", "网格员已上门沟通，住户承诺按规定时间施工。"),
]

# Final states and how often each occurs: most items are closed, as in the source story.
STATES = [
    (ComplaintStatus.CLOSED, 45),
    (ComplaintStatus.RESOLVED, 10),
    (ComplaintStatus.IN_PROGRESS, 10),
    (ComplaintStatus.DISPATCHED, 8),
    (ComplaintStatus.ACCEPTED, 8),
    (ComplaintStatus.SUBMITTED, 9),
    (ComplaintStatus.REJECTED, 4),
    (ComplaintStatus.REOPENED, 3),
    (ComplaintStatus.WITHDRAWN, 3),
]

S = ComplaintStatus
PATHS: dict[ComplaintStatus, list[tuple[ComplaintAction, ComplaintStatus]]] = {
    S.SUBMITTED: [],
    S.ACCEPTED: [(ComplaintAction.ACCEPT, S.ACCEPTED)],
    S.IN_PROGRESS: [(ComplaintAction.ACCEPT, S.ACCEPTED), (ComplaintAction.START_WORK, S.IN_PROGRESS)],
    S.DISPATCHED: [
        (ComplaintAction.ACCEPT, S.ACCEPTED),
        (ComplaintAction.DISPATCH, S.DISPATCHED),
        (ComplaintAction.DEPARTMENT_ACCEPT, S.DISPATCHED),
    ],
    S.RESOLVED: [
        (ComplaintAction.ACCEPT, S.ACCEPTED),
        (ComplaintAction.START_WORK, S.IN_PROGRESS),
        (ComplaintAction.RESOLVE, S.RESOLVED),
    ],
    S.CLOSED: [
        (ComplaintAction.ACCEPT, S.ACCEPTED),
        (ComplaintAction.START_WORK, S.IN_PROGRESS),
        (ComplaintAction.RESOLVE, S.RESOLVED),
        (ComplaintAction.CONFIRM, S.CLOSED),
    ],
    S.REJECTED: [(ComplaintAction.ACCEPT, S.ACCEPTED), (ComplaintAction.REJECT, S.REJECTED)],
    S.REOPENED: [
        (ComplaintAction.ACCEPT, S.ACCEPTED),
        (ComplaintAction.START_WORK, S.IN_PROGRESS),
        (ComplaintAction.RESOLVE, S.RESOLVED),
        (ComplaintAction.REOPEN, S.REOPENED),
    ],
    S.WITHDRAWN: [(ComplaintAction.WITHDRAW, S.WITHDRAWN)],
}
NOTES = {
    ComplaintAction.REJECT: "经核实不属于社区管辖范围，已告知居民向相关单位反映。",
    ComplaintAction.REOPEN: "问题反复出现，希望彻底解决。",
    ComplaintAction.DISPATCH: "需职能部门现场处置。",
    ComplaintAction.CONFIRM: "处理及时，很满意。",
}


# The README's resident's own complaints, in the states its walkthrough shows: one waiting in
# their grid worker's inbox (a blocked stairwell, as the inbox example searches), one being
# handled, one resolved for them to confirm or reopen, one closed.
FEATURED = [
    (0, ComplaintStatus.SUBMITTED),
    (1, ComplaintStatus.IN_PROGRESS),
    (6, ComplaintStatus.RESOLVED),
    (4, ComplaintStatus.CLOSED),
]


async def add_complaints(session: AsyncSession, count: int, seed: str, featured: str | None = None) -> None:
    """`count` complaints in all, the first of them the `featured` resident's (by phone)."""
    chooser = random.Random(seed)
    categories = {c.code: c for c in (await session.scalars(select(ComplaintCategory))).all()}
    departments = list((await session.scalars(select(Department.id))).all())
    residents = (
        await session.execute(
            select(
                User.phone,
                ResidentProfile.id,
                ResidentProfile.building_id,
                Grid.id.label("grid_id"),
                Grid.community_id,
                Grid.worker_id,
            )
            .join(
                Building,
                (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id),
            )
            .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
            .join(User, (User.tenant_id == ResidentProfile.tenant_id) & (User.id == ResidentProfile.id))
            .order_by(ResidentProfile.id)
        )
    ).all()
    readme_resident = next((r for r in residents if r.phone == featured), None)
    planned = [(readme_resident, STORIES[story], final) for story, final in FEATURED] if readme_resident else []
    calendar = WorkingCalendar()
    now = utcnow()
    complaints: list[Complaint] = []
    events: list[ComplaintEvent] = []
    orders: list[WorkOrder] = []
    for n in range(count):
        if n < len(planned):
            resident, (code, title, content, reply), final = planned[n]
            submitted = now - timedelta(days=0.1 + n)
        else:
            code, title, content, reply = chooser.choice(STORIES)
            resident = chooser.choice(residents)
            final = chooser.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
            submitted = now - timedelta(days=chooser.uniform(0.2, 60))
        category = categories[code]
        item = _complaint(resident, category, title, content, submitted, calendar, chooser)
        events.append(_event(item, ComplaintAction.SUBMIT, resident.id, None, S.SUBMITTED, submitted))
        moment = dispatched_at = submitted
        for action, status in PATHS[final]:
            moment += timedelta(hours=chooser.uniform(1, 30))
            if action == ComplaintAction.DISPATCH:
                dispatched_at = moment
            actor = (
                resident.id
                if action in (ComplaintAction.CONFIRM, ComplaintAction.REOPEN, ComplaintAction.WITHDRAW)
                else resident.worker_id
            )
            events.append(
                _event(
                    item,
                    action,
                    actor,
                    item.status,
                    status,
                    moment,
                    NOTES.get(action) if action != ComplaintAction.RESOLVE else reply,
                )
            )
            _apply(item, action, status, moment, reply, departments, chooser)
        item.updated_at = moment
        complaints.append(item)
        if item.department_id is not None:
            orders.append(
                WorkOrder(
                    complaint_id=item.id,
                    department_id=item.department_id,
                    community_id=item.community_id,
                    dispatched_at=dispatched_at,
                    resolve_due_at=item.resolve_due_at,
                    signed_at=item.department_accepted_at,
                )
            )
    session.add_all(complaints)
    await session.flush()
    session.add_all([*events, *orders])
    await session.flush()


def _complaint(
    resident: Any,
    category: ComplaintCategory,
    title: str,
    content: str,
    submitted: datetime,
    calendar: WorkingCalendar,
    chooser: random.Random,
) -> Complaint:
    return Complaint(
        id=new_id(),
        resident_id=resident.id,
        filed_by_id=resident.id,
        source=ComplaintSource.APP,
        category_id=category.id,
        title=title,
        content=content,
        building_id=resident.building_id,
        grid_id=resident.grid_id,
        community_id=resident.community_id,
        handler_id=resident.worker_id,
        status=S.SUBMITTED,
        is_public=chooser.random() < 0.4,
        acknowledge_due_at=calendar.working_hours_after(submitted, category.acknowledge_hours),
        resolve_due_at=calendar.working_days_after(submitted, category.resolve_days),
        submitted_at=submitted,
        updated_at=submitted,
    )


def _event(
    item: Complaint,
    action: ComplaintAction,
    actor: uuid.UUID | None,
    before: ComplaintStatus | None,
    after: ComplaintStatus,
    at: datetime,
    note: str | None = None,
) -> ComplaintEvent:
    return ComplaintEvent(
        id=new_id(),
        complaint_id=item.id,
        action=action,
        actor_id=actor,
        from_status=before,
        to_status=after,
        note=note,
        created_at=at,
    )


def _apply(
    item: Complaint,
    action: ComplaintAction,
    status: ComplaintStatus,
    at: datetime,
    reply: str,
    departments: list[uuid.UUID],
    chooser: random.Random,
) -> None:
    item.status = status
    if action == ComplaintAction.ACCEPT:
        item.acknowledged_at = at
    elif action == ComplaintAction.DISPATCH:
        item.department_id = chooser.choice(departments)
    elif action == ComplaintAction.DEPARTMENT_ACCEPT:
        item.department_accepted_at = at
    elif action == ComplaintAction.RESOLVE:
        item.resolution = reply
        item.resolved_at = at
    elif action == ComplaintAction.CONFIRM:
        item.rating = chooser.choices([5, 4, 3, 2], [70, 20, 7, 3])[0]
        item.feedback = NOTES[ComplaintAction.CONFIRM]
        item.closed_at = at
