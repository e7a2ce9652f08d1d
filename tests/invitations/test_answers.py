"""Declining, cancelling (late or not), an event's cancellation refunding every
fee exactly once, and the invitee's lists."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from builders import Kit
from fakes.stripe import FakeStripe
from helpers import bearer
from invitations.steps import accept, deliver, paid_event, status_of

from db.queries.metrics import refresh_member_metrics
from jobs.contract import MATCH_EVENT, REFUND_PAYMENT, USER_VECTORS_CHANGED
from server.payments import service as payments_service
from workers.payments import PaymentJobs


async def _jobs(db: asyncpg.Connection, entrypoint: str) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM pgqueuer WHERE entrypoint = $1", entrypoint
    )
    return count


async def _confirmed_paid(kit: Kit, fake: FakeStripe, event: Any) -> tuple[Any, uuid.UUID, str]:
    guest = await kit.person()
    invitation = await kit.invite(event, guest)
    r = await accept(kit.client, guest, invitation)
    intent_id = r.json()["payment"]["payment_intent_id"]
    fake.succeed(intent_id)
    await deliver(kit.client, fake.event_for(intent_id, "payment_intent.succeeded"))
    assert await status_of(kit.db, invitation) == "confirmed"
    return guest, invitation, intent_id


async def test_decline_with_a_reason(kit: Kit, db_conn: asyncpg.Connection) -> None:
    host = await kit.host()
    event = await paid_event(kit, host)
    guest = await kit.person()
    invitation = await kit.invite(event, guest)
    r = await kit.client.post(
        f"/v1/invitations/{invitation}/decline",
        headers=bearer(guest),
        json={"decline_reason": "not_interested"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decline_reason"]) == ("declined", "not_interested")
    # The next wave is queued, and the guest's dislikes are recomputed.
    assert await _jobs(db_conn, MATCH_EVENT) >= 1
    assert await _jobs(db_conn, USER_VECTORS_CHANGED) == 1
    bad = await kit.client.post(
        f"/v1/invitations/{invitation}/decline", headers=bearer(guest), json={"decline_reason": "x"}
    )
    assert bad.status_code == 422
    # Declining a confirmed place is a cancel, not a decline; and only one's own.
    attendee = await kit.person()
    confirmed = await kit.invite(event, attendee, "confirmed")
    r = await kit.client.post(f"/v1/invitations/{confirmed}/decline", headers=bearer(attendee))
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    r = await kit.client.post(f"/v1/invitations/{confirmed}/decline", headers=bearer(guest))
    assert r.status_code == 404


async def test_cancelling_late_counts_against_reliability(
    kit: Kit, db_conn: asyncpg.Connection
) -> None:
    host = await kit.host()
    soon = await kit.published(
        host, stops=[kit.stop(await kit.location(host), 24, title="Soon")], confirmation_fee=0
    )
    later = await paid_event(kit, host, fee=0)  # ten days away
    guest = await kit.person()
    late = await kit.invite(soon, guest)
    early = await kit.invite(later, guest)
    for invitation in (late, early):
        assert (await accept(kit.client, guest, invitation)).status_code == 200
        r = await kit.client.post(f"/v1/invitations/{invitation}/cancel", headers=bearer(guest))
        assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    records = await db_conn.fetch("SELECT event_id, status FROM attendance")
    assert [(str(r["event_id"]), r["status"]) for r in records] == [(soon["id"], "cancelled_late")]
    # The cancel queued the guest's metrics recompute; what that job computes:
    queued = await db_conn.fetchval(
        "SELECT count(*) FROM pgqueuer WHERE entrypoint = 'refresh_member_metrics'"
    )
    assert queued == 1
    await refresh_member_metrics(db_conn, uuid.UUID(guest["user_id"]))
    rating = await db_conn.fetchval(
        "SELECT absentee_rating FROM user_internal_metrics WHERE user_id = $1",
        uuid.UUID(guest["user_id"]),
    )
    assert rating is not None and rating < 0.9
    # Cancelling again is a no-op; cancelling an unanswered invitation is not allowed.
    again = await kit.client.post(f"/v1/invitations/{late}/cancel", headers=bearer(guest))
    assert again.status_code == 200
    unanswered = await kit.invite(later, await kit.person())
    r = await kit.client.post(f"/v1/invitations/{unanswered}/cancel", headers=bearer(guest))
    assert r.status_code == 404


async def test_an_event_cancelled_refunds_every_fee_once(
    kit: Kit, fake: FakeStripe, jobs: PaymentJobs
) -> None:
    host = await kit.host()
    event = await paid_event(kit, host)
    paid = [await _confirmed_paid(kit, fake, event) for _ in range(2)]
    # A third guest still holds an unpaid seat.
    holder = await kit.person()
    held = await kit.invite(event, holder)
    held_intent = (await accept(kit.client, holder, held)).json()["payment"]["payment_intent_id"]

    r = await kit.client.post(f"/v1/events/{event['id']}/cancel", headers=bearer(host))
    assert r.status_code == 200
    assert await _jobs(kit.db, REFUND_PAYMENT) == 2
    payment_ids = [
        r["id"]
        for r in await kit.db.fetch(
            "SELECT id FROM payments WHERE refund_reason = 'event_cancelled'"
        )
    ]
    assert len(payment_ids) == 2
    # The refund job runs twice, and twice at once: one refund per payment.
    async with jobs.pool.acquire() as a, jobs.pool.acquire() as b:
        assert jobs.gateway is not None
        for payment_id in payment_ids:
            await asyncio.gather(
                payments_service.refund(a, jobs.gateway, payment_id),
                payments_service.refund(b, jobs.gateway, payment_id),
            )
            await payments_service.refund(a, jobs.gateway, payment_id)
    assert sorted(r["payment_intent"] for r in fake.refunds.values()) == sorted(p[2] for p in paid)
    statuses = await kit.db.fetch("SELECT status FROM payments ORDER BY status")
    assert [s["status"] for s in statuses] == ["pending", "refunded", "refunded"]
    # The held seat's PaymentIntent is cancelled by the reconciliation.
    assert await jobs.sweep() == (1, 0)
    assert fake.payment_intents[held_intent]["status"] == "canceled"
    assert await status_of(kit.db, held) == "cancelled"


async def test_my_invitations_events_and_payments(kit: Kit, fake: FakeStripe) -> None:
    host = await kit.host()
    event = await paid_event(kit, host)
    guest, invitation, _ = await _confirmed_paid(kit, fake, event)
    other_event = await paid_event(kit, host)
    pending = await kit.invite(other_event, guest)

    everything = await kit.client.get("/v1/me/invitations", headers=bearer(guest))
    assert everything.status_code == 200
    items = everything.json()["items"]
    assert [i["id"] for i in items] == [str(pending), str(invitation)]
    assert items[0]["match_reason"] == "You both love long dinners"
    assert items[0]["event"]["host"]["host_name"] == "Ada's Walks"
    assert "arrival_signpost" not in items[0]["event"]
    sent = await kit.client.get("/v1/me/invitations?status=sent", headers=bearer(guest))
    assert [i["id"] for i in sent.json()["items"]] == [str(pending)]
    bad = await kit.client.get("/v1/me/invitations?status=maybe", headers=bearer(guest))
    assert bad.status_code == 422

    page = await kit.client.get("/v1/me/invitations?limit=1", headers=bearer(guest))
    cursor = page.json()["next_cursor"]
    rest = await kit.client.get(
        f"/v1/me/invitations?limit=1&cursor={cursor}", headers=bearer(guest)
    )
    assert [i["id"] for i in rest.json()["items"]] == [str(invitation)]

    past = await kit.client.get("/v1/me/events?when=past", headers=bearer(guest))
    assert past.json()["items"] == []
    await kit.db.execute(
        "UPDATE events SET status = 'completed' WHERE id = $1", uuid.UUID(event["id"])
    )
    past = await kit.client.get("/v1/me/events?when=past", headers=bearer(guest))
    assert [e["invitation_id"] for e in past.json()["items"]] == [str(invitation)]
    upcoming = await kit.client.get("/v1/me/events", headers=bearer(guest))
    assert upcoming.json()["items"] == []

    # Someone else sees none of it.
    stranger = await kit.person()
    for path in ("/v1/me/invitations", "/v1/me/events?when=past", "/v1/me/payments"):
        r = await kit.client.get(path, headers=bearer(stranger))
        assert r.json()["items"] == []
