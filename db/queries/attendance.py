"""Attendance: check-ins, reports, the close of attendance, and what the
after-event routes (check-in, ratings, kudos, the gallery) know of a caller."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
import msgspec

from db.queries.events import EventStatus, ViewerRole, viewer_role_sql
from db.rows import many, one

# The attendance.status and attendance.source CHECKs.
AttendanceStatus = Literal["attended", "cancelled_late", "no_show", "check_in_abandoned"]
AttendanceSource = Literal["check_in", "host", "attendee", "system", "cancellation"]

ATTENDANCE_COLUMNS = (
    "a.event_id, a.profile_id, a.status, a.source, a.check_in_latitude, a.check_in_longitude, "
    "a.check_in_accuracy_meters, a.check_in_stop_id, a.reported_by_profile_id, "
    "a.created_at, a.updated_at"
)


class AttendanceRow(msgspec.Struct, frozen=True):
    event_id: uuid.UUID
    profile_id: uuid.UUID
    status: AttendanceStatus
    source: AttendanceSource
    check_in_latitude: float | None
    check_in_longitude: float | None
    check_in_accuracy_meters: float | None
    check_in_stop_id: uuid.UUID | None
    reported_by_profile_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class EventFacts(msgspec.Struct, frozen=True):
    """An event as one caller stands to it after it began."""

    id: uuid.UUID
    title: str
    status: EventStatus
    starts_at: datetime | None
    ends_at: datetime | None
    host_id: uuid.UUID
    host_user_id: uuid.UUID
    attendance_closed_at: datetime | None
    # None: the caller may not know the event exists.
    viewer_role: ViewerRole | None
    profile_id: uuid.UUID | None
    attendance_status: AttendanceStatus | None


async def event_facts(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID
) -> EventFacts | None:
    row = await conn.fetchrow(
        f"""
        SELECT e.id, e.title, e.status, e.starts_at, e.ends_at, e.host_id,
               hp.user_id AS host_user_id, e.attendance_closed_at,
               {viewer_role_sql("$1")} AS viewer_role,
               sp.id AS profile_id, a.status AS attendance_status
        FROM events e
        JOIN host_profiles hp ON hp.id = e.host_id
        LEFT JOIN social_profiles sp ON sp.user_id = $1
        LEFT JOIN attendance a ON a.event_id = e.id AND a.profile_id = sp.id
        WHERE e.id = $2
        """,
        user_id,
        event_id,
    )
    return one(EventFacts, row)


async def attended(conn: asyncpg.Connection, event_id: uuid.UUID, profile_id: uuid.UUID) -> bool:
    """The profile attended the event (status 'attended', whoever recorded it)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM attendance WHERE event_id = $1 AND profile_id = $2 "
        "AND status = 'attended')",
        event_id,
        profile_id,
    )
    return found


async def lock_confirmed_invitee(
    conn: asyncpg.Connection, event_id: uuid.UUID, profile_id: uuid.UUID
) -> uuid.UUID | None:
    """The invitee's user id when the profile holds a confirmed invitation to the
    event, locking that invitation: a person's check-in and the reports about them
    take their turns. None otherwise."""
    user_id: uuid.UUID | None = await conn.fetchval(
        """
        SELECT sp.user_id FROM invitations i JOIN social_profiles sp ON sp.id = i.profile_id
        WHERE i.event_id = $1 AND i.profile_id = $2 AND i.status = 'confirmed'
        FOR UPDATE OF i
        """,
        event_id,
        profile_id,
    )
    return user_id


async def get(
    conn: asyncpg.Connection, event_id: uuid.UUID, profile_id: uuid.UUID
) -> AttendanceRow | None:
    row = await conn.fetchrow(
        f"SELECT {ATTENDANCE_COLUMNS} FROM attendance a "
        "WHERE a.event_id = $1 AND a.profile_id = $2",
        event_id,
        profile_id,
    )
    return one(AttendanceRow, row)


class StopWindow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    start_time: datetime
    end_time: datetime
    latitude: float
    longitude: float


async def stops(conn: asyncpg.Connection, event_id: uuid.UUID) -> list[StopWindow]:
    """The event's timed stops with their places, in order."""
    rows = await conn.fetch(
        """
        SELECT s.id, s.start_time, s.end_time, l.latitude, l.longitude
        FROM event_itinerary_stops s JOIN locations l ON l.id = s.location_id
        WHERE s.event_id = $1 AND s.start_time IS NOT NULL AND s.end_time IS NOT NULL
        ORDER BY s."order"
        """,
        event_id,
    )
    return many(StopWindow, rows)


