"""Tenant manifests: a street office described in one TOML file, checked before anything is
written. Problems are reported as `file: key.path: what is wrong`, all of them at once."""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from models.bookings import SPAN, span_minutes
from models.geometry import BoundaryError, GeoPoint, in_china, polygon_of
from models.people import normalise_phone

MANIFESTS_DIR = Path(__file__).resolve().parent / "manifests"

Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
# A browser origin: scheme, host and an optional port, nothing more.
Origin = Annotated[str, Field(pattern=r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$", max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _mobile(value: str) -> str:
    normalised = normalise_phone(value)
    if normalised is None:
        raise ValueError("不是有效的手机号码")
    return normalised


# Every phone in a manifest is stored as the one ASCII form a login will look up.
Mobile = Annotated[str, AfterValidator(_mobile)]


def _in_china(value: tuple[float, float]) -> tuple[float, float]:
    if not in_china(GeoPoint(*value)):
        raise ValueError("应为中国境内的 [经度, 纬度]（GCJ-02）")
    return value


# [longitude, latitude] in GCJ-02, as Chinese map SDKs give them.
Position = Annotated[tuple[float, float], AfterValidator(_in_china)]


def _polygon(value: dict) -> dict:  # type: ignore[type-arg]
    try:
        polygon_of(value)
    except BoundaryError as error:
        raise ValueError(str(error)) from error
    return value


class BuildingSpec(_Strict):
    code: Code
    name: Name
    units: int = Field(default=1, ge=1, le=50)
    location: Position | None = Field(default=None, description="[longitude, latitude], GCJ-02.")


class GridSpec(_Strict):
    code: Code
    name: Name
    worker: Mobile | None = Field(default=None, description="Phone of a staff account holding the grid_worker role.")
    boundary: Annotated[dict, AfterValidator(_polygon)] | None = Field(  # type: ignore[type-arg]
        default=None,
        description='A GeoJSON Polygon in GCJ-02: { type = "Polygon", coordinates = [[[lon, lat], …, first again]] }.',
    )
    buildings: list[BuildingSpec] = []


Span = Annotated[str, Field(pattern=SPAN.pattern)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class RoomSpec(_Strict):
    name: Name
    capacity: int = Field(ge=1, le=1000)
    facilities: list[Annotated[str, Field(min_length=1, max_length=50)]] = []
    requires_approval: bool = True
    opening_hours: dict[Weekday, list[Span]] = Field(
        default_factory=lambda: {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        description='Per weekday, e.g. mon = ["09:00-12:00", "14:00-18:00"]; a day not listed is closed.',
    )
    closed_dates: list[date] = []
    slot_minutes: Literal[15, 30, 60] = 30
    min_notice_hours: int = Field(default=2, ge=0, le=24 * 14)
    max_days_ahead: int = Field(default=14, ge=1, le=180)
    max_duration_minutes: int = Field(default=240, ge=15, le=24 * 60)
    weekly_quota_hours: int = Field(default=6, ge=1, le=24 * 7)

    @field_validator("opening_hours")
    @classmethod
    def _spans_in_order(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, spans in value.items():
            for span in spans:
                if span_minutes(span) is None:
                    raise ValueError(f"{day} 的开放时段 {span} 结束须晚于开始")
        return value


class RoomRef(_Strict):
    community: str
    name: str


class AppointmentTypeSpec(_Strict):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=50)]
    department: str | None = None
    room: RoomRef | None = None


class CommunitySpec(_Strict):
    code: Code
    name: Name
    grids: list[GridSpec] = []
    rooms: list[RoomSpec] = []


class DepartmentSpec(_Strict):
    code: Code
    name: Name


class CategorySpec(_Strict):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=50)]
    acknowledge_hours: int = Field(ge=1, le=24 * 30)
    resolve_days: int = Field(ge=1, le=365)
    default_department: str | None = None


class GrantSpec(_Strict):
    role: Literal["grid_worker", "staff", "community_admin", "tenant_admin"]
    community: str | None = None
    department: str | None = None


class StaffSpec(_Strict):
    phone: Mobile
    name: Annotated[str, Field(min_length=1, max_length=50)]
    roles: list[GrantSpec] = Field(min_length=1)
    initial_password: str | None = Field(
        default=None, min_length=8, description="Set when the account is created, never changed afterwards."
    )


class WechatSpec(_Strict):
    app_id: Annotated[str, Field(pattern=r"^wx[0-9a-f]{16}$")] = Field(
        description="The street office's own mini-program; its secret is a server setting, never in the manifest."
    )
    api_base: str | None = Field(default=None, description="WeChat's API base URL, if not the usual one.")

    @field_validator("api_base")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(value)
        # Plain http only for a stand-in on this machine (tests, development).
        secure = url.scheme == "https" or (url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost", "::1"))
        if not secure or not url.hostname:
            raise ValueError("须为 https 地址")
        return value


class AttendanceSpec(_Strict):
    work_starts: time = Field(default=time(8, 30), description="A check-in later than this is late.")
    work_ends: time = time(17, 30)
    missing_after: time = Field(
        default=time(10, 0), description="A working day without a check-in by then is missing; the admins are told."
    )
    tolerance_metres: float = Field(
        default=50, ge=0, le=5000, description="How far outside a grid's boundary a punch still counts as inside."
    )

    @field_validator("work_ends")
    @classmethod
    def _ends_after_start(cls, value: time, info: ValidationInfo) -> time:
        starts = info.data.get("work_starts")
        if starts is not None and value <= starts:
            raise ValueError("下班时间须晚于上班时间")
        return value


class ChecklistItemSpec(_Strict):
    code: Code
    label: Annotated[str, Field(min_length=1, max_length=100)]
    category: str = Field(description="Code of the complaint category a problem with this item is filed in.")


class ChecklistSpec(_Strict):
    code: Code
    name: Name
    items: list[ChecklistItemSpec] = Field(min_length=1, max_length=50)


class CareTagSpec(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=20)]
    visit_every_days: int | None = Field(
        default=None, ge=1, le=366, description="A household with a member so tagged is visited this often."
    )


DEFAULT_CARE_TAGS = (
    CareTagSpec(name="独居老人", visit_every_days=7),
    CareTagSpec(name="空巢老人", visit_every_days=14),
    CareTagSpec(name="残疾人", visit_every_days=30),
    CareTagSpec(name="低保", visit_every_days=30),
    CareTagSpec(name="退役军人"),
    CareTagSpec(name="重点关注", visit_every_days=14),
)


class ContactCardSpec(_Strict):
    """A community's contact card, as residents see it (联系我们)."""

    address: Annotated[str, Field(min_length=1, max_length=200)]
    office_phone: Annotated[str, Field(pattern=r"^[0-9+() -]{5,30}$")] = Field(
        description="The office's landline or service number, e.g. 0472-5123456."
    )
    office_hours: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="As shown on the door, e.g. 周一至周五 8:30–12:00、14:30–18:00."
    )
    latitude: float | None = Field(default=None, ge=3.8, le=53.6, description="GCJ-02, as Chinese map SDKs use.")
    longitude: float | None = Field(default=None, ge=73.4, le=135.1, description="GCJ-02.")


