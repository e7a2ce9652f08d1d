"""Attendance rules: geo check-in, reports by the host and attendees, and the
close of attendance. docs/API_NOTES.md "Check-in and attendance" states them for
the app; `after_event` is the one check the other after-event routes (ratings,
kudos, the gallery) start from.

Whatever changes someone's attendance queues their metrics recompute in the
same transaction, and someone who becomes `attended` after the event completed
gets their Memory Book entries then.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import asyncpg

from db.queries import attendance as q
from db.queries import connections as connections_q
from db.queries.attendance import AttendanceRow, AttendanceSource, EventFacts, StopWindow
from jobs.contract import enqueue_member_metrics
from server.attendance.schemas import Attendance, AttendanceReportIn, CheckInIn
from server.errors import ApiError
from server.settings import Settings

EARTH_RADIUS_METERS = 6_371_008.8
# Who may replace a row written by whom: a report never touches a late
# cancellation; the host (or a collaborator) replaces anything else; an attendee
# replaces only an empty row, another attendee's report or the system's mark.
_ATTENDEE_MAY_REPLACE: frozenset[AttendanceSource] = frozenset({"attendee", "system"})


def distance_meters(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(h)))


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such event")


async def after_event(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID
) -> EventFacts:
    """The event as the caller stands to it; 404 when they may not know it exists
    (a stranger, or a block either way with the host)."""
    facts = await q.event_facts(conn, user_id, event_id)
    if facts is None or facts.viewer_role is None:
        raise _not_found()
    return facts


def require_attended(facts: EventFacts) -> uuid.UUID:
    """The caller's profile id when they attended; 403 `not_attended` otherwise."""
    if facts.profile_id is None or facts.attendance_status != "attended":
        raise ApiError(403, "not_attended", "Only people who attended the event can do this")
    return facts.profile_id


def current_stop(
    stops: list[StopWindow], now: dt.datetime, opens: dt.timedelta
) -> StopWindow | None:
    """The stop whose check-in window [start - opens, end] holds `now`; where two
    windows overlap, the stop that started most recently (else the next to start)."""
    holding = [s for s in stops if s.start_time - opens <= now <= s.end_time]
    started = [s for s in holding if s.start_time <= now]
    if started:
        return max(started, key=lambda s: s.start_time)
    return min(holding, key=lambda s: s.start_time, default=None)


