"""Payments: one row per attempt (PaymentIntent), their states, refunds due, the
Stripe customer of each user, and the webhook deliveries already applied."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

COLUMNS = """
    p.id, p.user_id, p.event_id, p.invitation_id, p.amount_in_cents, p.currency, p.status,
    p.stripe_charge_id, p.stripe_payment_intent_id, p.stripe_refund_id, p.attempt,
    p.failure_code, p.refund_reason, p.created_at, p.updated_at"""


async def customer_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT payment_customer_id FROM users WHERE id = $1", user_id
    )
    return found


async def keep_customer_id(conn: asyncpg.Connection, user_id: uuid.UUID, customer: str) -> str:
    """Store the user's Stripe customer unless one is stored already; the stored one."""
    kept: str = await conn.fetchval(
        """
        UPDATE users SET payment_customer_id = coalesce(payment_customer_id, $2)
        WHERE id = $1 RETURNING payment_customer_id
        """,
        user_id,
        customer,
    )
    return kept


async def lock_latest_attempt(
    conn: asyncpg.Connection, invitation_id: uuid.UUID
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {COLUMNS} FROM payments p WHERE p.invitation_id = $1
        ORDER BY p.attempt DESC LIMIT 1 FOR UPDATE
        """,
        invitation_id,
    )
    return row


async def insert_attempt(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    invitation_id: uuid.UUID,
    amount: int,
    currency: str,
    attempt: int,
) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        INSERT INTO payments AS p
            (user_id, event_id, invitation_id, amount_in_cents, currency, attempt)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING {COLUMNS}
        """,
        user_id,
        event_id,
        invitation_id,
        amount,
        currency,
        attempt,
    )
    assert row is not None
    return row


async def payment(conn: asyncpg.Connection, payment_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM payments p WHERE p.id = $1", payment_id
    )
    return row


async def payment_for_intent(
    conn: asyncpg.Connection, payment_intent_id: str, payment_id: uuid.UUID | None
) -> asyncpg.Record | None:
    """The payment of a PaymentIntent; by the id in its metadata when the
    PaymentIntent id isn't stored yet (a webhook faster than the accept)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {COLUMNS} FROM payments p
        WHERE p.stripe_payment_intent_id = $1
           OR (p.id = $2 AND p.stripe_payment_intent_id IS NULL)
        LIMIT 1
        """,
        payment_intent_id,
        payment_id,
    )
    return row


async def lock_payment(conn: asyncpg.Connection, payment_id: uuid.UUID) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM payments p WHERE p.id = $1 FOR UPDATE", payment_id
    )
    assert row is not None  # payments are never deleted
    return row


async def set_intent(
    conn: asyncpg.Connection, payment_id: uuid.UUID, payment_intent_id: str
) -> None:
    await conn.execute(
        """
        UPDATE payments SET stripe_payment_intent_id = $2, updated_at = now()
        WHERE id = $1 AND stripe_payment_intent_id IS NULL
        """,
        payment_id,
        payment_intent_id,
    )


async def update(
    conn: asyncpg.Connection,
    payment_id: uuid.UUID,
    *,
    status: str,
    charge_id: str | None = None,
    failure_code: str | None = None,
    refund_reason: str | None = None,
    refund_id: str | None = None,
) -> None:
    """Set the status; other fields only when given (never cleared here)."""
    await conn.execute(
        """
        UPDATE payments
        SET status = $2,
            stripe_charge_id = coalesce($3, stripe_charge_id),
            failure_code = coalesce($4, failure_code),
            refund_reason = coalesce($5, refund_reason),
            stripe_refund_id = coalesce($6, stripe_refund_id),
            updated_at = now()
        WHERE id = $1
        """,
        payment_id,
        status,
        charge_id,
        failure_code,
        refund_reason,
        refund_id,
    )


async def mark_refunds_due(
    conn: asyncpg.Connection, event_id: uuid.UUID, reason: str
) -> list[uuid.UUID]:
    """Every succeeded payment for the event is to be refunded; their ids."""
    rows = await conn.fetch(
        """
        UPDATE payments SET refund_reason = $2, updated_at = now()
        WHERE event_id = $1 AND status = 'succeeded' AND refund_reason IS NULL
        RETURNING id
        """,
        event_id,
        reason,
    )
    return [r["id"] for r in rows]


async def pending_for_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT id FROM payments WHERE event_id = $1 AND status = 'pending'", event_id
    )
    return [r["id"] for r in rows]


async def refunds_due(conn: asyncpg.Connection, limit: int) -> list[uuid.UUID]:
    rows = await conn.fetch(
        """
        SELECT id FROM payments
        WHERE refund_reason IS NOT NULL AND status = 'succeeded'
        ORDER BY updated_at LIMIT $1
        """,
        limit,
    )
    return [r["id"] for r in rows]


async def to_reconcile(
    conn: asyncpg.Connection, now: dt.datetime, stale_before: dt.datetime, limit: int
) -> list[uuid.UUID]:
    """Pending payments that Stripe should be asked about: old ones (a webhook may
    be lost), and those whose seat hold ran out or whose invitation closed."""
    rows = await conn.fetch(
        """
        SELECT p.id FROM payments p
        LEFT JOIN invitations i ON i.id = p.invitation_id
        WHERE p.status = 'pending'
          AND (p.created_at < $2
               OR i.id IS NULL
               OR i.status <> 'pending_payment'
               OR i.hold_expires_at <= $1)
        ORDER BY p.created_at
        LIMIT $3
        """,
        now,
        stale_before,
        limit,
    )
    return [r["id"] for r in rows]


async def user_payments(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT p.id, p.event_id, e.title AS event_title, p.invitation_id, p.amount_in_cents,
               p.currency, p.status, p.failure_code, p.created_at, p.updated_at,
               p.refund_reason IS NOT NULL AND p.status IN ('succeeded', 'refunded')
                   AS refund_due
        FROM payments p LEFT JOIN events e ON e.id = p.event_id
        WHERE p.user_id = $1
          AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2, $3))
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT $4
        """,
        user_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def claim_webhook(
    conn: asyncpg.Connection, provider: str, event_id: str, event_type: str
) -> bool:
    """Record a delivery inside the transaction that applies it; False if it was
    applied before. A concurrent duplicate waits here until the first commits."""
    status: str = await conn.execute(
        """
        INSERT INTO processed_webhook_events (provider, event_id, event_type)
        VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
        """,
        provider,
        event_id,
        event_type,
    )
    return status == "INSERT 0 1"
