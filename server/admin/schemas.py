"""Request and response bodies of /v1/admin."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.accounts.schemas import AvailabilityPreferences, Role
from server.safety.schemas import ReportStatus
from server.support.schemas import TicketStatus

StaffRole = Literal["admin", "moderator", "support"]
STAFF_ROLES: tuple[StaffRole, ...] = ("admin", "moderator", "support")

# The CHECK list of 0001_schema.sql.
UserStatus = Literal["active", "suspended", "verification_pending", "banned"]

Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ReportPerson(msgspec.Struct):
    """A person in a report; profile_id/first_name are null without a social profile."""

    user_id: uuid.UUID
    profile_id: uuid.UUID | None
    first_name: str | None


class ReportedPerson(ReportPerson):
    status: UserStatus


class AdminReport(msgspec.Struct):
    """reporter/reported are null once that account has been deleted."""

    id: uuid.UUID
    category: str
    comments: str | None
    status: ReportStatus
    event_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by_user_id: uuid.UUID | None
    reporter: ReportPerson | None
    reported: ReportedPerson | None


class ReportPatch(msgspec.Struct, forbid_unknown_fields=True):
    status: ReportStatus
    note: Note | None = None


class AdminTicket(msgspec.Struct):
    """submitter_user_id is null once the submitter's account has been deleted."""

    id: uuid.UUID
    ticket_number: int
    submitter_user_id: uuid.UUID | None
    reply_to_email: str | None
    category: str
    body: str
    status: TicketStatus
    associated_event_id: uuid.UUID | None
    associated_payment_id: uuid.UUID | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TicketPatch(msgspec.Struct, forbid_unknown_fields=True):
    status: TicketStatus


class ReportBrief(msgspec.Struct):
    id: uuid.UUID
    category: str
    status: ReportStatus
    event_id: uuid.UUID | None
    created_at: datetime


class AdminSafety(msgspec.Struct):
    """What a moderator weighs: reports about the person (the 10 latest listed),
    reports they made, how many people blocked them, and the 20 latest staff
    actions on the account."""

    reports_received: int
    open_reports_received: int
    reports_made: int
    blocked_by_count: int
    recent_reports_received: list[ReportBrief]
    moderation_actions: list[AdminAction]


class AdminPrivate(msgspec.Struct):
    """The rest of the users row (never payment_customer_id): admins only."""

    birth_date: date | None
    active_role: Role
    min_lead_time_days: int
    availability_preferences: AvailabilityPreferences
    distance_preference: int
    price_sensitivity: int | None
    home_latitude: float | None
    home_longitude: float | None


class AdminUser(msgspec.Struct):
    """An account as staff see it; how much depends on the caller's role
    (`shown_to`): support gets contact and account status, a moderator also
    `safety`, an admin also `private`. Sections a role may not see are null."""

    id: uuid.UUID
    user_number: int
    phone_number: str
    email: str | None
    last_name: str | None
    status: str
    is_verified: bool
    staff_role: StaffRole | None
    created_at: datetime
    updated_at: datetime
    shown_to: StaffRole
    safety: AdminSafety | None
    private: AdminPrivate | None


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out stay as they are; at least one is required."""

    status: UserStatus | UnsetType = UNSET
    is_verified: bool | UnsetType = UNSET


class AdminAction(msgspec.Struct):
    """staff_user_id is null for command-line actions and deleted staff accounts."""

    id: uuid.UUID
    staff_user_id: uuid.UUID | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    created_at: datetime