class SettingsSpec(_Strict):
    complaint_auto_close_days: int = Field(
        default=7, ge=1, le=90, description="Resolved items close after this many days unconfirmed."
    )
    complaint_reopen_days: int = Field(
        default=7, ge=1, le=90, description="How long after resolution a resident may reopen."
    )
    calendar_overrides: dict[date, Literal["work", "off"]] = Field(
        default_factory=dict, description="Days that differ from the official calendar for this office."
    )
    allowed_origins: list[Origin] = Field(
        default_factory=list,
        description='Sites whose pages may call the API from a browser, e.g. "https://h5.wanqinglu.gov.cn".',
    )
    wechat: WechatSpec | None = None
    attendance: AttendanceSpec = AttendanceSpec()
    volunteer_skills: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=lambda: list(DEFAULT_VOLUNTEER_SKILLS),
        max_length=100,
        description="Skills volunteers pick from (they may add their own tags too).",
    )
    care_tags: list[CareTagSpec] = Field(
        default_factory=lambda: list(DEFAULT_CARE_TAGS),
        max_length=50,
        description="Care tags of household members (独居老人 …), each with how often its households are visited.",
    )
    community_contacts: dict[Code, ContactCardSpec] = Field(
        default_factory=dict, description="Each community's contact card, by community code."
    )


DEFAULT_VOLUNTEER_SKILLS: tuple[str, ...] = (
    "医疗救护",
    "法律咨询",
    "心理疏导",
    "助老助残",
    "教育辅导",
    "文艺演出",
    "环境保护",
    "治安巡逻",
    "摄影摄像",
    "维修服务",
)


class Manifest(_Strict):
    slug: Annotated[str, Field(min_length=2, max_length=63, pattern=r"^[a-z][a-z0-9-]*$")]
    name: Name
    settings: SettingsSpec = SettingsSpec()
    departments: list[DepartmentSpec] = []
    categories: list[CategorySpec] = []
    communities: list[CommunitySpec] = Field(min_length=1)
    appointment_types: list[AppointmentTypeSpec] = []
    inspection_checklists: list[ChecklistSpec] = []
    staff: list[StaffSpec] = []

    def size(self) -> int:
        """Rows the manifest describes, for a progress bar."""
        return (
            len(self.departments)
            + len(self.categories)
            + len(self.staff)
            + len(self.appointment_types)
            + sum(1 + len(c.items) for c in self.inspection_checklists)
            + sum(1 + len(c.rooms) + sum(1 + len(g.buildings) for g in c.grids) for c in self.communities)
        )


