"""Payment rules: starting a PaymentIntent for a held seat, applying what Stripe
says happened, refunds, and reconciliation. Web handlers and workers share them.

Stripe is never called inside a database transaction (no lock is held across
the network). Every state change is applied by `apply_intent` from a
PaymentIntent read from Stripe, never from a webhook's arrival order, so late,
repeated or reordered deliveries end in the same state (docs/PAYMENTS.md).
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import structlog

from db.queries import audience as audience_q
from db.queries import invitations as inv_q
from db.queries import payments as q
from jobs.contract import enqueue_match_event, enqueue_reconcile, enqueue_refund
from server.errors import ApiError
from server.notifications.catalog import Kind
from server.notifications.notify import notify
from server.payments.gateway import (
    AlreadyRefunded,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    PaymentIntent,
    StripeGateway,
    WebhookEvent,
    embedded_intent,
)
from server.payments.schemas import PaymentSheet
from server.settings import Settings

logger = structlog.get_logger(__name__)

# Statuses in which Stripe may still take the money.
_OPEN = ("requires_payment_method", "requires_confirmation", "requires_action", "processing")


def _unavailable() -> ApiError:
    return ApiError(
        503,
        "payment_provider_unavailable",
        "The payment provider did not answer; your seat is held, try again",
    )


async def _customer(conn: asyncpg.Connection, gateway: StripeGateway, user_id: uuid.UUID) -> str:
    known = await q.customer_id(conn, user_id)
    if known:
        return known
    created = await gateway.create_customer(user_id=user_id, idempotency_key=f"customer:{user_id}")
    return await q.keep_customer_id(conn, user_id, created)


async def start_payment(
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    settings: Settings,
    payment: asyncpg.Record,
    now: dt.datetime,
) -> PaymentSheet:
    """The PaymentIntent for a held seat's payment attempt: created once per attempt
    (the attempt's id is the idempotency key, so a retried accept gets the same
    one), or read back when it exists. Called outside any transaction."""
    try:
        customer = await _customer(conn, gateway, payment["user_id"])
        if payment["stripe_payment_intent_id"]:
            intent = await gateway.retrieve_payment_intent(payment["stripe_payment_intent_id"])
        else:
            intent = await gateway.create_payment_intent(
                amount=payment["amount_in_cents"],
                currency=payment["currency"],
                customer_id=customer,
                metadata={
                    "payment_id": str(payment["id"]),
                    "invitation_id": str(payment["invitation_id"]),
                    "event_id": str(payment["event_id"]),
                    "user_id": str(payment["user_id"]),
                },
                idempotency_key=f"payment:{payment['id']}",
            )
            async with conn.transaction():
                await q.set_intent(conn, payment["id"], intent.id)
        if intent.status not in _OPEN:
            # Paid or cancelled already (a lost webhook): settle it now.
            await apply_intent(conn, intent, now)
        ephemeral_key = await gateway.create_ephemeral_key(customer_id=customer)
    except GatewayUnavailable as exc:
        logger.warning("stripe unavailable during accept", code=exc.code)
        raise _unavailable() from exc
    except GatewayRejected as exc:
        logger.error("stripe refused a payment", code=exc.code, payment_id=str(payment["id"]))
        await _end_attempt(conn, payment["id"], "failed", exc.code or "rejected", now)
        raise ApiError(
            502, "payment_provider_error", "The payment provider refused this payment"
        ) from exc
    assert intent.client_secret is not None
    return PaymentSheet(
        payment_intent_id=intent.id,
        client_secret=intent.client_secret,
        customer_id=customer,
        ephemeral_key=ephemeral_key,
    )


async def _lock_around(
    conn: asyncpg.Connection, payment_id: uuid.UUID
) -> tuple[asyncpg.Record, inv_q.InvitationRow | None, inv_q.Seats | None]:
    """Lock the payment's event, invitation and the payment, in the order every
    seat change uses; returns (payment, invitation, event)."""
    row = await q.payment(conn, payment_id)
    assert row is not None
    event = await inv_q.lock_seats(conn, row["event_id"]) if row["event_id"] else None
    invitation = (
        await inv_q.lock_invitation(conn, row["invitation_id"]) if row["invitation_id"] else None
    )
    return await q.lock_payment(conn, payment_id), invitation, event


async def _end_attempt(
    conn: asyncpg.Connection,
    payment_id: uuid.UUID,
    status: str,
    failure_code: str | None,
    now: dt.datetime,
) -> None:
    """A pending attempt failed or was cancelled: its seat hold is released."""
    async with conn.transaction():
        payment, invitation, _ = await _lock_around(conn, payment_id)
        if payment["status"] != "pending":
            return
        await q.update(conn, payment_id, status=status, failure_code=failure_code)
        if invitation is not None and invitation.status == "pending_payment":
            await inv_q.set_status(conn, invitation.id, "payment_failed", now)
            await enqueue_match_event(conn, invitation.event_id)
            await _tell(conn, invitation.id, "payment_failed")


async def apply_intent(conn: asyncpg.Connection, intent: PaymentIntent, now: dt.datetime) -> None:
    """Bring our records in line with the PaymentIntent as Stripe reports it now."""
    meta_id = intent.metadata.get("payment_id")
    try:
        payment_id = uuid.UUID(meta_id) if meta_id else None
    except ValueError:
        payment_id = None
    row = await q.payment_for_intent(conn, intent.id, payment_id)
    if row is None:
        logger.warning("payment intent of no payment of ours", payment_intent_id=intent.id)
        return
    if intent.status == "succeeded":
        await _succeeded(conn, row["id"], intent, now)
    elif intent.status == "canceled":
        await _end_attempt(conn, row["id"], "canceled", None, now)
    elif intent.status == "requires_payment_method" and intent.failure_code:
        await _end_attempt(conn, row["id"], "failed", intent.failure_code, now)
    if row["stripe_payment_intent_id"] is None:
        async with conn.transaction():
            await q.set_intent(conn, row["id"], intent.id)


async def _succeeded(
    conn: asyncpg.Connection, payment_id: uuid.UUID, intent: PaymentIntent, now: dt.datetime
) -> None:
    """Money arrived. The seat is confirmed if the hold still runs, or if a seat is
    free again (a late payment after the hold ran out); otherwise the payment is
    refunded. A payment for an invitation confirmed by another attempt, or
    closed meanwhile, is refunded too."""
    async with conn.transaction():
        payment, invitation, event = await _lock_around(conn, payment_id)
        if payment["status"] in ("succeeded", "refunded", "disputed"):
            return
        await q.update(conn, payment_id, status="succeeded", charge_id=intent.latest_charge)
        reason = _refund_reason(invitation, event, now)
        if reason is None and invitation is not None and event is not None:
            if await _seat_for(conn, invitation, event, now):
                await inv_q.set_status(conn, invitation.id, "confirmed", now)
                await _tell(conn, invitation.id, "payment_succeeded")
                return
            reason = "no_seat"
        await q.update(conn, payment_id, status="succeeded", refund_reason=reason)
        await enqueue_refund(conn, payment_id)
        # A cancelled event's notification already says the fee comes back.
        if invitation is not None and reason != "event_cancelled":
            await _tell(conn, invitation.id, "payment_refunded")
        logger.info("payment to refund", payment_id=str(payment_id), reason=reason)


async def _tell(conn: asyncpg.Connection, invitation_id: uuid.UUID, kind: Kind) -> None:
    owner = await audience_q.invitation_owner(conn, invitation_id)
    data = {
        "event_id": owner["event_id"],
        "invitation_id": invitation_id,
        "event_title": owner["event_title"],
    }
    await notify(conn, owner["user_id"], kind, data)


def _refund_reason(
    invitation: inv_q.InvitationRow | None, event: inv_q.Seats | None, now: dt.datetime
) -> str | None:
    if invitation is None or event is None:
        return "invitation_closed"
    if event.status == "cancelled":
        return "event_cancelled"
    if invitation.status not in ("pending_payment", "payment_failed", "expired"):
        return "invitation_closed"
    if event.status != "published" or event.starts_at <= now:
        return "invitation_closed"
    return None


async def _seat_for(
    conn: asyncpg.Connection, invitation: inv_q.InvitationRow, event: inv_q.Seats, now: dt.datetime
) -> bool:
    held = (
        invitation.status == "pending_payment"
        and invitation.hold_expires_at is not None
        and invitation.hold_expires_at > now
    )
    if held:
        return True
    taken = await inv_q.seats_taken(conn, event.id, now, besides=invitation.id)
    return taken < event.max_attendees


async def handle_webhook(
    conn: asyncpg.Connection, gateway: StripeGateway, event: WebhookEvent, now: dt.datetime
) -> None:
    """Apply one verified delivery exactly once (its id is recorded in the same
    transaction as the change). PaymentIntent events re-read the PaymentIntent,
    so their order of arrival does not matter; when Stripe cannot be asked, the
    state the event carries is applied (the transitions are one-way, so that is
    safe too)."""
    intent: PaymentIntent | None = None
    if event.type.startswith("payment_intent.") and event.payment_intent_id:
        try:
            intent = await gateway.retrieve_payment_intent(event.payment_intent_id)
        except GatewayError as exc:
            # The state it carries is safe to apply: a payment never leaves
            # `succeeded` here, and a stale failure only releases a seat that a
            # later success takes back while one is free.
            logger.warning("re-reading a payment intent failed", code=exc.code)
            intent = embedded_intent(event)
    async with conn.transaction():
        if not await q.claim_webhook(conn, "stripe", event.id, event.type):
            return
        if intent is not None:
            await apply_intent(conn, intent, now)
        elif event.type == "charge.refunded" and event.payment_intent_id:
            await _refunded(conn, event)
        elif event.type == "charge.dispute.created" and event.payment_intent_id:
            await _disputed(conn, event)


async def _refunded(conn: asyncpg.Connection, event: WebhookEvent) -> None:
    assert event.payment_intent_id is not None
    row = await q.payment_for_intent(conn, event.payment_intent_id, None)
    charge = event.object
    if row is None or charge.get("amount_refunded", 0) < charge.get("amount", 0):
        return  # not ours, or a partial refund (Momento only refunds in full)
    payment = await q.lock_payment(conn, row["id"])
    if payment["status"] in ("succeeded", "disputed"):
        await q.update(conn, row["id"], status="refunded")


async def _disputed(conn: asyncpg.Connection, event: WebhookEvent) -> None:
    assert event.payment_intent_id is not None
    row = await q.payment_for_intent(conn, event.payment_intent_id, None)
    if row is None:
        return
    await q.lock_payment(conn, row["id"])
    await q.update(conn, row["id"], status="disputed")
    logger.error("payment disputed", payment_id=str(row["id"]), charge_id=event.charge_id)


async def refund(conn: asyncpg.Connection, gateway: StripeGateway, payment_id: uuid.UUID) -> bool:
    """Refund a succeeded payment marked for it, once: the idempotency key is the
    payment's, so running this twice (or two workers at once) refunds once."""
    payment = await q.payment(conn, payment_id)
    if payment is None or payment["status"] != "succeeded" or payment["refund_reason"] is None:
        return False
    refund_id: str | None = None
    try:
        made = await gateway.create_refund(
            payment_intent_id=payment["stripe_payment_intent_id"],
            idempotency_key=f"refund:{payment_id}",
            metadata={"payment_id": str(payment_id), "reason": payment["refund_reason"]},
        )
        refund_id = made.id
    except AlreadyRefunded:
        pass
    async with conn.transaction():
        locked = await q.lock_payment(conn, payment_id)
        if locked["status"] != "succeeded":
            return False
        await q.update(conn, payment_id, status="refunded", refund_id=refund_id)
    logger.info("payment refunded", payment_id=str(payment_id))
    return True


