"""Demo service guides: the seed's 60 (six kinds, ten each), made from the tables below rather
than written out one by one, all published; and the demo resident's applications in every
state, one of them a 居住证明 with its PDF certificate and another revoked.

A kind's steps, place and conditions follow from its review levels; a guide adds its title, a
sentence about it, its materials and its time limit (and, for 三级审批, the department).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import new_id, utcnow
from models.calendar import WorkingCalendar
from models.guide_certificates import CertificateText, render_certificate
from models.guides import (
    CHECK_PATH,
    LEVELS,
    ApplicationAction,
    ApplicationStatus,
    GuideKind,
    GuideStatus,
    ReviewLevel,
    ServiceApplication,
    ServiceApplicationEvent,
    ServiceCertificate,
    ServiceGuide,
    ServiceGuideVersion,
    certificate_statement,
    check_link,
    display_code,
    issuer_of,
    new_certificate_code,
    search_document,
    searchable,
)
from models.organisation import Building, Community, Department, Grid
from models.people import ResidentProfile, Role, RoleGrant, User
from models.storage import Storage
from tenants.directory import TenantInfo

DEMO_RESIDENT_PHONE = "13800138000"
OFFICE_HOURS = "工作日 8:30-12:00，14:30-18:00（10月至次年4月下午 14:00-17:30）"
ID_CARD = "居民身份证"
HOUSEHOLD = "户口簿"


@dataclass(frozen=True)
class Entry:
    title: str
    about: str  # the guide's summary: what it is, for whom
    materials: tuple[str, ...] = ()
    days: int = 0
    department: str | None = None  # 三级审批: the department's code
    fees: str = "免费"


GUIDES: dict[GuideKind, tuple[Entry, ...]] = {
    GuideKind.POLICY: (
        Entry("就业困难人员认定办法", "解读就业困难人员的认定范围、认定程序和可享受的就业援助政策。"),
        Entry(
            "城乡居民基本养老保险政策解读",
            "年满16周岁、未参加职工养老保险的居民可参保，个人缴费、政府补贴，年满60周岁按月领取。",
        ),
        Entry(
            "城乡居民基本医疗保险参保缴费政策",
            "每年9月至12月集中缴纳次年医保费用，低保、特困等人员个人缴费部分由政府资助。",
        ),
        Entry("高龄津贴发放政策", "80周岁以上老年人按年龄段按月发放高龄津贴，本人或家属申请后次月起发放。"),
        Entry(
            "城乡最低生活保障政策解读", "家庭人均收入低于当地低保标准、且财产状况符合规定的家庭，可申请最低生活保障。"
        ),
        Entry("残疾人两项补贴政策", "困难残疾人生活补贴和重度残疾人护理补贴的发放对象、标准和申请方式。"),
        Entry("退役军人优待政策", "退役军人在就业创业、教育培训、医疗、交通出行等方面享受的优待。"),
        Entry("公共租赁住房保障政策", "城镇住房困难家庭、新就业无房职工和外来务工人员可申请公共租赁住房。"),
        Entry("计划生育家庭特别扶助政策", "独生子女伤残、死亡家庭的父母可按月领取特别扶助金。"),
        Entry("灵活就业人员社会保险补贴政策", "就业困难人员灵活就业后缴纳社会保险费的，可申请一定比例的社保补贴。"),
    ),
    GuideKind.COMMUNITY_DIRECT: (
        Entry("就业登记", "居民实现就业后办理就业登记，记录就业信息，享受相应就业服务。", (ID_CARD, "劳动合同"), 1),
        Entry(
            "失业登记", "劳动年龄内、有劳动能力和就业要求、处于无业状态的居民办理失业登记。", (ID_CARD, HOUSEHOLD), 1
        ),
        Entry("城乡居民养老保险参保登记", "未参加职工养老保险的居民在社区办理参保登记。", (ID_CARD, HOUSEHOLD), 3),
        Entry("城乡居民医疗保险参保登记", "新生儿、新落户居民等首次参加居民医保的登记。", (ID_CARD, HOUSEHOLD), 3),
        Entry(
            "老年人优待证办理",
            "65周岁以上老年人办理优待证，凭证享受公园、公交等优待。",
            (ID_CARD, "近期一寸免冠照片"),
            5,
        ),
        Entry(
            "流动人口居住登记",
            "来本街道居住的流动人口办理居住登记，是日后申领居住证的前提。",
            (ID_CARD, "租房合同或房屋产权证明"),
            1,
        ),
        Entry(
            "独生子女父母光荣证办理",
            "只生育一个子女的夫妻可申请独生子女父母光荣证。",
            (ID_CARD, HOUSEHOLD, "结婚证"),
            5,
        ),
        Entry("生育登记服务", "夫妻生育子女的，可在社区办理生育登记，便于享受孕产期保健服务。", (ID_CARD, "结婚证"), 1),
        Entry("居民信息变更登记", "居民姓名、联系电话、家庭成员等信息有变化的，在社区更新登记。", (ID_CARD,), 1),
        Entry(
            "困难群众供暖费减免登记",
            "低保、特困家庭在供暖季开始前登记，由社区统一报送供热企业减免。",
            (ID_CARD, "低保证或特困证"),
            3,
        ),
    ),
    GuideKind.COMMUNITY_CERTIFICATE: (
        Entry(
            "居住证明",
            "为在本社区实际居住的居民出具居住情况证明，用于入学、办理社保等。",
            (ID_CARD, "房屋产权证明或租房合同"),
            2,
        ),
        Entry(
            "家庭经济困难证明",
            "为经济困难家庭出具证明，用于学生资助申请等。",
            (ID_CARD, HOUSEHOLD, "家庭收入情况说明"),
            3,
        ),
        Entry("待业证明", "为处于无业状态的居民出具待业情况证明。", (ID_CARD, "失业登记证明"), 2),
        Entry(
            "独居老人情况证明", "为独自居住的老年人出具居住情况证明，用于申请居家养老服务。", (ID_CARD, HOUSEHOLD), 2
        ),
        Entry("房屋出租情况证明", "为出租房屋的业主出具房屋出租情况证明。", (ID_CARD, "房屋产权证明", "租房合同"), 3),
        Entry(
            "入托入学居住证明",
            "为适龄儿童家长出具在本社区居住的证明，用于入托、入学报名。",
            (ID_CARD, HOUSEHOLD, "房屋产权证明或租房合同"),
            2,
        ),
        Entry("社区志愿服务证明", "为在本社区参加志愿服务的居民出具服务时长证明。", (ID_CARD,), 2),
        Entry("在职党员社区报到证明", "为到社区报到的在职党员出具报到及服务情况证明。", (ID_CARD, "党员报到登记表"), 3),
        Entry(
            "残疾人居家情况证明", "为居家的残疾人出具居住及生活情况证明，用于申请护理补贴。", (ID_CARD, "残疾人证"), 3
        ),
        Entry("家庭成员情况证明", "为居民出具共同居住的家庭成员情况证明。", (ID_CARD, HOUSEHOLD), 2),
    ),
    GuideKind.TWO_LEVEL: (
        Entry(
            "城乡最低生活保障申请",
            "家庭人均收入低于低保标准的家庭，经社区入户调查、街道审核后纳入低保。",
            (ID_CARD, HOUSEHOLD, "家庭收入情况说明", "家庭财产状况说明"),
            20,
        ),
        Entry(
            "临时救助申请",
            "因突发事件、意外事故、重大疾病导致基本生活暂时出现困难的家庭可申请临时救助。",
            (ID_CARD, HOUSEHOLD, "困难情况说明"),
            10,
        ),
        Entry(
            "特困人员救助供养申请",
            "无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和未成年人。",
            (ID_CARD, HOUSEHOLD, "残疾人证或医院诊断证明"),
            20,
        ),
        Entry(
            "残疾人两项补贴申请", "困难残疾人生活补贴、重度残疾人护理补贴的申请。", (ID_CARD, "残疾人证", HOUSEHOLD), 15
        ),
        Entry("高龄津贴申请", "80周岁以上老年人申请高龄津贴。", (ID_CARD, HOUSEHOLD, "银行卡"), 10),
        Entry(
            "就业困难人员认定申请",
            "符合就业困难人员条件的失业人员申请认定，认定后享受就业援助。",
            (ID_CARD, "失业登记证明"),
            10,
        ),
        Entry(
            "公益性岗位申请", "就业困难人员申请社区保洁、治安巡逻等公益性岗位。", (ID_CARD, "就业困难人员认定证明"), 10
        ),
        Entry(
            "廉租住房租赁补贴申请",
            "低收入住房困难家庭申请租赁住房补贴。",
            (ID_CARD, HOUSEHOLD, "家庭收入情况说明", "租房合同"),
            20,
        ),
        Entry(
            "大病医疗救助申请",
            "低保、特困等困难群众患大病后，医保报销后自付部分可申请医疗救助。",
            (ID_CARD, "住院病历", "医疗费用票据"),
            15,
        ),
        Entry(
            "居家养老服务补贴申请",
            "经济困难的高龄、失能老年人申请居家养老服务补贴。",
            (ID_CARD, HOUSEHOLD, "老年人能力评估表"),
            15,
        ),
    ),
    GuideKind.THREE_LEVEL: (
        Entry(
            "法律援助申请",
            "经济困难的居民在追索劳动报酬、赡养费等事项中需要律师帮助的，可申请法律援助。",
            (ID_CARD, "经济困难证明", "案件相关材料"),
            7,
            "justice",
        ),
        Entry(
            "人民调解申请",
            "邻里、婚姻家庭、物业等民间纠纷，可申请人民调解委员会调解。",
            (ID_CARD, "纠纷情况说明"),
            15,
            "justice",
        ),
        Entry(
            "公证事项预审",
            "办理继承、委托、声明等公证前，可先由司法所预审材料。",
            (ID_CARD, HOUSEHOLD, "公证事项相关材料"),
            15,
            "justice",
            "按国家规定标准收取",
        ),
        Entry(
            "个体工商户设立登记",
            "在本街道经营的个体工商户办理设立登记，领取营业执照。",
            (ID_CARD, "经营场所证明"),
            3,
            "market",
        ),
        Entry(
            "小餐饮经营许可申请",
            "小餐馆、小吃店等小餐饮经营者申请食品经营许可。",
            (ID_CARD, "营业执照", "经营场所平面图", "从业人员健康证明"),
            10,
            "market",
        ),
        Entry(
            "临时占道经营审批",
            "早市、便民摊点等临时占用道路经营的审批。",
            (ID_CARD, "占道位置示意图", "经营方案"),
            5,
            "urban",
        ),
        Entry(
            "户外广告设置审批",
            "商户设置门头牌匾、户外广告的审批。",
            (ID_CARD, "营业执照", "广告设计效果图"),
            10,
            "urban",
        ),
        Entry(
            "居住证申领",
            "办理居住证需要在本市居住半年以上，并有合法稳定就业、稳定住所或连续就读之一。",
            (ID_CARD, "居住登记凭证", "近期一寸免冠照片"),
            15,
            "police",
        ),
        Entry(
            "投靠子女户口迁入申请",
            "投靠在本街道落户子女的老年人申请户口迁入。",
            (ID_CARD, HOUSEHOLD, "亲属关系证明", "房屋产权证明"),
            20,
            "police",
        ),
        Entry(
            "小区周边临时停车泊位设置申请",
            "老旧小区周边道路申请设置夜间临时停车泊位。",
            (ID_CARD, "业主委员会意见", "泊位位置示意图"),
            20,
            "traffic",
        ),
    ),
    GuideKind.OTHER: (
        Entry("社区便民服务热线", "各社区值班电话、服务时间和可咨询的事项。"),
        Entry("垃圾分类投放指南", "可回收物、有害垃圾、厨余垃圾、其他垃圾的分类与投放时间。"),
        Entry("冬季供暖报修指引", "暖气不热、漏水等问题的报修渠道和处理时限。"),
        Entry("燃气安全使用须知", "燃气泄漏的识别与应急处置、安全用气常识。"),
        Entry("电动自行车充电安全指引", "严禁电动自行车进楼入户充电，小区集中充电桩的位置和使用方法。"),
        Entry("老旧小区改造意见征集", "老旧小区改造项目的征集范围、提交意见的方式和时间。"),
        Entry("疫苗接种服务指引", "社区卫生服务中心的预防接种门诊时间与预约方式。"),
        Entry("防范电信网络诈骗指南", "常见电信网络诈骗手法与防范要点，遇到诈骗如何报警。"),
        Entry("社区活动室开放时间", "各社区活动室、图书室的开放时间与预约方式。"),
        Entry("12345市民服务热线", "12345热线受理咨询、求助、投诉、建议的范围。"),
    ),
}

CONDITIONS = {
    GuideKind.POLICY: "适用于本街道户籍居民及在本街道居住的常住人口，具体以政策原文为准。",
    GuideKind.COMMUNITY_DIRECT: "本社区居民，材料齐全的由社区直接办理。",
    GuideKind.COMMUNITY_CERTIFICATE: "在本社区实际居住，社区核实情况属实后出具证明。",
    GuideKind.TWO_LEVEL: "本街道居民，经社区初审、街道审核审批。",
    GuideKind.THREE_LEVEL: "本街道居民或经营者，经社区初审、街道审核后报职能部门审批。",
    GuideKind.OTHER: "所有居民。",
}
STEPS = {
    GuideKind.POLICY: ("查阅政策解读", "到社区或拨打电话咨询", "符合条件的，按对应事项申请办理"),
    GuideKind.COMMUNITY_DIRECT: ("在线提交申请并上传材料", "社区审核办理", "办结后在线查看结果"),
    GuideKind.COMMUNITY_CERTIFICATE: ("在线提交申请并上传材料", "社区核实", "开具证明（可下载PDF，扫码核验真伪）"),
    GuideKind.TWO_LEVEL: ("在线提交申请并上传材料", "社区初审、入户调查", "街道审核审批", "公示并通知办理结果"),
    GuideKind.THREE_LEVEL: ("在线提交申请并上传材料", "社区初审", "街道审核", "{department}审批", "通知办理结果"),
    GuideKind.OTHER: ("查阅指南", "按指引办理或拨打电话咨询"),
}


def _place(kind: GuideKind, office: str, department: str | None) -> str:
    last = LEVELS[kind][-1] if LEVELS[kind] else None
    if last is ReviewLevel.DEPARTMENT:
        return f"{office}便民服务中心（转{department}）"
    if last is ReviewLevel.STREET_OFFICE:
        return f"{office}便民服务中心"
    return "各社区党群服务中心便民窗口"


def _version(
    guide: ServiceGuide, entry: Entry, kind: GuideKind, office: str, department: str | None
) -> ServiceGuideVersion:
    steps = [s.format(department=department) for s in STEPS[kind]]
    where = _place(kind, office, department)
    return ServiceGuideVersion(
        id=new_id(),
        guide_id=guide.id,
        number=1,
        title=entry.title,
        summary=entry.about,
        conditions=CONDITIONS[kind],
        materials=list(entry.materials),
        steps=steps,
        where_to_go=where,
        office_hours=OFFICE_HOURS,
        phone=f"0472-51{sum(map(ord, entry.title)) % 100000:05d}",
        fees=entry.fees,
        time_limit_days=entry.days,
        search_title=searchable(entry.title),
        search_text=search_document(entry.title, [entry.about, CONDITIONS[kind], *entry.materials, *steps, where]),
        created_at=guide.created_at,
    )


@dataclass(frozen=True)
class Story:
    """One demo application: the guide it is for, how far it got, what was said."""

    title: str
    purpose: str
    status: ApplicationStatus
    level: ReviewLevel
    days_ago: int
    reason: str | None = None


_S, _L = ApplicationStatus, ReviewLevel
STORIES = (
    Story("入托入学居住证明", "孩子幼儿园入园报名", _S.IN_REVIEW, _L.COMMUNITY, 0),
    Story("临时救助申请", "家中老人住院，医疗费用支出过大", _S.IN_REVIEW, _L.STREET_OFFICE, 3),
    Story("法律援助申请", "追索被拖欠的工资", _S.IN_REVIEW, _L.DEPARTMENT, 12),  # past its 7 working days
    Story("高龄津贴申请", "为父亲申请高龄津贴", _S.RETURNED, _L.COMMUNITY, 4, "请补充上传银行卡正面照片。"),
    Story("居住证明", "孩子小学入学报名", _S.APPROVED, _L.COMMUNITY, 6),
    Story("家庭成员情况证明", "办理公积金提取", _S.REVOKED, _L.COMMUNITY, 20, "户籍信息有误，证明作废，请重新申请。"),
    Story("公益性岗位申请", "申请社区保洁岗位", _S.REJECTED, _L.STREET_OFFICE, 15, "暂未认定为就业困难人员。"),
    Story("失业登记", "办理失业保险金领取", _S.WITHDRAWN, _L.COMMUNITY, 9),
)


async def add_guides(
    session: AsyncSession, tenant: TenantInfo, storage: Storage, public_url: str | None, *, applications: bool
) -> None:
    """The 60 guides, published; and, if asked, the demo resident's applications."""
    now = utcnow()
    departments = {
        code: (id_, name)
        for id_, code, name in (await session.execute(select(Department.id, Department.code, Department.name))).all()
    }
    guides: dict[str, tuple[ServiceGuide, ServiceGuideVersion]] = {}
    for kind, entries in GUIDES.items():
        for entry in entries:
            department_id, department_name = departments[entry.department] if entry.department else (None, None)
            created = now - timedelta(days=90, minutes=len(guides))
            guide = ServiceGuide(
                id=new_id(),
                kind=kind,
                department_id=department_id,
                status=GuideStatus.PUBLISHED,
                latest_version=1,
                published_version=1,
                published_at=created,
                created_at=created,
                updated_at=created,
            )
            guides[entry.title] = (guide, _version(guide, entry, kind, tenant.name, department_name))
    session.add_all(g for g, _ in guides.values())
    await session.flush()
    session.add_all(v for _, v in guides.values())
    await session.flush()
    if applications:
        await _add_applications(session, tenant, storage, public_url, guides, now)


