"""The plumbing every domain shares: typed rows that cannot drift from their query, one idea of
"admin over this community", tenant settings whose defaults live in the spec alone, and GraphQL
enums that mirror the models' members."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from models.appointments import AppointmentStatus, ContactMethod
from models.bookings import BookingStatus
from models.complaints import AttachmentKind, ComplaintAction, ComplaintSource, ComplaintStatus
from models.organisation import Community
from models.people import ResidentStatus, Role
from resolvers.rows import Selection
from schema import appointments, bookings, complaints, people
from tenants.directory import TenantInfo
from tenants.manifests import SettingsSpec
from tenants.tokens import Viewer

HERE, THERE = uuid.uuid4(), uuid.uuid4()


@dataclass(frozen=True)
class CommunityName:
    id: uuid.UUID
    name: str


def test_a_query_that_does_not_select_its_row_fails_on_import() -> None:
    assert Selection(CommunityName, select(Community.id, Community.name)).row_type is CommunityName
    with pytest.raises(TypeError, match="CommunityName"):
        Selection(CommunityName, select(Community.id, Community.code))
    with pytest.raises(TypeError, match="CommunityName"):
        Selection(CommunityName, select(Community.name, Community.id))


def viewer(*roles: Role, communities: tuple[uuid.UUID, ...] = ()) -> Viewer:
    return Viewer(
        user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), roles=frozenset(roles), community_ids=frozenset(communities)
    )


@pytest.mark.parametrize(
    ("who", "community", "administers"),
    [
        (viewer(Role.TENANT_ADMIN), HERE, True),
        (viewer(Role.TENANT_ADMIN), None, True),
        (viewer(Role.COMMUNITY_ADMIN, communities=(HERE,)), HERE, True),
        (viewer(Role.COMMUNITY_ADMIN, communities=(HERE,)), THERE, False),
        (viewer(Role.COMMUNITY_ADMIN, communities=(HERE,)), None, False),
        (viewer(Role.GRID_WORKER, Role.RESIDENT, communities=(HERE,)), HERE, False),
        (viewer(Role.STAFF), HERE, False),
    ],
)
def test_admin_over_a_community_means_its_community_admin_or_the_tenant_admin(
    who: Viewer, community: uuid.UUID | None, administers: bool
) -> None:
    assert who.administers(community) is administers


def test_a_tenant_without_stored_settings_gets_the_specs_defaults() -> None:
    settings = TenantInfo(id=uuid.uuid4(), slug="x", name="x").settings
    assert settings == SettingsSpec()
    assert (settings.complaint_reopen_days, settings.complaint_auto_close_days) == (7, 7)


@pytest.mark.parametrize(
    ("model", "mirror"),
    [
        (ComplaintStatus, complaints.ComplaintStatusType),
        (ComplaintAction, complaints.ComplaintActionType),
        (ComplaintSource, complaints.ComplaintSourceType),
        (AttachmentKind, complaints.AttachmentKindType),
        (BookingStatus, bookings.BookingStatusType),
        (AppointmentStatus, appointments.AppointmentStatusType),
        (ContactMethod, appointments.ContactMethodType),
        (Role, people.RoleType),
        (ResidentStatus, people.ResidentStatusType),
    ],
)
def test_each_graphql_enum_has_exactly_its_models_members_and_values(
    model: type[enum.Enum], mirror: type[enum.Enum]
) -> None:
    assert [(m.name, m.value) for m in mirror] == [(m.name, m.value) for m in model]
    assert all(value.description for value in mirror.__strawberry_definition__.values)  # type: ignore[attr-defined]
