"""People: who I am, residents registering themselves, and grid workers verifying them.

Who may see a resident (docs/domain.md, "Roles"): the resident; the grid worker of their grid
(phone and ID masked); the admin of their community; the tenant admin.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, or_, select
from sqlalchemy.exc import IntegrityError

from models.audit import AuditedField, SubjectKind
from models.errors import ErrorCode
from models.leaders import led_buildings
from models.organisation import Building, Grid, Household
from models.people import (
    ResidentProfile,
    ResidentStatus,
    Role,
    RoleGrant,
    User,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
)
from models.phone_codes import CodePurpose
from resolvers import badges, households, wechat
from resolvers.audit import whole_value
from resolvers.auth import check_new_password
from resolvers.errors import DomainError, InputCheck, Issue, fail, not_found
from resolvers.loaders import batch_by_key, groups_by_key, loader
from resolvers.pagination import Page, PageRequest, paginate
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.phone_codes import prove_phone
from resolvers.rows import Selection, one_of
from tenants.context import RequestContext
from tenants.tokens import Viewer


@dataclass(frozen=True, slots=True)
class ResidentRow:
    id: uuid.UUID
    name: str
    phone: str
    status: ResidentStatus
    building_id: uuid.UUID
    room: str
    household_id: uuid.UUID | None
    rejection_reason: str | None
    registered_at: datetime
    id_number: str | None
    # To-one relations joined into the list query itself: no second round trip for them.
    building_code: str
    building_name: str
    building_units: int
    grid_id: uuid.UUID
    grid_code: str
    grid_name: str
    worker_id: uuid.UUID | None
    community_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: uuid.UUID
    name: str
    phone: str
    community_id: uuid.UUID | None  # a resident's home community (admins over it see the phone whole)
    served_by: uuid.UUID | None  # a verified resident's grid worker (who sees the phone whole)


@dataclass(frozen=True, slots=True)
class GrantRow:
    user_id: uuid.UUID
    role: Role
    community_id: uuid.UUID | None
    department_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class StaffMemberRow:
    id: uuid.UUID
    name: str
    department_id: uuid.UUID | None


RESIDENT = Selection(
    ResidentRow,
    select(
        ResidentProfile.id,
        User.name,
        User.phone,
        ResidentProfile.status,
        ResidentProfile.building_id,
        ResidentProfile.room,
        ResidentProfile.household_id,
        ResidentProfile.rejection_reason,
        ResidentProfile.registered_at,
        ResidentProfile.id_number,
        Building.code.label("building_code"),
        Building.name.label("building_name"),
        Building.units.label("building_units"),
        Grid.id.label("grid_id"),
        Grid.code.label("grid_code"),
        Grid.name.label("grid_name"),
        Grid.worker_id,
        Grid.community_id,
    )
    .join(User, (User.tenant_id == ResidentProfile.tenant_id) & (User.id == ResidentProfile.id))
    .join(
        Building,
        (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id),
    )
    .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id)),
)
# A registration not yet verified is only a claim to live in a grid: its grid worker gets the
# phone whole once they have verified it.
SERVED_BY = case((ResidentProfile.status == ResidentStatus.VERIFIED, Grid.worker_id), else_=None)
PERSON = Selection(
    PersonRow,
    select(User.id, User.name, User.phone, Grid.community_id, SERVED_BY.label("served_by"))
    .outerjoin(ResidentProfile, (ResidentProfile.tenant_id == User.tenant_id) & (ResidentProfile.id == User.id))
    .outerjoin(
        Building, (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id)
    )
    .outerjoin(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id)),
)
# The people a domain's items in the caller's scope show (a complaint's reporter, say), as a
# SELECT of user ids: each domain that shows people offers one, for `visible_person`. `now`
# for scopes that hold for a time (a building leader's term).
PeopleShown = Callable[[Viewer, datetime], Select[Any]]
GRANT = Selection(GrantRow, select(RoleGrant.user_id, RoleGrant.role, RoleGrant.community_id, RoleGrant.department_id))
STAFF_MEMBER = Selection(
    StaffMemberRow,
    select(User.id, User.name, RoleGrant.department_id)
    .join(RoleGrant, (RoleGrant.tenant_id == User.tenant_id) & (RoleGrant.user_id == User.id))
    .where(RoleGrant.role == Role.STAFF),
)


def _residents_in_scope(viewer: Viewer, now: datetime) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Grid.community_id.in_(v.community_ids),
            Role.GRID_WORKER: lambda v: Grid.worker_id == v.user_id,
            Role.RESIDENT: lambda v: ResidentProfile.id == v.user_id,
            # The verified residents of the buildings they lead, while they serve.
            Role.BUILDING_LEADER: lambda v: and_(
                ResidentProfile.building_id.in_(led_buildings(v.user_id, now)),
                ResidentProfile.status == ResidentStatus.VERIFIED,
            ),
        },
    )


def sees_full_contact(
    ctx: RequestContext,
    person_id: uuid.UUID,
    community_id: uuid.UUID | None,
    served_by: uuid.UUID | None = None,
) -> bool:
    """Whole phone numbers go to the person themself, to admins over them and to the grid worker
    serving them (`served_by`: a verified resident's); everyone else gets them masked."""
    viewer = ctx.viewer
    if viewer is None:
        return False
    return (
        viewer.user_id == person_id
        or viewer.administers(community_id)
        or (served_by is not None and served_by == viewer.user_id)
    )


def shown_phone(
    ctx: RequestContext,
    person_id: uuid.UUID,
    phone: str,
    community_id: uuid.UUID | None = None,
    served_by: uuid.UUID | None = None,
    *,
    whole: bool | None = None,
) -> str:
    """`whole` decides where the caller knows better (a resident's own grid worker); every whole
    phone shown to someone else is audited."""
    if not (whole if whole is not None else sees_full_contact(ctx, person_id, community_id, served_by)):
        return mask_phone(phone)
    return whole_value(ctx, phone, SubjectKind.PERSON, person_id, AuditedField.PHONE, owner_id=person_id)


def shown_id_number(
    ctx: RequestContext, person_id: uuid.UUID, id_number: str | None, community_id: uuid.UUID
) -> str | None:
    if id_number is None:
        return None
    if not sees_full_contact(ctx, person_id, community_id):
        return mask_id_number(id_number)
    return whole_value(ctx, id_number, SubjectKind.PERSON, person_id, AuditedField.ID_NUMBER, owner_id=person_id)


async def _visible_people(
    ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer, shown: tuple[PeopleShown, ...]
) -> list[PersonRow | None]:
    staff = select(RoleGrant.user_id).where(RoleGrant.role != Role.RESIDENT)
    residents = (
        select(ResidentProfile.id)
        .join(
            Building, (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id)
        )
        .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
        .where(_residents_in_scope(viewer, ctx.clock()))
    )
    seen = or_(
        User.id == viewer.user_id,
        User.id.in_(staff),
        User.id.in_(residents),
        *(User.id.in_(people(viewer, ctx.clock())) for people in shown),
    )
    found = {row.id: row for row in await PERSON.where(one_of(ctx, User.id, ids), seen).all(session_of(ctx))}
    return [found.get(i) for i in ids]


async def _residents(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[ResidentRow | None]:
    rows = await RESIDENT.where(_residents_in_scope(viewer, ctx.clock()), one_of(ctx, ResidentProfile.id, ids)).all(
        session_of(ctx)
    )
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    people = batch_by_key(PERSON, User.id)
    grants = groups_by_key(GRANT, RoleGrant.user_id)
    residents = _residents  # per viewer
    visible_people = _visible_people  # per viewer and the domains showing people


@allowed_to(ANYONE)
async def me(ctx: RequestContext) -> PersonRow | None:
    if ctx.viewer is None:
        return None
    return await loader(ctx, Loaders.people).load(ctx.viewer.user_id)


async def grants_of(ctx: RequestContext, user_id: uuid.UUID) -> list[GrantRow]:
    """Only ever called for the caller themself (`me`); roles of others are not shown."""
    if ctx.viewer is None or ctx.viewer.user_id != user_id:
        return []
    return await loader(ctx, Loaders.grants).load(user_id)


@allowed_to(ANYONE)
async def person(ctx: RequestContext, person_id: uuid.UUID) -> PersonRow | None:
    """Name and contact of a person the caller is shown (a grid's worker): signed-in callers
    only, since grid workers are staff, not public figures."""
    if ctx.viewer is None:
        return None
    return await loader(ctx, Loaders.people).load(person_id)


@allowed_to(*Role)
async def visible_person(ctx: RequestContext, person_id: uuid.UUID, shown: tuple[PeopleShown, ...]) -> PersonRow | None:
    """A person as `node()` finds them: only one the caller is shown somewhere. Themself; staff
    (grid workers, department staff, admins), whom every signed-in caller may be shown; a
    resident in the caller's scope; or a person one of the caller's items shows (`shown`: the
    reporter of a complaint they handle, say)."""
    viewer = viewer_of(ctx)
    return await loader(ctx, Loaders.visible_people, viewer, shown).load(person_id)


@allowed_to(Role.RESIDENT, Role.GRID_WORKER, *ADMINS)
async def resident(ctx: RequestContext, resident_id: uuid.UUID) -> ResidentRow | None:
    """A resident the caller may see, or None: out of scope looks exactly like not there."""
    viewer = viewer_of(ctx)
    return await loader(ctx, Loaders.residents, viewer).load(resident_id)


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def residents_awaiting_review(ctx: RequestContext, page: PageRequest) -> Page[ResidentRow]:
    viewer = viewer_of(ctx)
    pending = RESIDENT.where(_residents_in_scope(viewer, ctx.clock()), ResidentProfile.status == ResidentStatus.PENDING)
    return await paginate(ctx, pending, (ResidentProfile.id,), page)


@allowed_to(ANYONE)
async def register_resident(
    ctx: RequestContext,
    *,
    phone: str,
    phone_code: str,
    password: str,
    name: str,
    building_id: uuid.UUID | None,
    room: str,
    id_number: str | None = None,
    wechat_ticket: str | None = None,
    badge: str | None = None,
) -> uuid.UUID:
    """A resident signs up, proving their phone with the code sent to it, and may use resident
    features at once; their grid worker then verifies where they live. With a WeChat binding
    ticket (the phone proved with a code requested for binding) their WeChat is linked too.
    Whether the phone already has an account is said only once the code proved it is theirs.
    With a grid worker's badge (resolvers.badges) the building must be in the badge's grid.
    Returns the new resident's id."""
    session = session_of(ctx)
    check = InputCheck()
    normalised = normalise_phone(phone)
    check.require(normalised is not None, "phone", "请输入有效的中国大陆手机号码。", ErrorCode.INVALID_PHONE)
    check_new_password(check, password, "password")
    name = check.text(name, "name", "姓名", max_length=50)
    room = check.text(room, "room", "房号", max_length=32)
    checked_id_number = normalise_id_number(id_number) if id_number else None
    check.require(not id_number or checked_id_number is not None, "idNumber", "身份证号码有误，请核对。")
    building_grid = (
        await session.scalar(select(Building.grid_id).where(Building.id == building_id))
        if building_id is not None
        else None
    )
    check.require(building_grid is not None, "buildingId", "请从列表中选择所在楼栋。")
    scanned = await badges.scanned_badge(ctx, badge) if badge else None
    if scanned is not None and building_grid is not None:
        check.require(
            building_grid == scanned.grid_id, "buildingId", f"请选择{scanned.grid_name}的楼栋，或不扫码直接注册。"
        )
    check.done()
    assert normalised is not None
    binding = wechat.read_binding(ctx, wechat_ticket, "wechatTicket") if wechat_ticket else None
    purpose = CodePurpose.BIND_WECHAT if binding else CodePurpose.REGISTER
    await prove_phone(ctx, normalised, purpose, phone_code)
    if await session.scalar(select(User.id).where(User.phone == normalised)) is not None:
        raise fail(ErrorCode.PHONE_TAKEN, "该手机号已注册，请直接登录。", "phone")

    password_hash = await ctx.passwords.hash(password, lane=ctx.tenant_id)
    user = User(phone=normalised, name=name, password_hash=password_hash, created_at=ctx.clock())
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:  # the same phone registering twice at the same moment
        raise fail(ErrorCode.PHONE_TAKEN, "该手机号已注册，请直接登录。", "phone") from error
    session.add_all(
        [
            RoleGrant(user_id=user.id, role=Role.RESIDENT),
            ResidentProfile(
                id=user.id,
                building_id=building_id,
                room=room,
                id_number=checked_id_number,
                registered_at=ctx.clock(),
            ),
        ]
    )
    await session.flush()
    if binding is not None:
        await wechat.link(ctx, user.id, binding)
    if scanned is not None:
        await badges.record_registration(ctx, user.id, scanned)
    return user.id


@allowed_to(Role.RESIDENT)
async def update_my_profile(
    ctx: RequestContext, *, name: str | None, building_id: uuid.UUID | None, room: str | None
) -> uuid.UUID:
    """A resident corrects their name or moves: a new building or room waits for the grid
    worker's verification again (and leaves the old household). Fields left out stay."""
    viewer = viewer_of(ctx)
    session = session_of(ctx)
    profile = await session.scalar(select(ResidentProfile).where(ResidentProfile.id == viewer.user_id))
    user = await session.scalar(select(User).where(User.id == viewer.user_id))
    if profile is None or user is None:
        raise not_found("居民")
    check = InputCheck()
    new_name = check.text(name, "name", "姓名", max_length=50) if name is not None else user.name
    new_room = check.text(room, "room", "房号", max_length=32) if room is not None else profile.room
    if building_id is not None:
        exists = await session.scalar(select(Building.id).where(Building.id == building_id))
        check.require(exists is not None, "buildingId", "请从列表中选择所在楼栋。")
    check.done()
    user.name = new_name
    if (building_id or profile.building_id, new_room) != (profile.building_id, profile.room):
        profile.building_id = building_id or profile.building_id
        profile.room = new_room
        profile.household_id = None
        profile.status = ResidentStatus.PENDING
        profile.rejection_reason = None
        profile.reviewed_at = None
    await session.flush()
    return profile.id


async def _pending_in_scope(ctx: RequestContext, resident_id: uuid.UUID) -> ResidentProfile:
    viewer = viewer_of(ctx)
    session = session_of(ctx)
    profile = await session.scalar(
        select(ResidentProfile)
        .join(
            Building, (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id)
        )
        .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
        .where(ResidentProfile.id == resident_id, _residents_in_scope(viewer, ctx.clock()))
    )
    if profile is None:
        raise not_found("居民", "residentId")
    if profile.status != ResidentStatus.PENDING:
        raise DomainError(
            Issue(
                ErrorCode.ALREADY_REVIEWED,
                f"该居民已审核（{_STATUS_NAMES[profile.status]}），不能重复审核。",
                "residentId",
            )
        )
    return profile


_STATUS_NAMES = {
    ResidentStatus.PENDING: "待审核",
    ResidentStatus.VERIFIED: "已核实",
    ResidentStatus.REJECTED: "已驳回",
}


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def verify_resident(ctx: RequestContext, resident_id: uuid.UUID) -> uuid.UUID:
    """Links the resident to the household of their building and room, creating it if new, and
    makes them its member (resolvers.households.join_household)."""
    session = session_of(ctx)
    profile = await _pending_in_scope(ctx, resident_id)
    household_id = await session.scalar(
        select(Household.id).where(Household.building_id == profile.building_id, Household.room == profile.room)
    )
    if household_id is None:
        household = Household(building_id=profile.building_id, room=profile.room)
        session.add(household)
        await session.flush()
        household_id = household.id
    profile.household_id = household_id
    profile.status = ResidentStatus.VERIFIED
    profile.reviewed_at = ctx.clock()
    await session.flush()
    await households.join_household(ctx, household_id, profile.id)
    return profile.id


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def reject_resident(ctx: RequestContext, resident_id: uuid.UUID, reason: str) -> uuid.UUID:
    check = InputCheck()
    reason = check.text(reason, "reason", "驳回理由", min_length=2, max_length=200)
    check.done()
    profile = await _pending_in_scope(ctx, resident_id)
    profile.status = ResidentStatus.REJECTED
    profile.rejection_reason = reason
    profile.reviewed_at = ctx.clock()
    await session_of(ctx).flush()
    return profile.id


async def resident_as_registered(ctx: RequestContext, resident_id: uuid.UUID) -> ResidentRow | None:
    """The resident just registered in this same request, for its payload: the anonymous caller
    has no token yet to be scoped by."""
    return await RESIDENT.where(ResidentProfile.id == resident_id).one_or_none(session_of(ctx))


@allowed_to(*ADMINS)
async def list_staff(ctx: RequestContext, department_id: uuid.UUID | None, page: PageRequest) -> Page[StaffMemberRow]:
    """Department staff, for admins choosing whom to give an appointment (分拣)."""
    staff = STAFF_MEMBER if department_id is None else STAFF_MEMBER.where(RoleGrant.department_id == department_id)
    return await paginate(ctx, staff, (RoleGrant.id,), page)


@allowed_to(*ADMINS)
async def staff_member(ctx: RequestContext, user_id: uuid.UUID) -> StaffMemberRow | None:
    return await STAFF_MEMBER.where(User.id == user_id).limit(1).one_or_none(session_of(ctx))