@dataclass(frozen=True)
class Holder:
    id: uuid.UUID
    name: str
    room: str
    building: str
    community_id: uuid.UUID
    community: str


async def _demo_resident(session: AsyncSession) -> Holder | None:
    """Looked up row by row by key: in the demo's one transaction the tables have no statistics
    yet, and PostgreSQL plans a four-table join over them as if each held one row."""
    user = await session.scalar(select(User).where(User.phone == DEMO_RESIDENT_PHONE))
    profile = await session.get(ResidentProfile, (user.tenant_id, user.id)) if user else None
    if user is None or profile is None:
        return None
    building = await session.get(Building, (user.tenant_id, profile.building_id))
    assert building is not None
    grid = await session.get(Grid, (user.tenant_id, building.grid_id))
    assert grid is not None
    community = await session.get(Community, (user.tenant_id, grid.community_id))
    assert community is not None
    return Holder(user.id, user.name, profile.room, building.name, community.id, community.name)


async def _add_applications(
    session: AsyncSession,
    tenant: TenantInfo,
    storage: Storage,
    public_url: str | None,
    guides: dict[str, tuple[ServiceGuide, ServiceGuideVersion]],
    now: datetime,
) -> None:
    resident = await _demo_resident(session)
    if resident is None:
        return
    grants = (
        await session.execute(
            select(RoleGrant.user_id, RoleGrant.role, RoleGrant.community_id, RoleGrant.department_id)
        )
    ).all()
    chooser = random.Random(f"guides-{tenant.slug}")
    calendar = WorkingCalendar()

    def reviewer(level: ReviewLevel, department_id: uuid.UUID | None) -> uuid.UUID | None:
        for grant in grants:
            if (
                (
                    level is ReviewLevel.COMMUNITY
                    and grant.role == Role.COMMUNITY_ADMIN
                    and grant.community_id == resident.community_id
                )
                or (level is ReviewLevel.STREET_OFFICE and grant.role == Role.TENANT_ADMIN)
                or (
                    level is ReviewLevel.DEPARTMENT
                    and grant.role == Role.STAFF
                    and grant.department_id == department_id
                )
            ):
                chosen: uuid.UUID = grant.user_id
                return chosen
        return None

    for story in STORIES:
        guide, version = guides[story.title]
        submitted = now - timedelta(days=story.days_ago, hours=chooser.randint(1, 5))
        levels = LEVELS[guide.kind]
        reached = levels.index(story.level) + 1
        item = ServiceApplication(
            id=new_id(),
            guide_id=guide.id,
            guide_version_id=version.id,
            applicant_id=resident.id,
            community_id=resident.community_id,
            kind=guide.kind,
            department_id=guide.department_id,
            status=story.status,
            level=story.level,
            reached=reached,
            purpose=story.purpose,
            reason=story.reason,
            submitted_at=submitted,
            due_at=calendar.working_days_after(submitted, version.time_limit_days),
            decided_at=submitted + timedelta(days=1)
            if story.status not in (ApplicationStatus.IN_REVIEW, ApplicationStatus.RETURNED)
            else None,
            updated_at=submitted + timedelta(days=1),
        )
        session.add(item)
        await session.flush()
        events: list[
            tuple[
                ApplicationAction,
                ReviewLevel,
                ApplicationStatus | None,
                ApplicationStatus,
                str | None,
                uuid.UUID | None,
                datetime,
            ]
        ] = [
            (
                ApplicationAction.SUBMIT,
                levels[0],
                None,
                ApplicationStatus.IN_REVIEW,
                item.purpose,
                resident.id,
                submitted,
            )
        ]
        for n, level in enumerate(levels[: reached - 1]):
            events.append(
                (
                    ApplicationAction.FORWARD,
                    level,
                    ApplicationStatus.IN_REVIEW,
                    ApplicationStatus.IN_REVIEW,
                    "材料齐全，同意上报。",
                    reviewer(level, guide.department_id),
                    submitted + timedelta(hours=n + 2),
                )
            )
        decided = submitted + timedelta(days=1)
        final = {
            ApplicationStatus.RETURNED: [ApplicationAction.RETURN],
            ApplicationStatus.APPROVED: [ApplicationAction.APPROVE],
            ApplicationStatus.REVOKED: [ApplicationAction.APPROVE, ApplicationAction.REVOKE],
            ApplicationStatus.REJECTED: [ApplicationAction.REJECT],
            ApplicationStatus.WITHDRAWN: [ApplicationAction.WITHDRAW],
        }.get(story.status, [])
        before = ApplicationStatus.IN_REVIEW
        for n, action in enumerate(final):
            after = ApplicationStatus.APPROVED if action is ApplicationAction.APPROVE else story.status
            actor = resident.id if action is ApplicationAction.WITHDRAW else reviewer(story.level, guide.department_id)
            note = (
                story.reason
                if action in (ApplicationAction.RETURN, ApplicationAction.REJECT, ApplicationAction.REVOKE)
                else None
            )
            events.append((action, story.level, before, after, note, actor, decided + timedelta(days=n * 5)))
            before = after
        session.add_all(
            ServiceApplicationEvent(
                id=new_id(),
                application_id=item.id,
                action=a,
                level=lv,
                from_status=f,
                to_status=t,
                note=note,
                actor_id=actor,
                created_at=at,
            )
            for a, lv, f, t, note, actor, at in events
        )
        if story.status in (ApplicationStatus.APPROVED, ApplicationStatus.REVOKED):
            _certificate(session, tenant, storage, public_url, item, version.title, resident, decided, story)
    await session.flush()


