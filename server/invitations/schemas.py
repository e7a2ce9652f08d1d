"""Request and response bodies of the invitee's routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from db.queries.invitations import DeclineReason, InvitationStatus
from server.hosts.schemas import HostSummary
from server.payments.schemas import PaymentSheet


class EventSummary(msgspec.Struct, frozen=True):
    """The event as an invitee sees it in lists (no exact place: GET /v1/events/{id})."""

    id: uuid.UUID
    title: str
    status: str
    timezone: str
    starts_at: datetime | None
    ends_at: datetime | None
    confirmation_fee: int
    estimated_event_cost: dict[str, Any] | None
    price_level: int | None
    host_id: uuid.UUID
    host: HostSummary


class Invitation(msgspec.Struct, frozen=True):
    id: uuid.UUID
    event_id: uuid.UUID
    profile_id: uuid.UUID
    status: InvitationStatus
    decline_reason: DeclineReason | None
    match_reason: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    responded_at: datetime | None
    # While `pending_payment`: the seat is held until then.
    hold_expires_at: datetime | None
    event: EventSummary


class AcceptResult(msgspec.Struct, frozen=True):
    invitation: Invitation
    # Null when nothing is to be paid (free event, or already confirmed).
    payment: PaymentSheet | None


class DeclineIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    decline_reason: DeclineReason | None = None


class MyEvent(msgspec.Struct, frozen=True):
    invitation_id: uuid.UUID
    event: EventSummary
