"""Scheduled notifications: event reminders, invitations about to expire, rating prompts.

Each runs every few minutes and writes through `notify_many` with a dedupe
key, so a run that repeats (or overlaps another worker's) tells no one twice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import asyncpg

from db.queries import audience as q
from server.notifications.notify import notify, notify_many

# (stage, how long before the start): the nearer stage wins for a late booking.
REMINDER_STAGES = (("soon", dt.timedelta(hours=2)), ("day", dt.timedelta(hours=24)))
# Events completed this recently still get their rating prompt.
RATING_PROMPT_WINDOW = dt.timedelta(days=1)


def local_start(starts_at: dt.datetime, timezone: str) -> str:
    """'Sat 7:30 PM' in the event's own time zone."""
    local = starts_at.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.hour % 12 or 12}:{local:%M %p}"


async def send_event_reminders(pool: asyncpg.Pool, now: dt.datetime) -> int:
    """Confirmed attendees of events starting within a day, then within two hours."""
    sent = 0
    after = now
    for stage, ahead in REMINDER_STAGES:
        async with pool.acquire() as conn, conn.transaction():
            for event in await q.events_starting(conn, after, now + ahead):
                data = {
                    "event_id": event["event_id"],
                    "event_title": event["title"],
                    "stage": stage,
                    "starts_at_local": local_start(event["starts_at"], event["timezone"]),
                }
                sent += len(await notify_many(conn, event["user_ids"], "event_reminder", data))
        after = now + ahead
    return sent


async def send_expiring_notices(pool: asyncpg.Pool, now: dt.datetime, notice: dt.timedelta) -> int:
    """One reminder per unanswered invitation that expires within `notice`."""
    sent = 0
    async with pool.acquire() as conn, conn.transaction():
        for row in await q.invitations_expiring(conn, now, now + notice):
            data = {
                "event_id": row["event_id"],
                "invitation_id": row["invitation_id"],
                "event_title": row["event_title"],
            }
            sent += await notify(conn, row["user_id"], "invitation_expiring", data) is not None
    return sent


async def send_rating_prompts(pool: asyncpg.Pool, now: dt.datetime) -> int:
    """Ask the attendees of recently completed events to rate them."""
    sent = 0
    async with pool.acquire() as conn, conn.transaction():
        for event in await q.events_completed_since(conn, now - RATING_PROMPT_WINDOW):
            data = {"event_id": event["event_id"], "event_title": event["title"]}
            sent += len(await notify_many(conn, event["user_ids"], "rating_prompt", data))
    return sent
