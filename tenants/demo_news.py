"""Demo news and notices: a dozen articles of the street office and its communities (pinned,
published, a draft, a withdrawn one), and notices to the street office, a community, grids and
buildings (one by a building leader), read and confirmed by part of their audiences."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.articles import Article, ArticleAction, ArticleEvent, ArticleStatus, plain_text, sanitised_body
from models.base import new_id, utcnow
from models.notices import Notice, NoticeReceipt, NoticeScope, NoticeTarget, in_audience
from models.organisation import Building, Community, Grid
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User
from tenants.demo_leaders import DEMO_RESIDENT_PHONE


@dataclass(frozen=True)
class Story:
    title: str
    body: str
    days_ago: int
    street_wide: bool = False
    pinned: bool = False
    status: ArticleStatus = ArticleStatus.PUBLISHED


STORIES = [
    Story(
        "万青路街道“开门纳谏”上线三周年",
        "<p>三年来，居民通过小程序反映诉求五百余件，办结率超过百分之九十九。</p><p>街道将继续推行<strong>双闭环</strong>工作机制。</p>",
        2,
        street_wide=True,
        pinned=True,
    ),
    Story(
        "冬季供暖服务热线公布",
        "<p>供暖期内如遇室温不达标、管道漏水，请拨打供热服务热线，或在小程序“开门纳谏”中反映。</p>",
        5,
        street_wide=True,
        pinned=True,
    ),
    Story(
        "社区举办“邻里一家亲”百家宴",
        "<p>近百位居民带来拿手菜，在社区广场共度周末。</p><ul><li>老年书画展</li><li>少儿才艺表演</li></ul>",
        3,
    ),
    Story("网格员入户走访排查安全隐患", "<p>网格员逐户检查燃气管道和电动车充电情况，发放安全提示卡。</p>", 6),
    Story("红马甲志愿者清扫积雪保畅通", "<p>雪后第一时间，志愿者清扫小区主干道和人行道积雪。</p>", 8),
    Story("垃圾分类积分兑换活动开展", "<p>居民凭分类积分在爱心超市兑换生活用品。</p>", 11),
    Story("社区老年食堂开业", "<p>六十岁以上老人就餐享受优惠，行动不便的可预约送餐上门。</p>", 14),
    Story("法律明白人进楼栋", "<p>司法所工作人员在楼栋开展法律咨询，解答婚姻、继承、物业纠纷等问题。</p>", 17),
    Story(
        "街道召开平安建设推进会",
        "<h2>会议要点</h2><ol><li>夜间巡逻全覆盖</li><li>重点人群走访</li></ol>",
        20,
        street_wide=True,
    ),
    Story("社区“四点半课堂”开课", "<p>放学后到家长下班前，志愿者辅导孩子完成作业。</p>", 25),
    Story(
        "春节期间办事安排（草稿）", "<p>春节期间社区服务大厅值班安排，待确认后发布。</p>", 0, status=ArticleStatus.DRAFT
    ),
    Story("小区停车改造征求意见", "<p>该方案已调整，原征求意见稿撤回。</p>", 30, status=ArticleStatus.WITHDRAWN),
]


async def add_articles(session: AsyncSession, seed: str) -> None:
    chooser = random.Random(f"articles-{seed}")
    now = utcnow()
    communities = (await session.execute(select(Community.id).order_by(Community.code))).scalars().all()
    home = await session.scalar(
        select(Grid.community_id)
        .join(Building, (Building.tenant_id == Grid.tenant_id) & (Building.grid_id == Grid.id))
        .join(
            ResidentProfile,
            (ResidentProfile.tenant_id == Building.tenant_id) & (ResidentProfile.building_id == Building.id),
        )
        .join(User, (User.tenant_id == ResidentProfile.tenant_id) & (User.id == ResidentProfile.id))
        .where(User.phone == DEMO_RESIDENT_PHONE)
    )
    admins = dict(
        (
            await session.execute(
                select(RoleGrant.community_id, RoleGrant.user_id).where(RoleGrant.role == Role.COMMUNITY_ADMIN)
            )
        ).all()
    )
    tenant_admin = await session.scalar(select(RoleGrant.user_id).where(RoleGrant.role == Role.TENANT_ADMIN))
    assert tenant_admin is not None
    rows: list[Article] = []
    events: list[ArticleEvent] = []
    for n, story in enumerate(STORIES):
        # Every other community story is the README's resident's community's; the rest go round.
        community_id = None if story.street_wide else home if n % 2 else communities[n % len(communities)]
        author = tenant_admin if community_id is None else admins.get(community_id, tenant_admin)
        written = now - timedelta(days=story.days_ago, hours=chooser.randint(1, 8))
        published = written + timedelta(hours=1) if story.status is not ArticleStatus.DRAFT else None
        body = sanitised_body(story.body)
        row = Article(
            id=new_id(),
            community_id=community_id,
            author_id=author,
            title=story.title,
            summary=plain_text(body)[:120],
            body=body,
            pinned=story.pinned,
            status=story.status,
            published_at=published,
            listed_at=published or written,
            created_at=written,
            updated_at=published or written,
        )
        rows.append(row)
        steps: list[tuple[ArticleAction, ArticleStatus | None, ArticleStatus, datetime]] = [
            (ArticleAction.CREATE, None, ArticleStatus.DRAFT, written)
        ]
        if published is not None:
            steps.append((ArticleAction.PUBLISH, ArticleStatus.DRAFT, ArticleStatus.PUBLISHED, published))
        if story.status is ArticleStatus.WITHDRAWN:
            steps.append(
                (ArticleAction.WITHDRAW, ArticleStatus.PUBLISHED, ArticleStatus.WITHDRAWN, now - timedelta(days=1))
            )
        events += [
            ArticleEvent(
                id=new_id(), article_id=row.id, action=a, actor_id=author, from_status=f, to_status=t, created_at=at
            )
            for a, f, t, at in steps
        ]
    session.add_all(rows)
    await session.flush()
    session.add_all(events)
    await session.flush()


async def add_notices(session: AsyncSession, seed: str, leaders: dict[uuid.UUID, uuid.UUID]) -> None:
    """Notices of every kind of target, each read by part of its audience (and confirmed by
    part of those, where it asks): the read counts and receipts have something to show."""
    chooser = random.Random(f"notices-{seed}")
    now = utcnow()
    # Around the README's resident: their community, grid and building.
    first = (
        await session.execute(
            select(Grid.community_id, Grid.id.label("grid_id"), Building.id.label("building_id"))
            .join(Building, (Building.tenant_id == Grid.tenant_id) & (Building.grid_id == Grid.id))
            .join(
                ResidentProfile,
                (ResidentProfile.tenant_id == Building.tenant_id) & (ResidentProfile.building_id == Building.id),
            )
            .join(User, (User.tenant_id == ResidentProfile.tenant_id) & (User.id == ResidentProfile.id))
            .where(User.phone == DEMO_RESIDENT_PHONE)
        )
    ).one()
    admins = dict(
        (
            await session.execute(
                select(RoleGrant.community_id, RoleGrant.user_id).where(RoleGrant.role == Role.COMMUNITY_ADMIN)
            )
        ).all()
    )
    tenant_admin = await session.scalar(select(RoleGrant.user_id).where(RoleGrant.role == Role.TENANT_ADMIN))
    assert tenant_admin is not None
    community_admin = admins.get(first.community_id, tenant_admin)
    plans: list[tuple[Notice, list[NoticeTarget]]] = []

    def notice(scope: NoticeScope, author: uuid.UUID, title: str, body: str, days_ago: int, **extra: object) -> Notice:
        return Notice(
            id=new_id(),
            scope=scope,
            community_id=None if scope is NoticeScope.STREET else first.community_id,
            author_id=author,
            title=title,
            body=body,
            posted_at=now - timedelta(days=days_ago, hours=chooser.randint(1, 6)),
            **extra,
        )

    plans.append(
        (
            notice(
                NoticeScope.STREET,
                tenant_admin,
                "关于冬季防火的通知",
                "天干物燥，请勿在楼道堆放杂物，电动车不得入户充电。",
                4,
                is_public=True,
            ),
            [],
        )
    )
    plans.append(
        (
            notice(
                NoticeScope.STREET,
                tenant_admin,
                "元旦假期值班安排",
                "元旦假期街道和各社区安排专人值班，急事请拨打值班电话。",
                1,
                is_public=True,
            ),
            [],
        )
    )
    plans.append(
        (
            notice(
                NoticeScope.COMMUNITY,
                community_admin,
                "居民代表会议通知",
                "本周五下午三点在社区会议室召开居民代表会议，请收到后确认。",
                2,
                requires_confirmation=True,
            ),
            [],
        )
    )
    grid_notice = notice(
        NoticeScope.GRIDS, community_admin, "网格内停水通知", "因管道检修，本网格明日9:00–17:00停水，请提前储水。", 3
    )
    plans.append((grid_notice, [NoticeTarget(id=new_id(), notice_id=grid_notice.id, grid_id=first.grid_id)]))
    leader = leaders.get(first.building_id)
    if leader is not None:
        building_notice = notice(
            NoticeScope.BUILDINGS,
            leader,
            "楼道清理通知",
            "本周六上午清理楼道杂物，请各户配合，收到请确认。",
            1,
            requires_confirmation=True,
        )
        plans.append(
            (building_notice, [NoticeTarget(id=new_id(), notice_id=building_notice.id, building_id=first.building_id)])
        )
    session.add_all(n for n, _ in plans)
    await session.flush()
    session.add_all(t for _, targets in plans for t in targets)
    await session.flush()
    for row, _ in plans:
        audience = (
            await session.scalars(
                select(ResidentProfile.id)
                .select_from(Notice)
                .join(
                    ResidentProfile,
                    (ResidentProfile.tenant_id == Notice.tenant_id)
                    & (ResidentProfile.status == ResidentStatus.VERIFIED),
                )
                .join(
                    Building,
                    (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id),
                )
                .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
                .where(Notice.id == row.id, in_audience(Building.id, Grid.id, Grid.community_id))
                .order_by(ResidentProfile.id)
            )
        ).all()
        readers = [r for r in audience if r != leader and chooser.random() < 0.6]
        session.add_all(
            NoticeReceipt(
                id=new_id(),
                notice_id=row.id,
                user_id=reader,
                read_at=row.posted_at + timedelta(hours=chooser.randint(1, 20)),
                confirmed_at=row.posted_at + timedelta(hours=21)
                if row.requires_confirmation and chooser.random() < 0.7
                else None,
            )
            for reader in readers
        )
    await session.flush()
