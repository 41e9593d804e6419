"""Household registration (入户登记) and population records: households per building and room,
their members, care tags and the history of every change.

Who may see and change them (docs/domain.md, "Roles"): the grid worker of the household's grid and
the admins over its community manage the record (they see ID numbers and phones whole, every
such view audited); a verified resident sees their own household, with other members' ID
numbers and phones masked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, false, or_, select
from sqlalchemy.exc import IntegrityError

from models.audit import AuditedField, SubjectKind
from models.calendar import SHANGHAI
from models.errors import ErrorCode
from models.households import (
    MEMBER_LIFECYCLE,
    AgeBand,
    HouseholdChange,
    HouseholdHistoryEntry,
    HouseholdMember,
    HouseholdMemberTag,
    IdNumberVault,
    MemberAction,
    MemberParty,
    MemberStatus,
    ResidenceStatus,
    birth_date_of,
    birth_dates_of,
    member_status,
)
from models.organisation import Building, Grid, Household
from models.people import (
    ResidentProfile,
    ResidentStatus,
    Role,
    User,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
)
from resolvers.audit import whole_value
from resolvers.errors import InputCheck, fail, not_found
from resolvers.loaders import groups_by_key, loader, pages_by_parent
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from resolvers.steps import Steps
from tenants.context import RequestContext
from tenants.manifests import CareTagSpec, SettingsSpec
from tenants.tokens import Viewer


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    id: uuid.UUID
    building_id: uuid.UUID
    room: str
    grid_id: uuid.UUID
    community_id: uuid.UUID
    worker_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: uuid.UUID
    household_id: uuid.UUID
    name: str
    relation: str
    id_number_sealed: bytes | None
    phone: str | None
    birth_date: date | None
    residence_status: ResidenceStatus
    user_id: uuid.UUID | None
    moved_in_at: datetime
    moved_out_at: datetime | None
    grid_id: uuid.UUID
    community_id: uuid.UUID
    worker_id: uuid.UUID | None

    @property
    def status(self) -> MemberStatus:
        return member_status(self.moved_out_at)


@dataclass(frozen=True, slots=True)
class TagRow:
    member_id: uuid.UUID
    tag: str


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: uuid.UUID
    household_id: uuid.UUID
    member_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    actor_name: str | None
    change: HouseholdChange
    changes: dict[str, Any]
    at: datetime


_PLACE = and_(Building.tenant_id == Household.tenant_id, Building.id == Household.building_id)
_GRID = and_(Grid.tenant_id == Building.tenant_id, Grid.id == Building.grid_id)

HOUSEHOLD = Selection(
    HouseholdRow,
    select(
        Household.id, Household.building_id, Household.room, Grid.id.label("grid_id"), Grid.community_id, Grid.worker_id
    )
    .join(Building, _PLACE)
    .join(Grid, _GRID),
)
MEMBER = Selection(
    MemberRow,
    select(
        HouseholdMember.id,
        HouseholdMember.household_id,
        HouseholdMember.name,
        HouseholdMember.relation,
        HouseholdMember.id_number_sealed,
        HouseholdMember.phone,
        HouseholdMember.birth_date,
        HouseholdMember.residence_status,
        HouseholdMember.user_id,
        HouseholdMember.moved_in_at,
        HouseholdMember.moved_out_at,
        Grid.id.label("grid_id"),
        Grid.community_id,
        Grid.worker_id,
    )
    .join(
        Household,
        (Household.tenant_id == HouseholdMember.tenant_id) & (Household.id == HouseholdMember.household_id),
    )
    .join(Building, _PLACE)
    .join(Grid, _GRID),
)
TAG = Selection(TagRow, select(HouseholdMemberTag.member_id, HouseholdMemberTag.tag).order_by(HouseholdMemberTag.tag))
HISTORY = Selection(
    HistoryRow,
    select(
        HouseholdHistoryEntry.id,
        HouseholdHistoryEntry.household_id,
        HouseholdHistoryEntry.member_id,
        HouseholdHistoryEntry.actor_id,
        User.name.label("actor_name"),
        HouseholdHistoryEntry.change,
        HouseholdHistoryEntry.changes,
        HouseholdHistoryEntry.at,
    ).outerjoin(
        User, (User.tenant_id == HouseholdHistoryEntry.tenant_id) & (User.id == HouseholdHistoryEntry.actor_id)
    ),
)
HOUSEHOLD_ORDER = (Household.building_id, Household.room, Household.id)
MEMBER_ORDER = (HouseholdMember.id,)
CURRENT = HouseholdMember.moved_out_at.is_(None)


# --- who sees what -----------------------------------------------------------------------------


def _my_household(viewer: Viewer) -> ColumnElement[bool]:
    return Household.id.in_(
        select(ResidentProfile.household_id).where(
            ResidentProfile.id == viewer.user_id, ResidentProfile.status == ResidentStatus.VERIFIED
        )
    )


def managed(viewer: Viewer) -> ColumnElement[bool]:
    """Households whose records the caller manages (rows joined to their grid)."""
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Grid.community_id.in_(v.community_ids),
            Role.GRID_WORKER: lambda v: Grid.worker_id == v.user_id,
        },
    )


def in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return or_(managed(viewer), _my_household(viewer) if Role.RESIDENT in viewer.roles else false())


# As the population register names them (a file's column; the schema says what each means).
RESIDENCE_STATUS_NAMES = {
    ResidenceStatus.HUKOU: "户籍",
    ResidenceStatus.RESIDENT: "常住",
    ResidenceStatus.FLOATING: "流动",
    ResidenceStatus.NOMINAL: "空挂",
}


def manages(ctx: RequestContext, community_id: uuid.UUID, worker_id: uuid.UUID | None) -> bool:
    viewer = ctx.viewer
    if viewer is None:
        return False
    return viewer.administers(community_id) or (Role.GRID_WORKER in viewer.roles and worker_id == viewer.user_id)


def vault(ctx: RequestContext) -> IdNumberVault:
    key = ctx.settings.personal_data_key
    assert key is not None  # models.settings gives development its own
    return IdNumberVault(key.get_secret_value().encode())


def shown_member_id_number(ctx: RequestContext, row: MemberRow) -> str | None:
    """Whole to the member themself and to those who manage the record (audited), else masked."""
    if row.id_number_sealed is None or ctx.tenant_id is None:
        return None
    number = vault(ctx).open(ctx.tenant_id, row.id_number_sealed)
    if number is None:
        return None
    if row.user_id != viewer_of(ctx).user_id and not manages(ctx, row.community_id, row.worker_id):
        return mask_id_number(number)
    return whole_value(ctx, number, SubjectKind.HOUSEHOLD_MEMBER, row.id, AuditedField.ID_NUMBER, owner_id=row.user_id)


def shown_member_phone(ctx: RequestContext, row: MemberRow) -> str | None:
    if row.phone is None:
        return None
    if row.user_id != viewer_of(ctx).user_id and not manages(ctx, row.community_id, row.worker_id):
        return mask_phone(row.phone)
    return whole_value(ctx, row.phone, SubjectKind.HOUSEHOLD_MEMBER, row.id, AuditedField.PHONE, owner_id=row.user_id)


def care_frequencies(settings: SettingsSpec) -> dict[str, int | None]:
    return {tag.name: tag.visit_every_days for tag in settings.care_tags}


def today_in_china(ctx: RequestContext) -> date:
    return ctx.clock().astimezone(SHANGHAI).date()


# --- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PopulationFilter:
    """Narrows households or people; for households, a member condition matches a household
    with at least one current member meeting it."""

    building_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    tag: str | None = None
    residence_status: ResidenceStatus | None = None
    age_band: AgeBand | None = None
    id_number: str | None = None
    include_moved_out: bool = False


def _member_conditions(ctx: RequestContext, query: PopulationFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not query.include_moved_out:
        conditions.append(CURRENT)
    if query.tag is not None:
        conditions.append(
            exists().where(
                HouseholdMemberTag.tenant_id == HouseholdMember.tenant_id,
                HouseholdMemberTag.member_id == HouseholdMember.id,
                HouseholdMemberTag.tag == query.tag,
            )
        )
    if query.residence_status is not None:
        conditions.append(HouseholdMember.residence_status == query.residence_status)
    if query.age_band is not None:
        earliest, latest = birth_dates_of(query.age_band, today_in_china(ctx))
        conditions.append(HouseholdMember.birth_date <= latest)
        if earliest is not None:
            conditions.append(HouseholdMember.birth_date > earliest)
    if query.id_number is not None:
        number = normalise_id_number(query.id_number)
        if number is None:
            raise fail(ErrorCode.INVALID, "身份证号码有误，请核对。", "idNumber")
        assert ctx.tenant_id is not None
        conditions.append(HouseholdMember.id_number_index == vault(ctx).index(ctx.tenant_id, number))
    return conditions


def _place_conditions(query: PopulationFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.building_id is not None:
        conditions.append(Household.building_id == query.building_id)
    if query.grid_id is not None:
        conditions.append(Grid.id == query.grid_id)
    return conditions


# --- reading -----------------------------------------------------------------------------------


async def _households(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[HouseholdRow | None]:
    rows = await HOUSEHOLD.where(in_scope(viewer), one_of(ctx, Household.id, ids)).all(session_of(ctx))
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


async def _members(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[MemberRow | None]:
    rows = await MEMBER.where(in_scope(viewer), one_of(ctx, HouseholdMember.id, ids)).all(session_of(ctx))
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


class Loaders:
    households = _households  # per viewer
    members = _members  # per viewer
    tags = groups_by_key(TAG, HouseholdMemberTag.member_id)
    current_members = pages_by_parent(MEMBER.where(CURRENT), HouseholdMember.household_id, MEMBER_ORDER)
    all_members = pages_by_parent(MEMBER, HouseholdMember.household_id, MEMBER_ORDER)
    history = pages_by_parent(HISTORY, HouseholdHistoryEntry.household_id, (HouseholdHistoryEntry.id,))


@allowed_to(ANYONE)
async def care_tags(ctx: RequestContext) -> list[CareTagSpec]:
    assert ctx.tenant is not None
    return list(ctx.tenant.settings.care_tags)


@allowed_to(Role.RESIDENT, Role.GRID_WORKER, *ADMINS)
async def household(ctx: RequestContext, household_id: uuid.UUID) -> HouseholdRow | None:
    return await loader(ctx, Loaders.households, viewer_of(ctx)).load(household_id)


@allowed_to(Role.RESIDENT, Role.GRID_WORKER, *ADMINS)
async def member(ctx: RequestContext, member_id: uuid.UUID) -> MemberRow | None:
    return await loader(ctx, Loaders.members, viewer_of(ctx)).load(member_id)


@allowed_to(Role.RESIDENT)
async def my_household(ctx: RequestContext) -> HouseholdRow | None:
    viewer = viewer_of(ctx)
    return await HOUSEHOLD.where(_my_household(viewer)).limit(1).one_or_none(session_of(ctx))


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def list_households(ctx: RequestContext, query: PopulationFilter, page: PageRequest) -> Page[HouseholdRow]:
    viewer = viewer_of(ctx)
    members = _member_conditions(ctx, query)
    households = HOUSEHOLD.where(managed(viewer), *_place_conditions(query))
    if members != [CURRENT] and members:
        households = households.where(Household.id.in_(select(HouseholdMember.household_id).where(*members)))
    return await paginate(ctx, households, HOUSEHOLD_ORDER, page)


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def list_people(ctx: RequestContext, query: PopulationFilter, page: PageRequest) -> Page[MemberRow]:
    viewer = viewer_of(ctx)
    people = MEMBER.where(managed(viewer), *_place_conditions(query), *_member_conditions(ctx, query))
    return await paginate(ctx, people, MEMBER_ORDER, page)


async def members_of(
    ctx: RequestContext, household_id: uuid.UUID, page: PageRequest, *, include_moved_out: bool
) -> Page[MemberRow]:
    """Of a household the caller was already shown (the parent resolved through its scope)."""
    batch = Loaders.all_members if include_moved_out else Loaders.current_members
    return await loader(ctx, batch, checked(ctx, page)).load(household_id)


async def tags_of(ctx: RequestContext, member_id: uuid.UUID) -> list[str]:
    return [row.tag for row in await loader(ctx, Loaders.tags).load(member_id)]


async def history_of(ctx: RequestContext, row: HouseholdRow, page: PageRequest) -> Page[HistoryRow]:
    """Who changed what: for those who manage the record only."""
    if not manages(ctx, row.community_id, row.worker_id):
        return Page.empty()
    return await loader(ctx, Loaders.history, checked(ctx, page)).load(row.id)


# --- writing -----------------------------------------------------------------------------------

MEMBER_STEPS = Steps(
    MEMBER_LIFECYCLE,
    thing="成员",
    states={MemberStatus.CURRENT: "在册", MemberStatus.MOVED_OUT: "已迁出"},
    actions={MemberAction.UPDATE: "修改", MemberAction.MOVE_OUT: "迁出"},
    field="memberId",
)


def member_viewer_can(ctx: RequestContext, row: MemberRow) -> frozenset[MemberAction]:
    parties = {MemberParty.MANAGER} if manages(ctx, row.community_id, row.worker_id) else set()
    return MEMBER_STEPS.available(ctx, row, parties)


ROOM_TAKEN = "该房号已登记住户，请在原住户中增减成员。"
ID_NUMBER_TAKEN = "该身份证号码已登记在本街道的其他住户中，请先办理迁出。"


@dataclass(frozen=True)
class MemberDraft:
    """A member's fields; in an update, None leaves a field as it is."""

    name: str | None = None
    relation: str | None = None
    id_number: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    residence_status: ResidenceStatus | None = None
    tags: Sequence[str] | None = field(default=None)


