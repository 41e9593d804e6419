"""The data layer: tables, invariants and the rules that hold whatever the caller."""

from models.analytics import (
    ComplaintBuildingRollup,
    ComplaintCellRollup,
    ComplaintCommunityStatusRollup,
    ComplaintDayRollup,
    ComplaintGridDayRollup,
    ComplaintMonthRollup,
    ComplaintStatusRollup,
)
from models.appointments import Appointment, AppointmentEvent, AppointmentType
from models.articles import Article, ArticleEvent
from models.attendance import MissedCheckIn, Punch, Shift
from models.audit import FullViewEntry
from models.auth import RefreshToken, WechatIdentity
from models.badges import BadgeRegistration, WorkerBadge
from models.base import Base, TenantOwned, new_id, utcnow
from models.bookings import Room, RoomBooking
from models.calendar import OfficialCalendarDay
from models.complaints import Attachment, Complaint, ComplaintCategory, ComplaintEvent
from models.exports import Export
from models.guides import (
    ServiceApplication,
    ServiceApplicationEvent,
    ServiceApplicationFile,
    ServiceCertificate,
    ServiceGuide,
    ServiceGuideVersion,
)
from models.households import HouseholdHistoryEntry, HouseholdMember, HouseholdMemberTag
from models.inspections import Checklist, ChecklistItem, Finding, InspectionRound
from models.leaders import BuildingLeader, BuildingLeaderEvent
from models.notices import Notice, NoticeReceipt, NoticeTarget
from models.notifications import Notification, UnreadNotifications
from models.organisation import Building, Community, Department, Grid, Household
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User
from models.persisted_queries import PersistedQuery
from models.phone_codes import PhoneCode
from models.platform import PlatformAdmin
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
    "Article",
    "ArticleEvent",
    "Attachment",
    "BadgeRegistration",
    "Base",
    "Building",
    "BuildingLeader",
    "BuildingLeaderEvent",
    "CareReminder",
    "Checklist",
    "ChecklistItem",
    "Community",
    "Complaint",
    "ComplaintBuildingRollup",
    "ComplaintCategory",
    "ComplaintCellRollup",
    "ComplaintCommunityStatusRollup",
    "ComplaintDayRollup",
    "ComplaintEvent",
    "ComplaintGridDayRollup",
    "ComplaintMonthRollup",
    "ComplaintStatusRollup",
    "Department",
    "Export",
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
    "Notice",
    "NoticeReceipt",
    "NoticeTarget",
    "Notification",
    "OfficialCalendarDay",
    "PendingUpload",
    "PersistedQuery",
    "PhoneCode",
    "PlatformAdmin",
    "Punch",
    "RefreshToken",
    "ResidentProfile",
    "ResidentStatus",
    "Role",
    "RoleGrant",
    "Room",
    "RoomBooking",
    "ServiceApplication",
    "ServiceApplicationEvent",
    "ServiceApplicationFile",
    "ServiceCertificate",
    "ServiceGuide",
    "ServiceGuideVersion",
    "Shift",
    "Tenant",
    "TenantOwned",
    "TenantStatus",
    "Throttle",
    "UnreadNotifications",
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
