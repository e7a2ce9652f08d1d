"""Accepting: free and paid, seat holds, the last seat under 50 concurrent
accepts, retries after network errors, and who may not accept."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec
from builders import Kit
from fakes.stripe import FakeStripe
from helpers import bearer, gather
from invitations.steps import accept, deliver, paid_event, status_of
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings

Client = AsyncTestClient[Any]


async def test_a_free_event_confirms_at_once(kit: Kit, fake: FakeStripe) -> None:
    host = await kit.host()
    event = await paid_event(kit, host, fee=0)
    guest = await kit.person()
    invitation = await kit.invite(event, guest)
    r = await accept(kit.client, guest, invitation)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["payment"] is None
    assert body["invitation"]["status"] == "confirmed"
    assert body["invitation"]["event"]["id"] == event["id"]
    # Accepting again changes nothing and still answers 200.
    again = await accept(kit.client, guest, invitation)
    assert again.status_code == 200 and again.json()["invitation"]["status"] == "confirmed"
    assert fake.requests == []  # no Stripe call for a free event


async def test_a_paid_accept_holds_the_seat_and_returns_the_payment_sheet(
    kit: Kit, fake: FakeStripe
) -> None:
    host = await kit.host()
    event = await paid_event(kit, host, fee=700)
    guest = await kit.person()
    invitation = await kit.invite(event, guest)
    r = await accept(kit.client, guest, invitation)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["invitation"]["status"] == "pending_payment"
    assert body["invitation"]["hold_expires_at"] is not None
    payment = body["payment"]
    assert set(payment) == {"payment_intent_id", "client_secret", "customer_id", "ephemeral_key"}
    intent = fake.payment_intents[payment["payment_intent_id"]]
    assert intent["amount"] == 700 and intent["currency"] == "usd"
    assert intent["customer"] == payment["customer_id"]
    assert intent["metadata"]["invitation_id"] == str(invitation)
    assert intent["metadata"]["event_id"] == event["id"]
    assert payment["client_secret"] == intent["client_secret"]
    created = fake.requests_to("POST", "/v1/payment_intents")
    assert created[0].params["automatic_payment_methods"] == {"enabled": "true"}

    # A second tap resumes the same hold and PaymentIntent.
    again = await accept(kit.client, guest, invitation)
    assert again.status_code == 200
    assert again.json()["payment"]["payment_intent_id"] == payment["payment_intent_id"]
    assert len(fake.payment_intents) == 1
    assert len(fake.customers) == 1

    # Stripe reports success: confirmed, and listed as an upcoming event and a payment.
    fake.succeed(payment["payment_intent_id"])
    delivered = await deliver(
        kit.client, fake.event_for(payment["payment_intent_id"], "payment_intent.succeeded")
    )
    assert delivered.status_code == 200
    assert await status_of(kit.db, invitation) == "confirmed"
    mine = await kit.client.get("/v1/me/payments", headers=bearer(guest))
    assert [(p["status"], p["amount_in_cents"]) for p in mine.json()["items"]] == [
        ("succeeded", 700)
    ]
    assert "stripe_payment_intent_id" not in mine.json()["items"][0]
    upcoming = await kit.client.get("/v1/me/events", headers=bearer(guest))
    assert [e["event"]["id"] for e in upcoming.json()["items"]] == [event["id"]]


async def test_fifty_people_for_the_last_seat_one_hold_then_one_confirmed(
    kit: Kit, fake: FakeStripe
) -> None:
    host = await kit.host()
    event = await paid_event(kit, host, seats=3)
    for _ in range(2):
        await kit.invite(event, await kit.person(), "confirmed")
    guests = [await kit.person() for _ in range(50)]
    invitations = [await kit.invite(event, g) for g in guests]
    responses = await gather(
        *(accept(kit.client, g, i) for g, i in zip(guests, invitations, strict=True))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 49, [r.text for r in responses if r.status_code >= 500]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"event_full"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert len(fake.payment_intents) == 1

    fake.succeed(winner["payment"]["payment_intent_id"])
    await deliver(
        kit.client,
        fake.event_for(winner["payment"]["payment_intent_id"], "payment_intent.succeeded"),
    )
    confirmed = await kit.db.fetchval(
        "SELECT count(*) FROM invitations WHERE event_id = $1 AND status = 'confirmed'",
        uuid.UUID(event["id"]),
    )
    assert confirmed == 3


async def test_an_accept_retried_after_a_network_error_makes_no_second_payment_intent(
    kit: Kit, fake: FakeStripe
) -> None:
    """Stripe creates the PaymentIntent but the answer is lost: the accept fails
    with 503 and keeps the seat; Stripe's success arrives before any accept
    answer carried the PaymentIntent; the retry then finds it confirmed."""
    host = await kit.host()
    event = await paid_event(kit, host)
    guest = await kit.person()
    invitation = await kit.invite(event, guest)
    # Every attempt of the client (it retries twice) is applied, then its answer lost.
    fake.fail_next("/v1/payment_intents", "disconnect", times=3, method="POST", after_applying=True)
    r = await accept(kit.client, guest, invitation)
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "payment_provider_unavailable"
    assert await status_of(kit.db, invitation) == "pending_payment"
    assert len(fake.payment_intents) == 1
    (intent_id,) = fake.payment_intents

    # The webhook comes first: found through the PaymentIntent's metadata.
    fake.succeed(intent_id)
    assert (
        await deliver(kit.client, fake.event_for(intent_id, "payment_intent.succeeded"))
    ).status_code == 200
    assert await status_of(kit.db, invitation) == "confirmed"

    retry = await accept(kit.client, guest, invitation)
    assert retry.status_code == 200, retry.text
    assert retry.json()["invitation"]["status"] == "confirmed"
    assert retry.json()["payment"] is None
    assert len(fake.payment_intents) == 1


async def test_refusals(kit: Kit, fake: FakeStripe, db_conn: asyncpg.Connection) -> None:
    host = await kit.host()
    event = await paid_event(kit, host)
    guest, other = await kit.person(), await kit.person()
    invitation = await kit.invite(event, guest)

    # Someone else's invitation, and an unknown one: 404.
    assert (await accept(kit.client, other, invitation)).status_code == 404
    assert (await accept(kit.client, guest, uuid.uuid4())).status_code == 404
    # Anonymous: 401.
    r = await kit.client.post(f"/v1/invitations/{invitation}/accept")
    assert r.status_code == 401

    # A block between guest and host: the invitation is gone for the guest.
    await db_conn.execute(
        "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)",
        uuid.UUID(host["user_id"]),
        uuid.UUID(guest["user_id"]),
    )
    assert (await accept(kit.client, guest, invitation)).status_code == 404
    await db_conn.execute("DELETE FROM blocked_users")

    # Expired: 410, and nothing changed.
    await db_conn.execute(
        "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1",
        invitation,
    )
    r = await accept(kit.client, guest, invitation)
    assert (r.status_code, r.json()["code"]) == (410, "invitation_expired")
    assert await status_of(db_conn, invitation) == "sent"

    # Declined: 409.
    declined = await kit.invite(event, other, "declined")
    r = await accept(kit.client, other, declined)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    assert fake.payment_intents == {}


async def test_without_stripe_a_paid_accept_is_refused_and_changes_nothing(
    kit: Kit, settings: Settings, sign_in: Any
) -> None:
    host = await kit.host()
    event = await paid_event(kit, host)
    guest = await kit.person()
    invitation = await kit.invite(event, guest)
    bare = msgspec.structs.replace(
        settings, stripe_secret_key=None, stripe_webhook_secret=None, stripe_api_base=None
    )
    async with AsyncTestClient(app=create_app(bare)) as other_client:
        r = await other_client.post(f"/v1/invitations/{invitation}/accept", headers=bearer(guest))
    assert (r.status_code, r.json()["code"]) == (503, "payments_unavailable")
    assert await status_of(kit.db, invitation) == "sent"


async def test_a_full_event_and_a_held_seat_count(kit: Kit, fake: FakeStripe) -> None:
    """A running hold takes a seat; a hold that ran out does not."""
    host = await kit.host()
    event = await paid_event(kit, host, seats=1)
    first, second = await kit.person(), await kit.person()
    held = await kit.invite(event, first)
    waiting = await kit.invite(event, second)
    assert (await accept(kit.client, first, held)).status_code == 200
    r = await accept(kit.client, second, waiting)
    assert (r.status_code, r.json()["code"]) == (409, "event_full")
    await kit.db.execute(
        "UPDATE invitations SET hold_expires_at = now() - interval '1 second' WHERE id = $1",
        held,
    )
    assert (await accept(kit.client, second, waiting)).status_code == 200
