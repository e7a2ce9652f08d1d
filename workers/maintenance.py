"""Housekeeping: drop sign-in records nobody can use any more."""

from __future__ import annotations

import asyncpg
import structlog

from db.queries import auth as auth_q

logger = structlog.get_logger(__name__)

# Kept this long past expiry for support questions ("why was I signed out?").
KEEP_DAYS = 7


async def purge_auth_records(pool: asyncpg.Pool) -> tuple[int, int, int]:
    async with pool.acquire() as conn, conn.transaction():
        codes, tokens, sessions = await auth_q.purge_expired(conn, KEEP_DAYS)
    logger.info("purged auth records", codes=codes, refresh_tokens=tokens, sessions=sessions)
    return codes, tokens, sessions
