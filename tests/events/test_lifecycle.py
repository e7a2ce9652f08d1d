"""The lifecycle: publish (checks, matching queued), cancel, complete; illegal and
concurrent transitions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from helpers import bearer

from db.pool import connect
from server.events.lifecycle import cancel_event, complete_finished_events, publish_event

Kit = Any


async def status_of(db: asyncpg.Connection, event: dict[str, Any]) -> str:
    status: str = await db.fetchval(
        "SELECT status FROM events WHERE id = $1", uuid.UUID(event["id"])
    )
    return status


async def test_publish_starts_matching(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.draft(host)
    assert await kit.db.fetchval("SELECT count(*) FROM pgqueuer") == 0
    r = await kit.client.post(f"/v1/events/{event['id']}/publish", headers=bearer(host))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published"
    assert body["published_at"] is not None
    jobs = await kit.db.fetch("SELECT entrypoint, payload FROM pgqueuer")
    assert [j["entrypoint"] for j in jobs] == ["match_event"]
    assert event["id"] in bytes(jobs[0]["payload"]).decode()


async def test_publish_lists_every_failing_check(kit: Kit) -> None:
    host = await kit.host()
    r = await kit.client.post("/v1/events", headers=bearer(host), json={"title": "Bare"})
    bare = r.json()
    r = await kit.client.post(f"/v1/events/{bare['id']}/publish", headers=bearer(host))
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "not_publishable"
    assert [e["key"] for e in problem["errors"]] == [
        "stops_required",
        "attendees_required",
        "ages_required",
    ]
    assert "Add at least one stop" in problem["detail"]

    past = await kit.draft(host, stops=[kit.stop(await kit.location(host), -3)], age_max=None)
    r = await kit.client.post(f"/v1/events/{past['id']}/publish", headers=bearer(host))
    assert r.status_code == 422
    assert [e["key"] for e in r.json()["errors"]] == ["start_in_future", "ages_required"]

    assert await status_of(kit.db, bare) == "draft"
    assert await kit.db.fetchval("SELECT count(*) FROM pgqueuer") == 0


async def test_illegal_transitions(kit: Kit) -> None:
    host = await kit.host()

    async def act(event: dict[str, Any], action: str) -> int:
        r = await kit.client.post(f"/v1/events/{event['id']}/{action}", headers=bearer(host))
        if r.status_code == 409:
            assert r.json()["code"] == "invalid_transition"
        return r.status_code

    draft = await kit.draft(host)
    assert await act(draft, "cancel") == 409
    published = await kit.published(host)
    assert await act(published, "publish") == 409
    assert await act(published, "cancel") == 200
    assert await act(published, "cancel") == 409
    assert await act(published, "publish") == 409
    completed = await kit.published(host)
    await kit.db.execute(
        "UPDATE events SET status = 'completed', completed_at = now() WHERE id = $1",
        uuid.UUID(completed["id"]),
    )
    assert await act(completed, "cancel") == 409
    assert await act(completed, "publish") == 409
    assert [await status_of(kit.db, e) for e in (draft, published, completed)] == [
        "draft",
        "cancelled",
        "completed",
    ]


async def test_cancel_closes_open_invitations(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.published(host)
    invitations = {}
    for status in (
        "sent",
        "pending_payment",
        "confirmed",
        "declined",
        "expired",
        "payment_failed",
    ):
        invitations[status] = await kit.invite(event, await kit.person(), status)
    r = await kit.client.post(f"/v1/events/{event['id']}/cancel", headers=bearer(host))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "host"
    assert body["cancelled_at"] is not None
    after = {
        status: await kit.db.fetchval("SELECT status FROM invitations WHERE id = $1", i)
        for status, i in invitations.items()
    }
    assert after == {
        "sent": "cancelled",
        "pending_payment": "cancelled",
        "confirmed": "cancelled",
        "declined": "declined",
        "expired": "expired",
        "payment_failed": "payment_failed",
    }


async def test_cancel_event_is_safe_to_repeat(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.published(host)
    guest = await kit.invite(event, await kit.person(), "confirmed")
    event_id = uuid.UUID(event["id"])
    assert await cancel_event(kit.db, event_id, "too_few_attendees") is True
    first = await kit.db.fetchrow(
        "SELECT status, cancel_reason, cancelled_at FROM events WHERE id = $1", event_id
    )
    assert await cancel_event(kit.db, event_id, "host") is False
    assert (
        await kit.db.fetchrow(
            "SELECT status, cancel_reason, cancelled_at FROM events WHERE id = $1", event_id
        )
        == first
    )
    assert first["cancel_reason"] == "too_few_attendees"
    assert await kit.db.fetchval("SELECT status FROM invitations WHERE id = $1", guest) == (
        "cancelled"
    )
    assert await cancel_event(kit.db, uuid.uuid4(), "host") is False
    draft = await kit.draft(host)
    assert await cancel_event(kit.db, uuid.UUID(draft["id"]), "host") is False


async def test_complete_finished_events(kit: Kit) -> None:
    host = await kit.host()
    finished = await kit.published(host)
    upcoming = await kit.published(host)
    draft = await kit.draft(host)
    sent = await kit.invite(finished, await kit.person(), "sent")
    confirmed = await kit.invite(finished, await kit.person(), "confirmed")
    upcoming_sent = await kit.invite(upcoming, await kit.person(), "sent")
    now = datetime.now(UTC)
    # The finished event (and the draft) ended an hour ago.
    for event in (finished, draft):
        await kit.db.execute(
            "UPDATE event_itinerary_stops SET start_time = $2, end_time = $3 WHERE event_id = $1",
            uuid.UUID(event["id"]),
            now - timedelta(hours=3),
            now - timedelta(hours=1),
        )
        await kit.db.execute(
            "UPDATE events SET starts_at = $2, ends_at = $3 WHERE id = $1",
            uuid.UUID(event["id"]),
            now - timedelta(hours=3),
            now - timedelta(hours=1),
        )

    assert await complete_finished_events(kit.db, now) == 1
    row = await kit.db.fetchrow(
        "SELECT status, completed_at FROM events WHERE id = $1", uuid.UUID(finished["id"])
    )
    assert row["status"] == "completed" and row["completed_at"] == now
    assert [await status_of(kit.db, e) for e in (upcoming, draft)] == ["published", "draft"]
    statuses = [
        await kit.db.fetchval("SELECT status FROM invitations WHERE id = $1", i)
        for i in (sent, confirmed, upcoming_sent)
    ]
    assert statuses == ["expired", "confirmed", "sent"]
    assert await complete_finished_events(kit.db, now) == 0

    r = await kit.client.get(f"/v1/events/{finished['id']}", headers=bearer(host))
    assert r.json()["status"] == "completed"
    assert r.json()["completed_at"] is not None


async def test_concurrent_publishes_and_cancels_apply_once(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.draft(host)
    url = f"/v1/events/{event['id']}"
    results = await asyncio.gather(
        *(kit.client.post(f"{url}/publish", headers=bearer(host)) for _ in range(5))
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409, 409]
    assert await kit.db.fetchval("SELECT count(*) FROM pgqueuer") == 1
    results = await asyncio.gather(
        *(kit.client.post(f"{url}/cancel", headers=bearer(host)) for _ in range(5))
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409, 409]


async def test_a_transition_waits_for_the_one_in_progress(kit: Kit, database_url: str) -> None:
    """Publish holds the event's lock until it commits; a cancel arriving meanwhile
    waits, then sees the published event: neither change is lost."""
    host = await kit.host()
    event = await kit.draft(host)
    event_id = uuid.UUID(event["id"])
    first = await connect(database_url)
    second = await connect(database_url)
    try:
        publishing = first.transaction()
        await publishing.start()
        await publish_event(first, event_id)
        cancelling = asyncio.create_task(cancel_event(second, event_id, "host"))
        await asyncio.sleep(0.2)
        assert not cancelling.done()  # blocked on the row lock
        await publishing.commit()
        assert await cancelling is True
    finally:
        await first.close()
        await second.close()
    row = await kit.db.fetchrow(
        "SELECT status, published_at, cancel_reason FROM events WHERE id = $1", event_id
    )
    assert row["status"] == "cancelled" and row["published_at"] is not None


async def test_cancel_and_completion_race_one_wins(kit: Kit, database_url: str) -> None:
    host = await kit.host()
    for _ in range(5):
        event = await kit.published(host)
        event_id = uuid.UUID(event["id"])
        guest = await kit.invite(event, await kit.person(), "sent")
        await kit.db.execute(
            "UPDATE events SET ends_at = now() - interval '1 minute', "
            "starts_at = now() - interval '2 hours' WHERE id = $1",
            event_id,
        )
        first = await connect(database_url)
        second = await connect(database_url)
        try:
            cancelled, completed = await asyncio.gather(
                cancel_event(first, event_id, "too_few_attendees"),
                complete_finished_events(second, datetime.now(UTC)),
            )
        finally:
            await first.close()
            await second.close()
        assert (cancelled, completed) in ((True, 0), (False, 1))
        status = await status_of(kit.db, event)
        invitation = await kit.db.fetchval("SELECT status FROM invitations WHERE id = $1", guest)
        assert (status, invitation) == (
            ("cancelled", "cancelled") if cancelled else ("completed", "expired")
        )
