"""Scheduled event lifecycle: finished events complete, underfilled ones cancel."""

from __future__ import annotations

import datetime as dt

import asyncpg
import structlog

from db.queries import events as events_q
from server.events.lifecycle import cancel_event, complete_finished_events

logger = structlog.get_logger(__name__)


async def complete_events(pool: asyncpg.Pool, now: dt.datetime | None = None) -> int:
    """Published events whose last stop has ended become `completed`."""
    now = now or dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        done = await complete_finished_events(conn, now)
    if done:
        logger.info("events completed", count=done)
    return done


async def cancel_underfilled_events(
    pool: asyncpg.Pool, cutoff: dt.timedelta, now: dt.datetime | None = None
) -> int:
    """Cancel published events still short of `min_attendees` when their start is
    `cutoff` away (or nearer), each in its own transaction."""
    now = now or dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        event_ids = await events_q.underfilled_events(conn, now + cutoff)
        cancelled = 0
        for event_id in event_ids:
            # False when the host cancelled, or it completed, in the meantime.
            if await cancel_event(conn, event_id, "too_few_attendees"):
                cancelled += 1
    if cancelled:
        logger.info("underfilled events cancelled", count=cancelled)
    return cancelled
