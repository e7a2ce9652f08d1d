"""The job queue's own table, where the application needs more than pgqueuer's API."""

from __future__ import annotations

import asyncpg


async def hold_queued_job(conn: asyncpg.Connection, entrypoint: str, dedupe_key: str) -> bool:
    """Lock the still-queued job with this dedupe key, if there is one.

    The job queue claims jobs with `FOR UPDATE SKIP LOCKED`, so a job locked
    here cannot start before the caller's transaction ends: it will run after
    the change that the caller is making is committed, and therefore see it.
    """
    found = await conn.fetchval(
        """
        SELECT id FROM pgqueuer
        WHERE entrypoint = $1 AND dedupe_key = $2 AND status = 'queued'
        FOR UPDATE
        """,
        entrypoint,
        dedupe_key,
    )
    return found is not None
