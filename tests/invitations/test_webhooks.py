"""Stripe webhooks: signatures, exactly-once, any order, late payments, and the
reconciliation that stands in for lost deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from builders import Kit
from fakes.stripe import FakeStripe, sign
from helpers import gather
from invitations.steps import accept, deliver, paid_event, status_of

from workers.payments import PaymentJobs


async def _held(kit: Kit, seats: int = 6) -> tuple[Any, Any, uuid.UUID, str]:
    """A guest holding a seat: (event, guest, invitation id, PaymentIntent id)."""
    host = await kit.host()
    event = await paid_event(kit, host, seats=seats)
    guest = await kit.person()
    invitation = await kit.invite(event, guest)
    r = await accept(kit.client, guest, invitation)
    assert r.status_code == 200, r.text
    return event, guest, invitation, r.json()["payment"]["payment_intent_id"]


async def _payment(db: asyncpg.Connection, intent_id: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT status, refund_reason, updated_at FROM payments "
        "WHERE stripe_payment_intent_id = $1",
        intent_id,
    )
    assert row is not None
    return row


async def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(
    kit: Kit, fake: FakeStripe
) -> None:
    _, _, invitation, intent_id = await _held(kit)
    fake.succeed(intent_id)
    body, headers = fake.event_for(intent_id, "payment_intent.succeeded")
    for bad in (
        {},
        {"Stripe-Signature": sign(body, secret="whsec_someone_else")},
        {"Stripe-Signature": headers["Stripe-Signature"]},  # for the untampered body
    ):
        tampered = body.replace(b'"succeeded"', b'"succeeded" ') if bad else body
        r = await kit.client.post("/v1/webhooks/stripe", content=tampered, headers=bad)
        assert (r.status_code, r.json()["code"]) == (400, "invalid_signature")
    assert await status_of(kit.db, invitation) == "pending_payment"
    assert await kit.db.fetchval("SELECT count(*) FROM processed_webhook_events") == 0


async def test_the_same_delivery_ten_times_at_once_changes_state_once(
    kit: Kit, fake: FakeStripe
) -> None:
    _, _, invitation, intent_id = await _held(kit)
    fake.succeed(intent_id)
    delivery = fake.event_for(intent_id, "payment_intent.succeeded")
    responses = await gather(*(deliver(kit.client, delivery) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert await status_of(kit.db, invitation) == "confirmed"
    assert await kit.db.fetchval("SELECT count(*) FROM processed_webhook_events") == 1
    told = await kit.db.fetch("SELECT kind FROM notifications WHERE kind LIKE 'payment_%'")
    assert [r["kind"] for r in told] == ["payment_succeeded"]  # one notification
    before = await _payment(kit.db, intent_id)
    # Once more, later: still nothing new.
    assert (await deliver(kit.client, delivery)).status_code == 200
    assert (await _payment(kit.db, intent_id))["updated_at"] == before["updated_at"]


async def test_failed_after_succeeded_leaves_it_confirmed(kit: Kit, fake: FakeStripe) -> None:
    """Stripe retried a declined card successfully; the failure's delivery arrives
    last. The PaymentIntent is re-read, so the order of arrival does not matter."""
    _, _, invitation, intent_id = await _held(kit)
    fake.fail(intent_id)
    failed = fake.event_for(intent_id, "payment_intent.payment_failed")
    fake.succeed(intent_id)
    succeeded = fake.event_for(intent_id, "payment_intent.succeeded")
    assert (await deliver(kit.client, succeeded)).status_code == 200
    assert (await deliver(kit.client, failed)).status_code == 200
    assert await status_of(kit.db, invitation) == "confirmed"
    assert (await _payment(kit.db, intent_id))["status"] == "succeeded"


async def test_a_failed_payment_releases_the_seat_and_can_be_retried(
    kit: Kit, fake: FakeStripe
) -> None:
    _, guest, invitation, intent_id = await _held(kit, seats=1)
    fake.fail(intent_id, code="card_declined", decline_code="insufficient_funds")
    await deliver(kit.client, fake.event_for(intent_id, "payment_intent.payment_failed"))
    assert await status_of(kit.db, invitation) == "payment_failed"
    told = await kit.db.fetchval(
        "SELECT n.data->>'invitation_id' FROM notifications n WHERE n.kind = 'payment_failed'"
    )
    assert told == str(invitation)
    row = await kit.db.fetchrow(
        "SELECT status, failure_code FROM payments WHERE stripe_payment_intent_id = $1",
        intent_id,
    )
    assert tuple(row) == ("failed", "insufficient_funds")
    # The seat is free again: another guest could take it; this one retries with
    # another card on the same PaymentIntent.
    retry = await accept(kit.client, guest, invitation)
    assert retry.status_code == 200
    assert retry.json()["payment"]["payment_intent_id"] == intent_id
    assert await status_of(kit.db, invitation) == "pending_payment"


async def test_late_payment_after_the_hold_gets_the_seat_if_one_is_free(
    kit: Kit, fake: FakeStripe
) -> None:
    _, _, invitation, intent_id = await _held(kit, seats=2)
    await kit.db.execute(
        "UPDATE invitations SET hold_expires_at = now() - interval '1 minute' WHERE id = $1",
        invitation,
    )
    fake.succeed(intent_id)
    await deliver(kit.client, fake.event_for(intent_id, "payment_intent.succeeded"))
    assert await status_of(kit.db, invitation) == "confirmed"
    assert (await _payment(kit.db, intent_id))["refund_reason"] is None


async def test_late_payment_after_the_seat_went_to_someone_else_is_refunded(
    kit: Kit, fake: FakeStripe, jobs: PaymentJobs
) -> None:
    event, _, invitation, intent_id = await _held(kit, seats=1)
    await kit.db.execute(
        "UPDATE invitations SET hold_expires_at = now() - interval '1 minute' WHERE id = $1",
        invitation,
    )
    # The reconciliation job released the seat...
    assert await jobs.sweep() == (1, 0)
    assert await status_of(kit.db, invitation) == "payment_failed"
    assert fake.payment_intents[intent_id]["status"] == "canceled"
    # ...and someone else took it.
    winner = await kit.person()
    other = await kit.invite(event, winner)
    assert (await accept(kit.client, winner, other)).status_code == 200


async def test_a_payment_that_beats_the_cancel_is_refunded_when_the_seat_is_gone(
    kit: Kit, fake: FakeStripe, jobs: PaymentJobs
) -> None:
    """The hold ran out, someone else took the seat, then Stripe says the first
    guest paid after all: documented policy, refund (the seat is not oversold)."""
    event, _, invitation, intent_id = await _held(kit, seats=1)
    await kit.db.execute(
        "UPDATE invitations SET hold_expires_at = now() - interval '1 minute' WHERE id = $1",
        invitation,
    )
    winner = await kit.person()
    other = await kit.invite(event, winner)
    r = await accept(kit.client, winner, other)
    assert r.status_code == 200
    fake.succeed(r.json()["payment"]["payment_intent_id"])
    fake.succeed(intent_id)
    await deliver(
        kit.client,
        fake.event_for(r.json()["payment"]["payment_intent_id"], "payment_intent.succeeded"),
    )
    await deliver(kit.client, fake.event_for(intent_id, "payment_intent.succeeded"))
    assert await status_of(kit.db, other) == "confirmed"
    assert await status_of(kit.db, invitation) == "pending_payment"
    assert (await _payment(kit.db, intent_id))["refund_reason"] == "no_seat"

    assert await jobs.sweep() == (0, 1)
    assert (await _payment(kit.db, intent_id))["status"] == "refunded"
    assert [r["payment_intent"] for r in fake.refunds.values()] == [intent_id]
    seats = await kit.db.fetchval(
        "SELECT count(*) FROM invitations WHERE event_id = $1 AND status = 'confirmed'",
        uuid.UUID(event["id"]),
    )
    assert seats == 1


async def test_a_lost_webhook_is_made_up_for_by_reconciliation(
    kit: Kit, fake: FakeStripe, jobs: PaymentJobs
) -> None:
    _, _, invitation, intent_id = await _held(kit)
    fake.succeed(intent_id)  # ...and the delivery never arrives
    assert await jobs.sweep() == (0, 0)  # too recent to ask about
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    assert await jobs.sweep(now=later) == (1, 0)
    assert await status_of(kit.db, invitation) == "confirmed"


async def test_refund_and_dispute_deliveries(kit: Kit, fake: FakeStripe) -> None:
    _, _, _, intent_id = await _held(kit)
    fake.succeed(intent_id)
    await deliver(kit.client, fake.event_for(intent_id, "payment_intent.succeeded"))
    fake.dispute(intent_id)
    await deliver(kit.client, fake.event_for(intent_id, "charge.dispute.created"))
    assert (await _payment(kit.db, intent_id))["status"] == "disputed"

    _, _, _, second = await _held(kit)
    fake.succeed(second)
    await deliver(kit.client, fake.event_for(second, "payment_intent.succeeded"))
    fake.refund(second)
    await deliver(kit.client, fake.event_for(second, "charge.refunded"))
    assert (await _payment(kit.db, second))["status"] == "refunded"


async def test_when_stripe_cannot_be_asked_the_delivered_state_is_applied(
    kit: Kit, fake: FakeStripe
) -> None:
    _, _, invitation, intent_id = await _held(kit)
    fake.succeed(intent_id)
    delivery = fake.event_for(intent_id, "payment_intent.succeeded")
    fake.fail_next(f"/v1/payment_intents/{intent_id}", 503, times=3, method="GET")
    assert (await deliver(kit.client, delivery)).status_code == 200
    assert await status_of(kit.db, invitation) == "confirmed"