async def record_check_in(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    profile_id: uuid.UUID,
    stop_id: uuid.UUID,
    latitude: float,
    longitude: float,
    accuracy_meters: float | None,
) -> None:
    """`attended` from a geo check-in, over any report; a row already 'attended'
    is left as it is."""
    await conn.execute(
        """
        INSERT INTO attendance (event_id, profile_id, status, source, check_in_latitude,
                                check_in_longitude, check_in_accuracy_meters, check_in_stop_id)
        VALUES ($1, $2, 'attended', 'check_in', $4, $5, $6, $3)
        ON CONFLICT (event_id, profile_id) DO UPDATE
            SET status = 'attended', source = 'check_in',
                check_in_latitude = EXCLUDED.check_in_latitude,
                check_in_longitude = EXCLUDED.check_in_longitude,
                check_in_accuracy_meters = EXCLUDED.check_in_accuracy_meters,
                check_in_stop_id = EXCLUDED.check_in_stop_id,
                reported_by_profile_id = NULL, updated_at = now()
            WHERE attendance.status <> 'attended'
        """,
        event_id,
        profile_id,
        stop_id,
        latitude,
        longitude,
        accuracy_meters,
    )


async def record_too_far(
    conn: asyncpg.Connection, event_id: uuid.UUID, profile_id: uuid.UUID, meters: float
) -> None:
    await conn.execute(
        """
        INSERT INTO check_in_attempts (event_id, profile_id, nearest_meters)
        VALUES ($1, $2, $3)
        ON CONFLICT (event_id, profile_id) DO UPDATE
            SET attempts = check_in_attempts.attempts + 1,
                nearest_meters = least(check_in_attempts.nearest_meters, EXCLUDED.nearest_meters),
                last_attempt_at = now()
        """,
        event_id,
        profile_id,
        meters,
    )


async def record(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    profile_id: uuid.UUID,
    status: AttendanceStatus,
    source: AttendanceSource,
    reported_by: uuid.UUID | None,
) -> None:
    """Set the status as `source` decided it (the caller applied the precedence
    rule); a geo check-in's coordinates go when a report replaces it."""
    await conn.execute(
        """
        INSERT INTO attendance (event_id, profile_id, status, source, reported_by_profile_id)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (event_id, profile_id) DO UPDATE
            SET status = EXCLUDED.status, source = EXCLUDED.source,
                reported_by_profile_id = EXCLUDED.reported_by_profile_id,
                check_in_latitude = NULL, check_in_longitude = NULL,
                check_in_accuracy_meters = NULL, check_in_stop_id = NULL,
                updated_at = now()
        """,
        event_id,
        profile_id,
        status,
        source,
        reported_by,
    )


async def lock_events_to_close(
    conn: asyncpg.Connection, now: datetime, report_window: timedelta, limit: int
) -> list[uuid.UUID]:
    """Completed events whose report window has passed and whose attendance is
    still open, locked; events another worker is closing are skipped."""
    rows = await conn.fetch(
        """
        SELECT id FROM events
        WHERE status = 'completed' AND attendance_closed_at IS NULL
          AND ends_at <= $1::timestamptz - $2::interval
        ORDER BY ends_at LIMIT $3
        FOR UPDATE SKIP LOCKED
        """,
        now,
        report_window,
        limit,
    )
    return [row["id"] for row in rows]


async def close(conn: asyncpg.Connection, event_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """Confirmed invitees without a record become 'check_in_abandoned' (they tried,
    too far) or 'no_show', and the event's attendance is closed; the users whose
    attendance this wrote."""
    rows = await conn.fetch(
        """
        WITH marked AS (
            INSERT INTO attendance (event_id, profile_id, status, source)
            SELECT i.event_id, i.profile_id,
                   CASE WHEN t.profile_id IS NULL THEN 'no_show' ELSE 'check_in_abandoned' END,
                   'system'
            FROM invitations i
            LEFT JOIN check_in_attempts t ON t.event_id = i.event_id AND t.profile_id = i.profile_id
            WHERE i.event_id = $1 AND i.status = 'confirmed'
            ON CONFLICT (event_id, profile_id) DO NOTHING
            RETURNING profile_id
        ), closed AS (
            UPDATE events SET attendance_closed_at = $2 WHERE id = $1
        )
        SELECT sp.user_id FROM marked JOIN social_profiles sp ON sp.id = marked.profile_id
        """,
        event_id,
        now,
    )
    return [row["user_id"] for row in rows]


async def visible_invitee(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID, profile_id: uuid.UUID
) -> bool:
    """The profile holds a confirmed invitation to the event and the viewer may see
    its user (no block either way, an active account)."""
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM invitations i JOIN social_profiles sp ON sp.id = i.profile_id
            WHERE i.event_id = $2 AND i.profile_id = $3 AND i.status = 'confirmed'
              AND user_visible_to($1, sp.user_id))
        """,
        viewer_id,
        event_id,
        profile_id,
    )
    return found


async def visible_attendee(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID, profile_id: uuid.UUID
) -> uuid.UUID | None:
    """The user id of a profile that attended the event, when the viewer may see
    them (no block either way, an active account); None otherwise."""
    user_id: uuid.UUID | None = await conn.fetchval(
        """
        SELECT sp.user_id FROM attendance a JOIN social_profiles sp ON sp.id = a.profile_id
        WHERE a.event_id = $2 AND a.profile_id = $3 AND a.status = 'attended'
          AND user_visible_to($1, sp.user_id)
        """,
        viewer_id,
        event_id,
        profile_id,
    )
    return user_id
