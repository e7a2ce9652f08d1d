"""Bodies and answers of the check-in and attendance-report routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from db.queries.attendance import AttendanceSource, AttendanceStatus


class CheckInIn(msgspec.Struct, forbid_unknown_fields=True):
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    # The device's own estimate, stored with the check-in; not used to widen the radius.
    accuracy_meters: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None


class AttendanceReportIn(msgspec.Struct, forbid_unknown_fields=True):
    profile_id: uuid.UUID
    # `cancelled_late` comes only from POST /v1/invitations/{id}/cancel.
    status: Literal["attended", "no_show", "check_in_abandoned"]


class Attendance(msgspec.Struct, frozen=True):
    """One person's attendance of one event. The check-in fields are filled only
    for the person themself (a reporter never learns where someone checked in)."""

    event_id: uuid.UUID
    profile_id: uuid.UUID
    status: AttendanceStatus
    source: AttendanceSource
    check_in_latitude: float | None
    check_in_longitude: float | None
    check_in_accuracy_meters: float | None
    check_in_stop_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