def _view(row: AttendanceRow, viewer_profile_id: uuid.UUID | None) -> Attendance:
    own = row.profile_id == viewer_profile_id
    return Attendance(
        event_id=row.event_id,
        profile_id=row.profile_id,
        status=row.status,
        source=row.source,
        check_in_latitude=row.check_in_latitude if own else None,
        check_in_longitude=row.check_in_longitude if own else None,
        check_in_accuracy_meters=row.check_in_accuracy_meters if own else None,
        check_in_stop_id=row.check_in_stop_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _changed(
    conn: asyncpg.Connection, facts: EventFacts, user_id: uuid.UUID, attended: bool
) -> None:
    await enqueue_member_metrics(conn, [user_id])
    if attended and facts.status == "completed":
        await connections_q.record_meetings(conn, facts.id)


async def _read(
    conn: asyncpg.Connection, event_id: uuid.UUID, profile_id: uuid.UUID
) -> AttendanceRow:
    row = await q.get(conn, event_id, profile_id)
    assert row is not None  # written in this transaction, or found there
    return row


async def check_in(
    conn: asyncpg.Connection,
    settings: Settings,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    data: CheckInIn,
    now: dt.datetime | None = None,
) -> Attendance:
    """A confirmed invitee within the radius of the current stop becomes
    `attended`. A repeat answers the first check-in and changes nothing. A refusal
    for distance is remembered (check_in_attempts) before the 422."""
    now = now or dt.datetime.now(dt.UTC)
    too_far: tuple[float, float] | None = None
    async with conn.transaction():
        facts = await after_event(conn, user_id, event_id)
        profile_id = facts.profile_id
        if facts.viewer_role != "attendee" or profile_id is None:
            raise ApiError(403, "not_confirmed", "Only confirmed invitees check in")
        if await q.lock_confirmed_invitee(conn, event_id, profile_id) is None:
            raise ApiError(403, "not_confirmed", "Only confirmed invitees check in")
        existing = await q.get(conn, event_id, profile_id)
        if existing is not None and existing.status == "attended":
            return _view(existing, profile_id)
        opens = dt.timedelta(minutes=settings.check_in_opens_minutes)
        stop = None
        if facts.status == "published":
            stop = current_stop(await q.stops(conn, event_id), now, opens)
        if stop is None:
            raise ApiError(
                409,
                "outside_window",
                "Check-in is open from shortly before each stop until it ends",
            )
        meters = distance_meters(data.latitude, data.longitude, stop.latitude, stop.longitude)
        if meters > settings.check_in_radius_meters:
            await q.record_too_far(conn, event_id, profile_id, meters)
            too_far = (meters, settings.check_in_radius_meters)
        else:
            await q.record_check_in(
                conn,
                event_id,
                profile_id,
                stop.id,
                data.latitude,
                data.longitude,
                data.accuracy_meters,
            )
            await _changed(conn, facts, user_id, attended=True)
            return _view(await _read(conn, event_id, profile_id), profile_id)
    meters, radius = too_far
    raise ApiError(
        422,
        "too_far",
        f"You are {round(meters):,} m from the stop; check in within {round(radius):,} m of it",
    )


async def report(
    conn: asyncpg.Connection,
    settings: Settings,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    data: AttendanceReportIn,
    now: dt.datetime | None = None,
) -> Attendance:
    """The host, a collaborator or an attendee says whether another confirmed
    invitee came, from the event's start until ATTENDANCE_REPORT_DAYS after its
    end, under the precedence rule above."""
    now = now or dt.datetime.now(dt.UTC)
    async with conn.transaction():
        facts = await after_event(conn, user_id, event_id)
        source: AttendanceSource
        if facts.viewer_role in ("host", "collaborator"):
            source = "host"
        elif facts.attendance_status == "attended":
            source = "attendee"
        else:
            raise ApiError(
                403, "not_attended", "Only the host and people who attended report attendance"
            )
        if (
            facts.status not in ("published", "completed")
            or facts.starts_at is None
            or facts.ends_at is None
        ):
            raise ApiError(409, "report_window_closed", "This event takes no attendance reports")
        if now < facts.starts_at:
            raise ApiError(
                409, "event_not_started", "Attendance is reported once the event has begun"
            )
        closes = facts.ends_at + dt.timedelta(days=settings.attendance_report_days)
        if now > closes or facts.attendance_closed_at is not None:
            raise ApiError(
                409, "report_window_closed", "Attendance reports for this event are closed"
            )
        if data.profile_id == facts.profile_id:
            raise ApiError(422, "cannot_report_self", "Report on other people; check in yourself")
        # Someone blocked with the reporter is as unknown to them as a stranger.
        if not await q.visible_invitee(conn, user_id, event_id, data.profile_id):
            raise ApiError(404, "not_found", "No such confirmed invitee of this event")
        subject_user_id = await q.lock_confirmed_invitee(conn, event_id, data.profile_id)
        if subject_user_id is None:
            raise ApiError(404, "not_found", "No such confirmed invitee of this event")
        existing = await q.get(conn, event_id, data.profile_id)
        if existing is not None and (
            existing.source == "cancellation"
            or (source == "attendee" and existing.source not in _ATTENDEE_MAY_REPLACE)
        ):
            raise ApiError(
                409,
                "attendance_decided",
                f"Already recorded as {existing.status} by a check-in, the host or a cancellation",
            )
        if existing is None or (existing.status, existing.source) != (data.status, source):
            await q.record(conn, event_id, data.profile_id, data.status, source, facts.profile_id)
            await _changed(conn, facts, subject_user_id, attended=data.status == "attended")
        return _view(await _read(conn, event_id, data.profile_id), facts.profile_id)


async def close_attendance(
    conn: asyncpg.Connection, settings: Settings, now: dt.datetime | None = None, batch: int = 100
) -> int:
    """Events whose report window has passed: everyone still unrecorded becomes
    `check_in_abandoned` (they tried, too far) or `no_show`; each event in its own
    transaction, once. Returns how many events closed."""
    now = now or dt.datetime.now(dt.UTC)
    window = dt.timedelta(days=settings.attendance_report_days)
    closed = 0
    while True:
        async with conn.transaction():
            due = await q.lock_events_to_close(conn, now, window, 1)
            if not due:
                return closed
            marked = await q.close(conn, due[0], now)
            await enqueue_member_metrics(conn, marked)
        closed += 1
        if closed >= batch:
            return closed
