"""Housekeeping: drop sign-in records nobody can use any more, and keep the
candidate table in geographic order."""

from __future__ import annotations

import time

import asyncpg
import structlog

from db.queries import auth as auth_q
from db.queries import matching as matching_q

logger = structlog.get_logger(__name__)

# Kept this long past expiry for support questions ("why was I signed out?").
KEEP_DAYS = 7

# New people are appended and moved rows land where there is room, so the
# physical order decays; below this correlation the table is rewritten.
RECLUSTER_BELOW = 0.9
# CLUSTER waits this long for its lock, then gives up until the next run:
# while it waits, every search and refresh queues behind it.
RECLUSTER_LOCK_TIMEOUT_MS = 5000


async def purge_auth_records(pool: asyncpg.Pool) -> tuple[int, int, int]:
    async with pool.acquire() as conn, conn.transaction():
        codes, tokens, sessions = await auth_q.purge_expired(conn, KEEP_DAYS)
    logger.info("purged auth records", codes=codes, refresh_tokens=tokens, sessions=sessions)
    return codes, tokens, sessions


async def keep_match_candidates_in_order(
    pool: asyncpg.Pool, lock_timeout_ms: int = RECLUSTER_LOCK_TIMEOUT_MS
) -> bool:
    """CLUSTER match_candidates when its order has decayed; whether it did.
    Run at a quiet hour: the rewrite blocks searches and profile changes
    while it runs (~30 s at a million people, bench/README.md)."""
    async with pool.acquire() as conn:
        order = await matching_q.match_candidates_order(conn)
        if order is None or order >= RECLUSTER_BELOW:
            logger.info("match_candidates in order", correlation=order)
            return False
        started = time.monotonic()
        try:
            await matching_q.recluster_match_candidates(conn, lock_timeout_ms)
        except asyncpg.LockNotAvailableError:
            logger.warning("match_candidates busy: not reclustered", correlation=order)
            return False
    logger.info(
        "match_candidates reclustered",
        correlation=order,
        seconds=round(time.monotonic() - started, 1),
    )
    return True
