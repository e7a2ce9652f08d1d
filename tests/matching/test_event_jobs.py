"""The scheduled lifecycle jobs: finished events complete, and events still short
of min_attendees at the cutoff are cancelled with their open invitations."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
from matching.population import event, invite, person

from server.events.lifecycle import cancel_event
from workers.events import cancel_underfilled_events, complete_events

CUTOFF = dt.timedelta(hours=24)


async def _status(conn: asyncpg.Connection, event_id: object) -> tuple[str, str | None]:
    row = await conn.fetchrow("SELECT status, cancel_reason FROM events WHERE id = $1", event_id)
    assert row is not None
    return row["status"], row["cancel_reason"]


async def test_events_complete_once_their_last_stop_ends(
    db_conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    ev = await event(db_conn, starts_in=dt.timedelta(days=2), hours=3, local_hour=None)
    unanswered = await invite(db_conn, ev, await person(db_conn), "sent")
    confirmed = await invite(db_conn, ev, await person(db_conn), "confirmed")
    assert await complete_events(pool, now=ev.ends_at - dt.timedelta(seconds=1)) == 0
    assert await _status(db_conn, ev.id) == ("published", None)
    assert await complete_events(pool, now=ev.ends_at) == 1
    assert await _status(db_conn, ev.id) == ("completed", None)
    statuses = dict(await db_conn.fetch("SELECT id, status FROM invitations"))
    assert statuses == {unanswered: "expired", confirmed: "confirmed"}
    assert await complete_events(pool, now=ev.ends_at) == 0


async def test_underfilled_events_are_cancelled_at_the_cutoff(
    db_conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    short = await event(db_conn, min_attendees=3, max_attendees=6, local_hour=None)
    # A held seat and an unanswered invitation don't count toward the minimum.
    await invite(db_conn, short, await person(db_conn), "pending_payment")
    await invite(db_conn, short, await person(db_conn), "sent")
    for _ in range(2):
        await invite(db_conn, short, await person(db_conn), "confirmed")
    enough = await event(db_conn, min_attendees=2, max_attendees=6, local_hour=None)
    for _ in range(2):
        await invite(db_conn, enough, await person(db_conn), "confirmed")

    just_before = short.starts_at - CUTOFF - dt.timedelta(seconds=1)
    assert await cancel_underfilled_events(pool, CUTOFF, now=just_before) == 0
    at_cutoff = short.starts_at - CUTOFF
    assert await cancel_underfilled_events(pool, CUTOFF, now=at_cutoff) == 1
    assert await _status(db_conn, short.id) == ("cancelled", "too_few_attendees")
    assert await _status(db_conn, enough.id) == ("published", None)
    statuses = await db_conn.fetch(
        "SELECT DISTINCT status FROM invitations WHERE event_id = $1", short.id
    )
    assert [s["status"] for s in statuses] == ["cancelled"]
    # Running again changes nothing.
    assert await cancel_underfilled_events(pool, CUTOFF, now=at_cutoff) == 0


async def test_a_host_cancel_racing_the_job_happens_once(
    db_conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    ev = await event(db_conn, min_attendees=3, local_hour=None)
    now = ev.starts_at - CUTOFF

    async def host_cancels() -> bool:
        async with pool.acquire() as conn:
            return await cancel_event(conn, ev.id, "host")

    job, by_host = await asyncio.gather(
        cancel_underfilled_events(pool, CUTOFF, now=now), host_cancels()
    )
    assert job + int(by_host) == 1
    status, reason = await _status(db_conn, ev.id)
    assert status == "cancelled"
    assert reason == ("host" if by_host else "too_few_attendees")
