"""Expo push receipts, checked by a scheduled job about 15 minutes after sending.

A ticket only says Expo accepted a message; its receipt says whether Apple
or Google took it. `DeviceNotRegistered` there (the app was uninstalled)
deactivates the token, so nothing more is pushed to it.
"""

from __future__ import annotations

import datetime as dt

import asyncpg
import structlog

from db.queries import push as q
from workers.push.expo import ExpoClient, PushRejected, PushUnavailable

logger = structlog.get_logger(__name__)

RECEIPT_DELAY = dt.timedelta(minutes=15)
# Expo takes up to 1000 ids per receipts request.
RECEIPTS_BATCH = 1000
# Expo keeps receipts for a day; tickets are kept a while longer for support.
TICKETS_KEPT = dt.timedelta(days=7)


async def check_receipts(pool: asyncpg.Pool, expo: ExpoClient, now: dt.datetime) -> int:
    """Check every due ticket; returns how many receipts were recorded."""
    checked = 0
    while True:
        async with pool.acquire() as conn:
            tickets = await q.tickets_to_check(conn, now - RECEIPT_DELAY, RECEIPTS_BATCH)
        if not tickets:
            break
        try:
            receipts = await expo.receipts([t["ticket_id"] for t in tickets])
        except (PushUnavailable, PushRejected) as exc:
            logger.warning("push receipts: Expo unavailable, next run retries", error=str(exc))
            break
        # A ticket without a receipt yet stays for the next run.
        answered = [(t, receipts[t["ticket_id"]]) for t in tickets if t["ticket_id"] in receipts]
        gone = sorted({t["token"] for t, r in answered if r.error == "DeviceNotRegistered"})
        for _, r in answered:
            if not r.ok and r.error != "DeviceNotRegistered":
                logger.warning("push receipt error", error=r.error, detail=r.message)
        async with pool.acquire() as conn, conn.transaction():
            await q.record_receipts(
                conn,
                [t["id"] for t, _ in answered],
                ["ok" if r.ok else "error" for _, r in answered],
                [r.error for _, r in answered],
            )
            if gone:
                await q.deactivate_tokens(conn, gone)
        checked += len(answered)
        if len(tickets) < RECEIPTS_BATCH or not answered:
            break
    async with pool.acquire() as conn:
        await q.purge_tickets(conn, now - TICKETS_KEPT)
    return checked
