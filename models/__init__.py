"""The data layer: tables, invariants and the rules that hold whatever the caller."""

from models.appointments import Appointment, AppointmentEvent, AppointmentType
from models.attendance import MissedCheckIn, Punch, Shift
from models.audit import FullViewEntry
from models.auth import RefreshToken, WechatIdentity
from models.badges import BadgeRegistration, WorkerBadge
from models.base import Base, TenantOwned, new_id, utcnow
from models.bookings import Room, RoomBooking
from models.calendar import OfficialCalendarDay
from models.complaints import Attachment, Complaint, ComplaintCategory, ComplaintEvent
from models.households import HouseholdHistoryEntry, HouseholdMember, HouseholdMemberTag
from models.inspections import Checklist, ChecklistItem, Finding, InspectionRound
from models.notifications import Notification
from models.organisation import Building, Community, Department, Grid, Household
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User
from models.persisted_queries import PersistedQuery
from models.phone_codes import PhoneCode
from models.tenants import Tenant, TenantStatus
from models.throttles import Throttle
from models.uploads import PendingUpload
from models.visits import CareReminder, HouseholdVisit, VisitFinding, VisitPhoto
from models.volunteers import (
    Volunteer,
    VolunteerActivity,
    VolunteerActivityEvent,
    VolunteerMonthlyTotal,
    VolunteerPointsEntry,
    VolunteerSignup,
    VolunteerTeam,
    VolunteerTeamMember,
)

__all__ = [
    "Appointment",
    "AppointmentEvent",
    "AppointmentType",
    "Attachment",
    "BadgeRegistration",
    "Base",
    "Building",
    "CareReminder",
    "Checklist",
    "ChecklistItem",
    "Community",
    "Complaint",
    "ComplaintCategory",
    "ComplaintEvent",
    "Department",
    "Finding",
    "FullViewEntry",
    "Grid",
    "Household",
    "HouseholdHistoryEntry",
    "HouseholdMember",
    "HouseholdMemberTag",
    "HouseholdVisit",
    "InspectionRound",
    "MissedCheckIn",
    "Notification",
    "OfficialCalendarDay",
    "PendingUpload",
    "PersistedQuery",
    "PhoneCode",
    "Punch",
    "RefreshToken",
    "ResidentProfile",
    "ResidentStatus",
    "Role",
    "RoleGrant",
    "Room",
    "RoomBooking",
    "Shift",
    "Tenant",
    "TenantOwned",
    "TenantStatus",
    "Throttle",
    "User",
    "VisitFinding",
    "VisitPhoto",
    "Volunteer",
    "VolunteerActivity",
    "VolunteerActivityEvent",
    "VolunteerMonthlyTotal",
    "VolunteerPointsEntry",
    "VolunteerSignup",
    "VolunteerTeam",
    "VolunteerTeamMember",
    "WechatIdentity",
    "WorkerBadge",
    "new_id",
    "utcnow",
]
