"""Queueing a job from inside the transaction that makes it necessary."""

from __future__ import annotations

import asyncpg
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

from db.queries import jobs as jobs_q


async def enqueue_coalesced(
    conn: asyncpg.Connection, entrypoint: str, key: str, payload: bytes
) -> None:
    """Queue one job for `key`; call inside the transaction that changes its inputs,
    so the job exists exactly when the change does.

    A burst of changes queues one job: while a job for the key is still queued,
    it is locked until this transaction ends (so it runs after, and sees, this
    change) and nothing new is queued. When the key's job is already running
    (it may have read the old state), another job is queued behind it. Jobs
    therefore must recompute from the database, never from their payload alone.
    """
    dedupe_key = f"{entrypoint}:{key}"
    if await jobs_q.hold_queued_job(conn, entrypoint, dedupe_key):
        return
    queries = Queries(AsyncpgDriver(conn))
    queued = await queries.enqueue(
        entrypoint, payload, 0, dedupe_key=dedupe_key, on_conflict="skip"
    )
    if queued[0] is None:
        # The key is taken by a job that is running, or that another transaction
        # queued after the check above and that may start before this one commits.
        await queries.enqueue(entrypoint, payload, 0)
