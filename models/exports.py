"""Files made for an admin by a job: a list as CSV or XLSX, the monthly report as PDF.

A row is the job's queue entry (polled by server.exports), its progress, and the audit record of
the export at once: who asked, for which list with which filter, whether personal data was
whole, and how many rows the file holds. The file expires; the row stays, so the record does.

A finished file is fetched from a link signed over the tenant, the export and the expiry
(`download_signature`): the link names no one and works without a token, so it has to be
unguessable and short-lived, and no other tenant's or export's link can be made from it.
"""

from __future__ import annotations

import enum
import hmac
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index
from models.digests import keyed_digest


class ExportSubject(enum.StrEnum):
    COMPLAINTS = "complaints"
    BOOKINGS = "bookings"
    APPOINTMENTS = "appointments"
    VOLUNTEERS = "volunteers"
    PEOPLE = "people"  # household members: the population records
    ATTENDANCE = "attendance"  # a community's grid workers on one day (communityWorkdays)
    HAZARDS = "hazards"  # problems found on inspection rounds, their complaints still open (openHazards)
    REGISTRATIONS = "registrations"  # residents' registrations awaiting review (residentsAwaitingReview)
    VISITS = "visits"  # grid workers' calls at households (householdVisits)
    APPLICATIONS = "applications"  # residents' applications under a service guide (serviceApplications)
    ROUNDS = "rounds"  # grid workers' inspection rounds (inspectionRounds)
    LEADERS = "leaders"  # building leaders' terms (buildingLeaders)
    STAFF = "staff"  # department staff (staffMembers)
    ACTIVITIES = "activities"  # volunteer activities (volunteerActivities)
    TALLY = "tally"  # rounds and findings per grid over a period (inspectionTally)
    HOUSEHOLDS = "households"  # households by building and room (households)
    CARE_DUE = "care_due"  # care households due for a visit (careVisitsDue)
    COVERAGE = "coverage"  # visit coverage per grid over a period (visitCoverage)
    FULL_VIEWS = "full_views"  # whole phones and ID numbers shown (fullViewAudit)
    MONTHLY_REPORT = "monthly_report"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.PDF: "application/pdf",
}


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"  # the file is gone; the row remains as the record


class Export(TenantOwned, Base):
    __tablename__ = "exports"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "requested_by"], ["users.tenant_id", "users.id"]),
        tenant_index("requested_by", "id"),
        tenant_index("status", "id"),
    )

    requested_by: Mapped[uuid.UUID] = mapped_column()
    subject: Mapped[ExportSubject] = mapped_column(enum_column(ExportSubject))
    format: Mapped[ExportFormat] = mapped_column(enum_column(ExportFormat))
    # The list's filter as JSON (ids and times as strings), or the report's month.
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    whole_personal_data: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[ExportStatus] = mapped_column(enum_column(ExportStatus))
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_total_capped: Mapped[bool] = mapped_column(Boolean, default=False)
    failure: Mapped[str | None] = mapped_column(String(200))
    # Named so the media sweep counts the file as someone's while the export holds it.
    storage_key: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column()
    # A running job touches this with every page: one not touched for a while lost its process.
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()


def download_signature(secret: str, tenant_id: uuid.UUID, export_id: uuid.UUID, expires: int) -> str:
    return keyed_digest(secret, "wanjia-export", str(tenant_id), str(export_id), str(expires))


def download_signature_valid(
    secret: str, tenant_id: uuid.UUID, export_id: uuid.UUID, expires: str, signature: str, *, now: datetime
) -> bool:
    if not expires.isdigit() or int(expires) < now.timestamp():
        return False
    return hmac.compare_digest(download_signature(secret, tenant_id, export_id, int(expires)), signature)
