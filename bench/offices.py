"""Generated street offices, as manifests the project's own onboarding takes.

The first office is the big one every named request is measured against: 10 communities × 20
grids × 5 buildings. The others are smaller (3 × 8 × 4) and share the database, as the other
street offices of a city would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.texts import person_name
from tenants.manifests import Manifest, parse_manifest

DEMO_PASSWORD = "Wanjia@2026"
STREETS = ["幸福路", "和平路", "建设路", "民主路", "胜利路", "团结路", "光明路", "人民路", "友谊路", "文化路"]
COMMUNITY_NAMES = ["阳光", "春华", "绿苑", "金桥", "长青", "花园", "滨河", "东升", "新城", "翠竹", "富强", "安居"]
DEPARTMENTS = [
    {"code": "justice", "name": "司法所"},
    {"code": "market", "name": "市场监督管理所"},
    {"code": "urban", "name": "城市管理综合执法中队"},
    {"code": "police", "name": "派出所"},
    {"code": "traffic", "name": "交警中队"},
]
CATEGORIES = [
    {
        "code": "environment",
        "name": "环境卫生",
        "acknowledge_hours": 4,
        "resolve_days": 3,
        "default_department": "urban",
    },
    {"code": "property", "name": "物业管理", "acknowledge_hours": 8, "resolve_days": 5},
    {"code": "infrastructure", "name": "基础设施", "acknowledge_hours": 8, "resolve_days": 7},
    {"code": "urban", "name": "城市管理", "acknowledge_hours": 4, "resolve_days": 5, "default_department": "urban"},
    {"code": "epidemic", "name": "疫情防控", "acknowledge_hours": 2, "resolve_days": 1},
    {"code": "other", "name": "其他", "acknowledge_hours": 8, "resolve_days": 10},
]
EVERY_DAY = {day: ["08:00-21:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WEEKDAYS = {day: ["09:00-12:00", "14:00-17:30"] for day in ("mon", "tue", "wed", "thu", "fri")}
FUNCTION_ROOMS = ["信访接待室", "矛盾纠纷调解室", "心理咨询室", "视频监控研判室", "平安社区工作室"]


@dataclass(frozen=True)
class Shape:
    communities: int
    grids: int  # per community
    buildings: int  # per grid


BIG = Shape(10, 20, 5)
SMALL = Shape(3, 8, 4)


def staff_phone(office: int, kind: int, n: int) -> str:
    """139 + office (2 digits) + kind (1: admins, 2: grid workers, 3: department staff) + n."""
    return f"139{office:02d}{kind}{n:05d}"


def resident_phone(office: int, n: int) -> str:
    return f"137{office:02d}{n:06d}"


def manifest(office: int, shape: Shape) -> Manifest:
    chooser = random.Random(f"office-{office}")
    slug = "xingfulu" if office == 0 else f"office{office:02d}"
    communities, staff = [], []
    staff.append(_staff(staff_phone(office, 1, 0), chooser, [{"role": "tenant_admin"}]))
    staff.append(_staff(staff_phone(office, 1, 1), chooser, [{"role": "tenant_admin"}]))
    for c in range(shape.communities):
        code = f"C{c + 1:02d}"
        name = f"{COMMUNITY_NAMES[c % len(COMMUNITY_NAMES)]}{'' if c < len(COMMUNITY_NAMES) else c}社区"
        staff.append(_staff(staff_phone(office, 1, 100 + c), chooser, [{"role": "community_admin", "community": code}]))
        grids = []
        for g in range(shape.grids):
            n = c * shape.grids + g
            worker = staff_phone(office, 2, n)
            staff.append(_staff(worker, chooser, [{"role": "grid_worker"}]))
            grids.append(
                {
                    "code": f"{code}-G{g + 1:02d}",
                    "name": f"{name}第{g + 1}网格",
                    "worker": worker,
                    "buildings": [
                        {
                            "code": f"{code}-G{g + 1:02d}-B{b + 1}",
                            "name": f"{n * shape.buildings + b + 1}号楼",
                            "units": 1 + (n + b) % 6,
                        }
                        for b in range(shape.buildings)
                    ],
                }
            )
        rooms = [
            {
                "name": "多功能活动室",
                "capacity": 40,
                "requires_approval": False,
                "opening_hours": EVERY_DAY,
                "slot_minutes": 30,
                "max_duration_minutes": 180,
            }
        ]
        if c == 0:
            rooms += [
                {
                    "name": room,
                    "capacity": 10,
                    "opening_hours": WEEKDAYS,
                    "slot_minutes": 60,
                    "min_notice_hours": 24,
                    "max_days_ahead": 30,
                    "max_duration_minutes": 120,
                    "weekly_quota_hours": 4,
                }
                for room in FUNCTION_ROOMS
            ]
        communities.append({"code": code, "name": name, "grids": grids, "rooms": rooms})
    for d, department in enumerate(DEPARTMENTS):
        for s in range(3):
            staff.append(
                _staff(
                    staff_phone(office, 3, d * 10 + s), chooser, [{"role": "staff", "department": department["code"]}]
                )
            )
    first = {"community": "C01"}
    data = {
        "slug": slug,
        "name": f"{STREETS[office % len(STREETS)]}街道" if office < len(STREETS) else f"第{office}街道",
        "departments": DEPARTMENTS,
        "categories": CATEGORIES,
        "communities": communities,
        "appointment_types": [
            {
                "code": "mediation",
                "name": "人民调解",
                "department": "justice",
                "room": {**first, "name": "矛盾纠纷调解室"},
            },
            {"code": "legal-aid", "name": "法律援助", "department": "justice"},
            {"code": "notary", "name": "公证服务", "department": "justice"},
            {"code": "judge", "name": "法官工作站", "room": {**first, "name": "矛盾纠纷调解室"}},
            {"code": "petition", "name": "信访接待", "room": {**first, "name": "信访接待室"}},
            {"code": "counselling", "name": "心理咨询", "room": {**first, "name": "心理咨询室"}},
        ],
        "staff": staff,
    }
    return parse_manifest(data, f"bench office {office}")


def _staff(phone: str, chooser: random.Random, roles: list[dict[str, str]]) -> dict[str, object]:
    return {"phone": phone, "name": person_name(chooser), "roles": roles, "initial_password": DEMO_PASSWORD}
