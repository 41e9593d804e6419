"""The data layer: tables, invariants and the rules that hold whatever the caller."""

from models.auth import RefreshToken
from models.base import Base, TenantOwned, new_id, utcnow
from models.bookings import Room
from models.complaints import ComplaintCategory
from models.organisation import Building, Community, Department, Grid, Household
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User
from models.tenants import Tenant, TenantStatus

__all__ = [
    "Base",
    "Building",
    "Community",
    "ComplaintCategory",
    "Department",
    "Grid",
    "Household",
    "RefreshToken",
    "ResidentProfile",
    "ResidentStatus",
    "Role",
    "RoleGrant",
    "Room",
    "Tenant",
    "TenantOwned",
    "TenantStatus",
    "User",
    "new_id",
    "utcnow",
]