class ManifestError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的键",
    "string_too_short": "不能为空或太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不对（只能用字母、数字、- 和 _）",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "too_short": "至少要有一项",
    "greater_than_equal": "太小",
    "less_than_equal": "太大",
    "literal_error": "取值不对",
    "date_from_datetime_parsing": "应为日期（如 2026-10-09）",
    "date_parsing": "应为日期（如 2026-10-09）",
    "dict_type": "应为表",
    "time_parsing": "应为时刻（如 08:30）",
    "time_type": "应为时刻（如 08:30）",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "tuple_type": "应为 [经度, 纬度]",
}


def _path(location: tuple[str | int, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(根)"


def _describe(error: ErrorDetails) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    message = _MESSAGES.get(error["type"], error["msg"])
    if error["type"] == "literal_error":
        message += f"：应为 {error['ctx']['expected']}"
    return message


def load_manifest(path: Path) -> Manifest:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError([f"{path}: 无法读取：{error}"]) from error
    except tomllib.TOMLDecodeError as error:
        raise ManifestError([f"{path}: TOML 格式错误：{error}"]) from error
    return parse_manifest(data, str(path))


def parse_manifest(data: dict[str, Any], source: str) -> Manifest:
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as error:
        raise ManifestError([f"{source}: {_path(e['loc'])}: {_describe(e)}" for e in error.errors()]) from error
    problems = [f"{source}: {path}: {what}" for path, what in _cross_reference_problems(manifest)]
    if problems:
        raise ManifestError(problems)
    return manifest


def _duplicates(path: str, codes: list[str]) -> list[tuple[str, str]]:
    return [(path, f"“{code}”重复出现") for code, n in Counter(codes).items() if n > 1]


def _cross_reference_problems(m: Manifest) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    departments = {d.code for d in m.departments}
    communities = {c.code for c in m.communities}
    grid_workers = {s.phone for s in m.staff if any(g.role == "grid_worker" for g in s.roles)}
    problems += _duplicates("departments", [d.code for d in m.departments])
    problems += _duplicates("categories", [c.code for c in m.categories])
    problems += _duplicates("communities", [c.code for c in m.communities])
    problems += _duplicates("communities[].grids", [g.code for c in m.communities for g in c.grids])
    problems += _duplicates(
        "communities[].grids[].buildings", [b.code for c in m.communities for g in c.grids for b in g.buildings]
    )
    problems += _duplicates("staff", [s.phone for s in m.staff])
    problems += _duplicates("appointment_types", [t.code for t in m.appointment_types])
    rooms = {(c.code, r.name) for c in m.communities for r in c.rooms}
    for i, kind in enumerate(m.appointment_types):
        if kind.department is None and kind.room is None:
            problems.append((f"appointment_types[{i}]", "须指明办理部门（department）或功能室（room）"))
        if kind.department is not None and kind.department not in departments:
            problems.append((f"appointment_types[{i}].department", f"没有代码为“{kind.department}”的部门"))
        if kind.room is not None and (kind.room.community, kind.room.name) not in rooms:
            problems.append((f"appointment_types[{i}].room", "communities 中没有这个功能室"))
    for code in m.settings.community_contacts:
        if code not in communities:
            problems.append((f"settings.community_contacts.{code}", "communities 中没有这个社区代码"))
    problems += _duplicates("settings.care_tags", [t.name for t in m.settings.care_tags])
    for i, category in enumerate(m.categories):
        if category.default_department and category.default_department not in departments:
            problems.append((f"categories[{i}].default_department", f"没有代码为“{category.default_department}”的部门"))
    categories = {c.code for c in m.categories}
    problems += _duplicates("inspection_checklists", [c.code for c in m.inspection_checklists])
    for i, checklist in enumerate(m.inspection_checklists):
        problems += _duplicates(f"inspection_checklists[{i}].items", [item.code for item in checklist.items])
        for j, item in enumerate(checklist.items):
            if item.category not in categories:
                problems.append(
                    (f"inspection_checklists[{i}].items[{j}].category", f"没有代码为“{item.category}”的诉求类别")
                )
    for i, community in enumerate(m.communities):
        problems += _duplicates(f"communities[{i}].rooms", [r.name for r in community.rooms])
        for j, grid in enumerate(community.grids):
            if grid.worker is not None and grid.worker not in grid_workers:
                problems.append((f"communities[{i}].grids[{j}].worker", "不是 staff 中具有 grid_worker 角色的手机号"))
    for i, member in enumerate(m.staff):
        for j, grant in enumerate(member.roles):
            where = f"staff[{i}].roles[{j}]"
            if grant.role == "community_admin" and grant.community not in communities:
                problems.append((f"{where}.community", "社区管理员须指明 communities 中的社区代码"))
            if grant.role == "staff" and grant.department not in departments:
                problems.append((f"{where}.department", "部门工作人员须指明 departments 中的部门代码"))
            if grant.role not in ("community_admin",) and grant.community is not None:
                problems.append((f"{where}.community", "只有 community_admin 角色才有社区范围"))
            if grant.role != "staff" and grant.department is not None:
                problems.append((f"{where}.department", "只有 staff 角色才有部门范围"))
    return problems
