"""POST /v1/events/{id}/attendance-reports, its precedence rule, and the close of
attendance that marks everyone still unrecorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from builders import Kit, happening, move_event
from helpers import block

from server.attendance.service import close_attendance
from server.events.lifecycle import complete_finished_events
from server.settings import Settings
from tests.attendance.steps import check_in, report


async def _status(db: asyncpg.Connection, event: dict[str, Any], person: dict[str, Any]) -> Any:
    return await db.fetchrow(
        "SELECT status, source, reported_by_profile_id FROM attendance "
        "WHERE event_id = $1 AND profile_id = $2",
        uuid.UUID(event["id"]),
        uuid.UUID(person["profile_id"]),
    )


async def test_the_host_outranks_attendees_and_nobody_overturns_a_check_in_but_the_host(
    kit: Kit,
) -> None:
    host, ann, bob, cal = await kit.host(), *[await kit.person(n) for n in ("Ann", "Bob", "Cal")]
    event = await happening(kit, host, ann, bob, cal)
    assert (await check_in(kit.client, ann, event)).status_code == 200
    assert (await check_in(kit.client, bob, event)).status_code == 200

    # An attendee's no_show does not overturn a geo check-in.
    r = await report(kit.client, ann, event, bob, "no_show")
    assert (r.status_code, r.json()["code"]) == (409, "attendance_decided")
    # An attendee may vouch for someone unrecorded; it is their report.
    r = await report(kit.client, ann, event, cal, "attended")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["source"]) == ("attended", "attendee")
    row = await _status(kit.db, event, cal)
    assert row["reported_by_profile_id"] == uuid.UUID(ann["profile_id"])
    # Another attendee may replace an attendee's report...
    assert (await report(kit.client, bob, event, cal, "no_show")).json()["status"] == "no_show"
    # ...the host replaces anything, and then attendees can't.
    r = await report(kit.client, host, event, cal, "attended")
    assert (r.json()["status"], r.json()["source"]) == ("attended", "host")
    r = await report(kit.client, bob, event, cal, "no_show")
    assert r.json()["code"] == "attendance_decided"
    r = await report(kit.client, host, event, bob, "no_show")
    assert (r.json()["status"], r.json()["source"]) == ("no_show", "host")
    assert r.json()["check_in_latitude"] is None  # never someone else's position
    # A real check-in during the window is the last word on oneself.
    assert (await check_in(kit.client, bob, event)).json()["status"] == "attended"


async def test_who_may_not_report(kit: Kit) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    stranger, declined, blocked = [await kit.person(n) for n in ("Sam", "Dee", "Bo")]
    event = await happening(kit, host, ann, bob, blocked)
    await kit.invite(event, declined, "declined")
    assert (await check_in(kit.client, ann, event)).status_code == 200

    # Bob is confirmed but has not attended; strangers don't know the event.
    assert (await report(kit.client, bob, event, ann, "attended")).json()["code"] == "not_attended"
    assert (await report(kit.client, stranger, event, bob, "no_show")).status_code == 404
    # Only confirmed invitees are reported on, never oneself, never across a block.
    assert (await report(kit.client, ann, event, declined, "no_show")).status_code == 404
    assert (await report(kit.client, ann, event, stranger, "no_show")).status_code == 404
    r = await report(kit.client, ann, event, ann, "attended")
    assert (r.status_code, r.json()["code"]) == (422, "cannot_report_self")
    await block(kit.db, blocked, ann)
    assert (await report(kit.client, ann, event, blocked, "no_show")).status_code == 404
    # cancelled_late only comes from the cancel route.
    r = await report(kit.client, host, event, bob, "cancelled_late")
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


async def test_late_cancellations_are_never_replaced(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)
    # Recorded by the cancel route while the invitation was still confirmed.
    await kit.db.execute(
        "INSERT INTO attendance (event_id, profile_id, status, source) "
        "VALUES ($1, $2, 'cancelled_late', 'cancellation')",
        uuid.UUID(event["id"]),
        uuid.UUID(ann["profile_id"]),
    )
    r = await report(kit.client, host, event, ann, "attended")
    assert (r.status_code, r.json()["code"]) == (409, "attendance_decided")


async def test_reports_are_taken_from_the_start_until_the_window_closes(
    kit: Kit, settings: Settings
) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann, start_hours=1)
    r = await report(kit.client, host, event, ann, "attended")
    assert (r.status_code, r.json()["code"]) == (409, "event_not_started")
    days = settings.attendance_report_days
    await move_event(kit.db, event["id"], start_hours=-(days * 24 + 2) + 0.1)
    assert (await report(kit.client, host, event, ann, "no_show")).status_code == 200
    await move_event(kit.db, event["id"], start_hours=-(days * 24 + 2) - 0.1)
    r = await report(kit.client, host, event, ann, "attended")
    assert (r.status_code, r.json()["code"]) == (409, "report_window_closed")


async def test_closing_attendance_marks_the_rest_once(kit: Kit, settings: Settings) -> None:
    host = await kit.host()
    came, tried, away, vouched = [await kit.person(n) for n in ("Ann", "Bob", "Cal", "Dee")]
    event = await happening(kit, host, came, tried, away, vouched)
    assert (await check_in(kit.client, came, event)).status_code == 200
    assert (await check_in(kit.client, tried, event, meters=900)).json()["code"] == "too_far"
    await move_event(kit.db, event["id"], start_hours=-3)
    assert await complete_finished_events(kit.db, datetime.now(UTC)) == 1
    # During the report window nothing is marked; the host vouches for Dee.
    assert await close_attendance(kit.db, settings) == 0
    assert (await report(kit.client, host, event, vouched, "attended")).status_code == 200

    later = datetime.now(UTC) + timedelta(days=settings.attendance_report_days)
    assert await close_attendance(kit.db, settings, now=later) == 1
    assert await close_attendance(kit.db, settings, now=later) == 0  # once
    got = {
        name: (await _status(kit.db, event, person))["status"]
        for name, person in (("came", came), ("tried", tried), ("away", away), ("vouched", vouched))
    }
    assert got == {
        "came": "attended",
        "tried": "check_in_abandoned",
        "away": "no_show",
        "vouched": "attended",
    }
    # A report arriving after the close is refused, and the marks stay.
    await move_event(kit.db, event["id"], start_hours=-(settings.attendance_report_days * 24 + 3))
    r = await report(kit.client, host, event, away, "attended")
    assert (r.status_code, r.json()["code"]) == (409, "report_window_closed")
    # Everyone whose record changed has their metrics recomputed by a queued job.
    queued = await kit.db.fetchval(
        "SELECT count(*) FROM pgqueuer WHERE entrypoint = 'refresh_member_metrics'"
    )
    assert queued >= 4
    # The host's late vouching put Dee in the Memory Books of those who came.
    dee_met = await kit.db.fetchval(
        "SELECT count(*) FROM connections WHERE user_profile_id = $1",
        uuid.UUID(vouched["profile_id"]),
    )
    assert dee_met == 1