@dataclass(frozen=True)
class _CheckedMember:
    values: dict[str, Any]
    id_number: str | None
    tags: list[str] | None


def _check_member(
    ctx: RequestContext, check: InputCheck, draft: MemberDraft, prefix: str, *, creating: bool
) -> _CheckedMember:
    values: dict[str, Any] = {}
    if draft.name is not None or creating:
        values["name"] = check.text(draft.name or "", f"{prefix}name", "姓名", max_length=50)
    if draft.relation is not None or creating:
        values["relation"] = check.text(draft.relation or "", f"{prefix}relation", "与户主关系", max_length=20)
    if draft.residence_status is not None:
        values["residence_status"] = draft.residence_status
    elif creating:
        check.require(False, f"{prefix}residenceStatus", "请选择居住状态。")
    number = None
    if draft.id_number is not None:
        number = normalise_id_number(draft.id_number)
        check.require(number is not None, f"{prefix}idNumber", "身份证号码有误，请核对。")
    if draft.phone is not None:
        phone = normalise_phone(draft.phone)
        check.require(phone is not None, f"{prefix}phone", "请输入有效的中国大陆手机号码。", ErrorCode.INVALID_PHONE)
        values["phone"] = phone
    if draft.birth_date is not None:
        values["birth_date"] = draft.birth_date
    elif number is not None:
        values["birth_date"] = birth_date_of(number)
    tags = None
    if draft.tags is not None:
        assert ctx.tenant is not None
        known = care_frequencies(ctx.tenant.settings)
        tags = sorted({tag.strip() for tag in draft.tags})
        unknown = [tag for tag in tags if tag not in known]
        check.require(not unknown, f"{prefix}careTags", f"没有这个关爱标签：{'、'.join(unknown)}。")
    return _CheckedMember(values, number, tags)


