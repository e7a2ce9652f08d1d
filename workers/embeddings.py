"""Interest embeddings: the jobs that keep users' interest vectors up to date.

This module is the hook the matching issue fills in. The web side already
enqueues `user_interests_changed` (in the transaction that changes a user's
interests); `workers/queue.py` registers the handler below. Computing the
catalog's own vectors (`interests.vector`) belongs here too when the matching
issue adds it.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
import structlog
from pgqueuer.db import AsyncpgDriver
from pgqueuer.models import Job
from pgqueuer.queries import Queries

from db.queries import interests as interests_q

logger = structlog.get_logger(__name__)

USER_INTERESTS_CHANGED = "user_interests_changed"


class UserInterestsChanged(msgspec.Struct, frozen=True):
    """Payload of `user_interests_changed`: whose interests changed."""

    user_id: uuid.UUID


def _dedupe_key(user_id: uuid.UUID) -> str:
    return f"{USER_INTERESTS_CHANGED}:{user_id}"


async def enqueue_user_interests_changed(conn: asyncpg.Connection, user_id: uuid.UUID) -> None:
    """Queue one recompute of the user's interest vector; call inside the transaction
    that changes their interests, so the job exists exactly when the change does.

    A burst of edits queues one job: while a job for the user is still queued, it
    is locked until this transaction ends (so it runs after, and sees, this
    change) and nothing new is queued. When the user's job is already running
    (it may have read the old interests), another job is queued behind it.
    """
    key = _dedupe_key(user_id)
    if await interests_q.hold_queued_job(conn, USER_INTERESTS_CHANGED, key):
        return
    queries = Queries(AsyncpgDriver(conn))
    payload = msgspec.json.encode(UserInterestsChanged(user_id=user_id))
    queued = await queries.enqueue(
        USER_INTERESTS_CHANGED, payload, 0, dedupe_key=key, on_conflict="skip"
    )
    if queued[0] is None:
        # The key is taken by a job that is running, or that another transaction
        # queued after the check above and that may start before this one commits.
        await queries.enqueue(USER_INTERESTS_CHANGED, payload, 0)


async def user_interests_changed(job: Job) -> None:
    """Recompute the user's positive interest vector (`user_interest_vectors`,
    `vector_type = 'positive_v1'`) from their current `profile_interests`.

    THE MATCHING ISSUE FILLS THIS BODY. Until then the job only decodes its
    payload and logs, so queued jobs complete instead of failing. The body must
    read the interests when it runs (never trust the payload for them) and
    handle a user or profile deleted since the job was queued.
    """
    if job.payload is None:
        logger.warning("user_interests_changed without payload", job_id=job.id)
        return
    change = msgspec.json.decode(job.payload, type=UserInterestsChanged)
    logger.debug(
        "interest vector recompute is not implemented yet (matching issue)",
        user_id=str(change.user_id),
        job_id=job.id,
    )