async def reconcile(
    conn: asyncpg.Connection, gateway: StripeGateway, payment_id: uuid.UUID, now: dt.datetime
) -> None:
    """Ask Stripe about a pending payment and apply the answer; when its seat hold
    is over or its invitation closed, cancel the PaymentIntent so it can no
    longer be paid (if it was paid meanwhile, that is applied instead)."""
    payment = await q.payment(conn, payment_id)
    if payment is None or payment["status"] != "pending":
        return
    if payment["stripe_payment_intent_id"] is None:
        if await _attempt_over(conn, payment, now):
            await _end_attempt(conn, payment_id, "canceled", None, now)
        return
    intent = await gateway.retrieve_payment_intent(payment["stripe_payment_intent_id"])
    await apply_intent(conn, intent, now)
    # A payment already processing (e.g. a bank debit) is left to finish.
    waiting = intent.status in _OPEN and intent.status != "processing"
    if waiting and await _attempt_over(conn, payment, now):
        await apply_intent(conn, await gateway.cancel_payment_intent(intent.id), now)


async def _attempt_over(
    conn: asyncpg.Connection, payment: asyncpg.Record, now: dt.datetime
) -> bool:
    if payment["invitation_id"] is None:
        return True
    invitation = await inv_q.invitation(conn, payment["invitation_id"])
    return (
        invitation is None
        or invitation.status != "pending_payment"
        or invitation.hold_expires_at is None
        or invitation.hold_expires_at <= now
    )


async def settle_cancelled_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> None:
    """In the cancelling transaction: every confirmed payment is to be refunded
    and every pending one settled (cancelled, or refunded if it was paid)."""
    for payment_id in await q.mark_refunds_due(conn, event_id, "event_cancelled"):
        await enqueue_refund(conn, payment_id)
    for payment_id in await q.pending_for_event(conn, event_id):
        await enqueue_reconcile(conn, payment_id)