async def _managed_household(ctx: RequestContext, household_id: uuid.UUID, field_name: str) -> HouseholdRow:
    row = await HOUSEHOLD.where(managed(viewer_of(ctx)), Household.id == household_id).one_or_none(session_of(ctx))
    if row is None:
        raise not_found("住户", field_name)
    return row


async def _check_unique_id_number(
    ctx: RequestContext, number: str | None, field_name: str, member_id: uuid.UUID | None = None
) -> str | None:
    """The blind index of a number no other current member holds in this street office."""
    if number is None:
        return None
    assert ctx.tenant_id is not None
    index = vault(ctx).index(ctx.tenant_id, number)
    holder = await session_of(ctx).scalar(
        select(HouseholdMember.id).where(
            HouseholdMember.id_number_index == index, CURRENT, HouseholdMember.id != member_id
        )
        if member_id is not None
        else select(HouseholdMember.id).where(HouseholdMember.id_number_index == index, CURRENT)
    )
    if holder is not None:
        raise fail(ErrorCode.DUPLICATE, ID_NUMBER_TAKEN, field_name)
    return index


def _history(
    ctx: RequestContext,
    household_id: uuid.UUID,
    change: HouseholdChange,
    changes: dict[str, Any],
    member_id: uuid.UUID | None = None,
) -> None:
    session_of(ctx).add(
        HouseholdHistoryEntry(
            household_id=household_id,
            member_id=member_id,
            actor_id=ctx.viewer.user_id if ctx.viewer else None,
            change=change,
            changes=changes,
            at=ctx.clock(),
        )
    )


