"""Queueing the payment jobs (refund, reconcile) from the transactions that make
them necessary; workers/payment_jobs.py runs them."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from workers.enqueue import enqueue_coalesced

REFUND_PAYMENT = "refund_payment"
RECONCILE_PAYMENT = "reconcile_payment"


class PaymentJob(msgspec.Struct, frozen=True):
    """Payload of `refund_payment` and `reconcile_payment`."""

    payment_id: uuid.UUID


async def enqueue_refund(conn: asyncpg.Connection, payment_id: uuid.UUID) -> None:
    """Queue the refund of a payment marked for it, in the marking transaction."""
    payload = msgspec.json.encode(PaymentJob(payment_id=payment_id))
    await enqueue_coalesced(conn, REFUND_PAYMENT, str(payment_id), payload)


async def enqueue_reconcile(conn: asyncpg.Connection, payment_id: uuid.UUID) -> None:
    """Queue a look at Stripe for a pending payment (its invitation just closed)."""
    payload = msgspec.json.encode(PaymentJob(payment_id=payment_id))
    await enqueue_coalesced(conn, RECONCILE_PAYMENT, str(payment_id), payload)
