"""Every job's name and payload, and the helpers that queue them.

Services queue jobs through the `enqueue_*` helpers here, inside the
transaction that makes the job necessary; workers/ runs them, and
workers/queue.py registers a handler under each name below. This module
imports only db/, pgqueuer, msgspec and the standard library, so the web side
depends on the contract and never on the workers.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

from db.queries import jobs as jobs_q

# Jobs queued on demand by the enqueue_* helpers below.
MATCH_EVENT = "match_event"
USER_VECTORS_CHANGED = "user_vectors_changed"
REFUND_PAYMENT = "refund_payment"
RECONCILE_PAYMENT = "reconcile_payment"
REFRESH_MEMBER_METRICS = "refresh_member_metrics"

# Scheduled jobs. pgqueuer stores each name as a row of pgqueuer_schedules, so a
# renamed schedule leaves its old row behind.
PAYMENTS_SWEEP = "payments_sweep"
PURGE_AUTH_RECORDS = "purge_auth_records"
EMBED_PENDING = "embed_pending"
EXPIRE_INVITATIONS = "expire_invitations"
REMATCH_QUIET_EVENTS = "rematch_quiet_events"
EVENT_LIFECYCLE = "event_lifecycle"
NOTIFICATION_REMINDERS = "notification_reminders"
PUSH_RECEIPTS = "push_receipts"
CLOSE_ATTENDANCE = "close_attendance"
RECLUSTER_MATCH_CANDIDATES = "recluster_match_candidates"


class MatchEvent(msgspec.Struct, frozen=True):
    """Payload of `match_event`: the event that may need another wave."""

    event_id: uuid.UUID


class UserVectorsChanged(msgspec.Struct, frozen=True):
    """Payload of `user_vectors_changed`: whose inputs changed."""

    user_id: uuid.UUID


class PaymentJob(msgspec.Struct, frozen=True):
    """Payload of `refund_payment` and `reconcile_payment`."""

    payment_id: uuid.UUID


class MemberMetrics(msgspec.Struct, frozen=True):
    """Payload of `refresh_member_metrics`: whose attendance, kudos or ratings changed."""

    user_id: uuid.UUID


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


async def enqueue_match_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> None:
    """Queue a wave for the event; call inside the transaction that publishes it or
    frees a place (decline, expiry, cancellation), so the wave sees that change."""
    payload = msgspec.json.encode(MatchEvent(event_id=event_id))
    await enqueue_coalesced(conn, MATCH_EVENT, str(event_id), payload)


async def enqueue_user_vectors_changed(conn: asyncpg.Connection, user_id: uuid.UUID) -> None:
    """Queue a recompute of the user's vectors; call inside the transaction that
    changes their interests, likes or `not_interested` declines."""
    payload = msgspec.json.encode(UserVectorsChanged(user_id=user_id))
    await enqueue_coalesced(conn, USER_VECTORS_CHANGED, str(user_id), payload)


async def enqueue_refund(conn: asyncpg.Connection, payment_id: uuid.UUID) -> None:
    """Queue the refund of a payment marked for it, in the marking transaction."""
    payload = msgspec.json.encode(PaymentJob(payment_id=payment_id))
    await enqueue_coalesced(conn, REFUND_PAYMENT, str(payment_id), payload)


async def enqueue_reconcile(conn: asyncpg.Connection, payment_id: uuid.UUID) -> None:
    """Queue a look at Stripe for a pending payment (its invitation just closed)."""
    payload = msgspec.json.encode(PaymentJob(payment_id=payment_id))
    await enqueue_coalesced(conn, RECONCILE_PAYMENT, str(payment_id), payload)


async def enqueue_member_metrics(conn: asyncpg.Connection, user_ids: list[uuid.UUID]) -> None:
    """Queue a recompute of each person's reliability and contribution; call inside
    the transaction that changes their attendance, kudos received or ratings."""
    for user_id in sorted(set(user_ids)):  # one lock order, whatever the caller's
        payload = msgspec.json.encode(MemberMetrics(user_id=user_id))
        await enqueue_coalesced(conn, REFRESH_MEMBER_METRICS, str(user_id), payload)