def _recorded(name: str, value: Any) -> Any:
    """What history keeps of a value: an ID number's change is noted, never its digits."""
    if name == "id_number":
        return "已变更" if value is not None else None
    if isinstance(value, date):
        return value.isoformat()
    return value


async def _add_member(
    ctx: RequestContext, household_id: uuid.UUID, checked_member: _CheckedMember, index: str | None, field_name: str
) -> uuid.UUID:
    session = session_of(ctx)
    assert ctx.tenant_id is not None
    sealed = vault(ctx).seal(ctx.tenant_id, checked_member.id_number) if checked_member.id_number else None
    row = HouseholdMember(
        household_id=household_id,
        id_number_sealed=sealed,
        id_number_index=index,
        moved_in_at=ctx.clock(),
        **checked_member.values,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:  # the same number registered elsewhere at the same moment
        raise fail(ErrorCode.DUPLICATE, ID_NUMBER_TAKEN, field_name) from error
    session.add_all(HouseholdMemberTag(member_id=row.id, tag=tag) for tag in checked_member.tags or [])
    changes = {name: [None, _recorded(name, value)] for name, value in checked_member.values.items()}
    if checked_member.id_number:
        changes["id_number"] = [None, "已登记"]
    if checked_member.tags:
        changes["tags"] = [[], checked_member.tags]
    _history(ctx, household_id, HouseholdChange.MEMBER_ADDED, changes, row.id)
    await session.flush()
    return row.id


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def register_household(
    ctx: RequestContext, building_id: uuid.UUID, room: str, members: Sequence[MemberDraft]
) -> uuid.UUID:
    """A household registered by the grid worker of its building (or an admin over it), with
    its members; a room already registered is `DUPLICATE`."""
    session = session_of(ctx)
    check = InputCheck()
    room = check.text(room, "room", "房号", max_length=32)
    place = (
        await session.execute(
            select(Grid.community_id, Grid.worker_id).join(Building, _GRID).where(Building.id == building_id)
        )
    ).one_or_none()
    check.require(place is not None, "buildingId", "请从列表中选择楼栋。")
    if place is not None and not manages(ctx, place.community_id, place.worker_id):
        check.require(False, "buildingId", "只能登记您负责的网格或管理的社区中的住户。", ErrorCode.OUT_OF_SCOPE)
    drafts = [_check_member(ctx, check, m, f"members.{i}.", creating=True) for i, m in enumerate(members)]
    check.require(bool(drafts), "members", "请至少登记一名成员。")
    check.done()
    taken = await session.scalar(
        select(Household.id).where(Household.building_id == building_id, Household.room == room)
    )
    if taken is not None:
        raise fail(ErrorCode.DUPLICATE, ROOM_TAKEN, "room")
    numbers = [d.id_number for d in drafts if d.id_number]
    if len(numbers) != len(set(numbers)):
        raise fail(ErrorCode.DUPLICATE, "同一身份证号码不能登记两次。", "members")
    indexes = [await _check_unique_id_number(ctx, d.id_number, f"members.{i}.idNumber") for i, d in enumerate(drafts)]
    household_row = Household(building_id=building_id, room=room)
    session.add(household_row)
    try:
        await session.flush()
    except IntegrityError as error:  # the same room registered by two people at the same moment
        raise fail(ErrorCode.DUPLICATE, ROOM_TAKEN, "room") from error
    _history(ctx, household_row.id, HouseholdChange.CREATED, {"room": [None, room]})
    for i, (draft, index) in enumerate(zip(drafts, indexes, strict=True)):
        await _add_member(ctx, household_row.id, draft, index, f"members.{i}.idNumber")
    return household_row.id


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def add_member(ctx: RequestContext, household_id: uuid.UUID, draft: MemberDraft) -> uuid.UUID:
    await _managed_household(ctx, household_id, "householdId")
    check = InputCheck()
    checked_member = _check_member(ctx, check, draft, "member.", creating=True)
    check.done()
    index = await _check_unique_id_number(ctx, checked_member.id_number, "member.idNumber")
    return await _add_member(ctx, household_id, checked_member, index, "member.idNumber")


async def _managed_member(ctx: RequestContext, member_id: uuid.UUID) -> HouseholdMember:
    session = session_of(ctx)
    row = await session.scalar(
        select(HouseholdMember)
        .join(
            Household,
            (Household.tenant_id == HouseholdMember.tenant_id) & (Household.id == HouseholdMember.household_id),
        )
        .join(Building, _PLACE)
        .join(Grid, _GRID)
        .where(HouseholdMember.id == member_id, managed(viewer_of(ctx)))
    )
    if row is None:
        raise not_found("成员", "memberId")
    return row


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def update_member(ctx: RequestContext, member_id: uuid.UUID, draft: MemberDraft) -> uuid.UUID:
    """Changes the fields given, recording each change (before and after) in the history."""
    session = session_of(ctx)
    row = await _managed_member(ctx, member_id)
    MEMBER_STEPS.next_state(ctx, MemberAction.UPDATE, row, {MemberParty.MANAGER})
    check = InputCheck()
    checked_member = _check_member(ctx, check, draft, "", creating=False)
    check.done()
    changes: dict[str, Any] = {}
    for name, value in checked_member.values.items():
        before = getattr(row, name)
        if before != value:
            changes[name] = [_recorded(name, before), _recorded(name, value)]
            setattr(row, name, value)
    if checked_member.id_number is not None:
        assert ctx.tenant_id is not None
        index = await _check_unique_id_number(ctx, checked_member.id_number, "idNumber", row.id)
        if index != row.id_number_index:
            changes["id_number"] = ["已登记" if row.id_number_index else None, "已变更"]
            row.id_number_sealed = vault(ctx).seal(ctx.tenant_id, checked_member.id_number)
            row.id_number_index = index
    if checked_member.tags is not None:
        before_tags = sorted(
            (await session.scalars(select(HouseholdMemberTag.tag).where(HouseholdMemberTag.member_id == row.id))).all()
        )
        if before_tags != checked_member.tags:
            changes["tags"] = [before_tags, checked_member.tags]
            for tag in set(before_tags) - set(checked_member.tags):
                await session.execute(
                    delete(HouseholdMemberTag)
                    .execution_options(synchronize_session=False)
                    .where(
                        HouseholdMemberTag.tenant_id == ctx.tenant_id,
                        HouseholdMemberTag.member_id == row.id,
                        HouseholdMemberTag.tag == tag,
                    )
                )
            session.add_all(
                HouseholdMemberTag(member_id=row.id, tag=tag) for tag in set(checked_member.tags) - set(before_tags)
            )
    if changes:
        _history(ctx, row.household_id, HouseholdChange.MEMBER_UPDATED, changes, row.id)
    try:
        await session.flush()
    except IntegrityError as error:
        raise fail(ErrorCode.DUPLICATE, ID_NUMBER_TAKEN, "idNumber") from error
    return row.id


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def move_out_member(ctx: RequestContext, member_id: uuid.UUID, note: str | None) -> uuid.UUID:
    """The member leaves the household; their record and its history stay."""
    row = await _managed_member(ctx, member_id)
    MEMBER_STEPS.next_state(ctx, MemberAction.MOVE_OUT, row, {MemberParty.MANAGER})
    check = InputCheck()
    reason = check.text(note, "note", "迁出说明", max_length=200) if note else None
    check.done()
    row.moved_out_at = ctx.clock()
    _history(ctx, row.household_id, HouseholdChange.MEMBER_MOVED_OUT, {"note": [None, reason]}, row.id)
    await session_of(ctx).flush()
    return row.id


async def join_household(ctx: RequestContext, household_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """A resident verified into their household (resolvers.people.verify_resident) becomes its
    member: the current member of that name without an account, else a new one."""
    session = session_of(ctx)
    user = (await session.execute(select(User.name, User.phone).where(User.id == user_id))).one()
    if await session.scalar(select(HouseholdMember.id).where(HouseholdMember.user_id == user_id, CURRENT)):
        return
    same_name = await session.scalar(
        select(HouseholdMember).where(
            HouseholdMember.household_id == household_id,
            HouseholdMember.name == user.name,
            HouseholdMember.user_id.is_(None),
            CURRENT,
        )
    )
    if same_name is not None:
        same_name.user_id = user_id
        same_name.phone = same_name.phone or user.phone
        member_id = same_name.id
    else:
        joined = HouseholdMember(
            household_id=household_id,
            name=user.name,
            relation="家庭成员",
            phone=user.phone,
            residence_status=ResidenceStatus.RESIDENT,
            user_id=user_id,
            moved_in_at=ctx.clock(),
        )
        session.add(joined)
        await session.flush()
        member_id = joined.id
    _history(ctx, household_id, HouseholdChange.RESIDENT_JOINED, {"name": [None, user.name]}, member_id)
    await session.flush()