def _certificate(
    session: AsyncSession,
    tenant: TenantInfo,
    storage: Storage,
    public_url: str | None,
    item: ServiceApplication,
    title: str,
    resident: Holder,
    issued_at: datetime,
    story: Story,
) -> None:
    name, room, building, community = resident.name, resident.room, resident.building, resident.community
    code = new_certificate_code()
    issuer = issuer_of(tenant.name, community)
    statement = certificate_statement(name, community, building, room, title, item.purpose)
    page = (public_url or "http://127.0.0.1:8000").rstrip("/") + CHECK_PATH
    pdf = render_certificate(
        CertificateText(
            title, name, statement, issuer, issued_at, display_code(code), check_link(page, tenant.slug, code)
        )
    )
    key = f"{tenant.id}/certificates/{issued_at:%Y/%m}/{uuid.uuid4()}.pdf"
    storage.save(key, pdf)
    revoked = story.status is ApplicationStatus.REVOKED
    session.add(
        ServiceCertificate(
            id=new_id(),
            application_id=item.id,
            community_id=item.community_id,
            code=code,
            holder_name=name,
            title=title,
            statement=statement,
            issuer=issuer,
            issued_at=issued_at,
            storage_key=key,
            revoked_at=issued_at + timedelta(days=5) if revoked else None,
            revoke_reason=story.reason if revoked else None,
        )
    )
