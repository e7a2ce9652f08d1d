"""Business changes tell the right people: cancellations, changes of an event,
reminders, invitations about to expire and rating prompts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from builders import Kit, Person
from helpers import bearer
from notifications.steps import user_id

from db.pool import create_pool
from server.events.lifecycle import cancel_event
from workers.reminders import send_event_reminders, send_expiring_notices, send_rating_prompts


async def told(db: asyncpg.Connection, kind: str) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await db.fetch("SELECT user_id, data FROM notifications WHERE kind = $1", kind)
    return {r["user_id"]: r["data"] for r in rows}


async def event_with_guests(
    kit: Kit, start_hours: float = 240, fee: int = 500
) -> tuple[Person, dict[str, Any], Person, Person]:
    host = await kit.host()
    stops = [kit.stop(await kit.location(host), start_hours, title="Dinner")]
    event = await kit.published(
        host, confirmation_fee=fee, max_attendees=6, min_attendees=1, stops=stops
    )
    confirmed, invited = await kit.person("Cleo"), await kit.person("Ines")
    await kit.invite(event, confirmed, status="confirmed")
    await kit.invite(event, invited, status="sent")
    return host, event, confirmed, invited


async def test_cancelling_tells_everyone_invited_and_who_gets_a_refund(kit: Kit) -> None:
    host, event, confirmed, invited = await event_with_guests(kit)
    outsider, collaborator = await kit.person(), await kit.person("Chef")
    await kit.collaborator(host, event, collaborator)
    r = await kit.client.post(f"/v1/events/{event['id']}/cancel", headers=bearer(host))
    assert r.status_code == 200, r.text
    cancelled = await told(kit.db, "event_cancelled")
    # The host cancelled it: everyone else hears, the host does not.
    assert set(cancelled) == {user_id(confirmed), user_id(invited), user_id(collaborator)}
    assert cancelled[user_id(confirmed)]["refund"] is True
    assert cancelled[user_id(invited)]["refund"] is False
    assert cancelled[user_id(collaborator)]["refund"] is False
    assert user_id(outsider) not in cancelled
    body = await kit.db.fetchval(
        "SELECT body FROM notifications WHERE user_id = $1", user_id(confirmed)
    )
    assert body.endswith("Your confirmation fee will be refunded.")


async def test_an_event_cancelled_for_too_few_attendees_tells_the_host_too(kit: Kit) -> None:
    host, event, confirmed, _ = await event_with_guests(kit)
    assert await cancel_event(kit.db, uuid.UUID(event["id"]), "too_few_attendees")
    cancelled = await told(kit.db, "event_cancelled")
    assert {user_id(host), user_id(confirmed)} <= set(cancelled)
    assert cancelled[user_id(host)]["refund"] is False


async def test_a_free_event_cancelled_promises_no_refund(kit: Kit) -> None:
    host, event, confirmed, _ = await event_with_guests(kit, fee=0)
    await kit.client.post(f"/v1/events/{event['id']}/cancel", headers=bearer(host))
    assert (await told(kit.db, "event_cancelled"))[user_id(confirmed)]["refund"] is False


async def test_a_failed_cancellation_tells_nobody(kit: Kit) -> None:
    host, event, *_ = await event_with_guests(kit)
    stranger = await kit.host("Other host")
    r = await kit.client.post(f"/v1/events/{event['id']}/cancel", headers=bearer(stranger))
    assert r.status_code in (403, 404)
    assert await told(kit.db, "event_cancelled") == {}
    del host


async def test_changing_what_attendees_see_tells_confirmed_people_only(kit: Kit) -> None:
    host, event, confirmed, invited = await event_with_guests(kit)
    r = await kit.client.patch(
        f"/v1/events/{event['id']}",
        headers=bearer(host),
        json={"arrival_signpost": "Blue door, ring twice"},
    )
    assert r.status_code == 200, r.text
    assert set(await told(kit.db, "event_updated")) == {user_id(confirmed)}

    # Growing the group is not news to attendees.
    r = await kit.client.patch(
        f"/v1/events/{event['id']}", headers=bearer(host), json={"max_attendees": 8}
    )
    assert r.status_code == 200, r.text
    count = await kit.db.fetchval("SELECT collapsed_count FROM notifications")
    assert count == 1
    del invited


async def test_reminders_a_day_and_two_hours_before_each_once(kit: Kit, database_url: str) -> None:
    _, soon, soon_guest, _ = await event_with_guests(kit, start_hours=1.5)
    _, tomorrow, tomorrow_guest, _ = await event_with_guests(kit, start_hours=20)
    _, later, later_guest, _ = await event_with_guests(kit, start_hours=30)
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        now = dt.datetime.now(dt.UTC)
        assert await send_event_reminders(pool, now) == 2
        assert await send_event_reminders(pool, now) == 0  # a repeated run tells no one again
        stages = {u: d["stage"] for u, d in (await told(kit.db, "event_reminder")).items()}
        assert stages == {user_id(soon_guest): "soon", user_id(tomorrow_guest): "day"}
        # Eighteen hours on, tomorrow's event is two hours away.
        assert await send_event_reminders(pool, now + dt.timedelta(hours=18, minutes=30)) >= 1
        rows = await kit.db.fetch(
            "SELECT data->>'stage' AS stage FROM notifications WHERE user_id = $1",
            user_id(tomorrow_guest),
        )
        assert sorted(r["stage"] for r in rows) == ["day", "soon"]
    finally:
        await pool.close()
    del soon, tomorrow, later, later_guest


async def test_invitations_about_to_expire_get_one_notice(kit: Kit, database_url: str) -> None:
    host, event, _, invited = await event_with_guests(kit)
    await kit.db.execute(
        "UPDATE invitations SET expires_at = now() + interval '2 hours' WHERE status = 'sent'"
    )
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        now = dt.datetime.now(dt.UTC)
        notice = dt.timedelta(hours=3)
        assert await send_expiring_notices(pool, now, notice) == 1
        assert await send_expiring_notices(pool, now, notice) == 0
    finally:
        await pool.close()
    assert set(await told(kit.db, "invitation_expiring")) == {user_id(invited)}
    del host, event


async def test_completed_events_ask_attendees_for_a_rating_once(
    kit: Kit, database_url: str
) -> None:
    _, event, confirmed, invited = await event_with_guests(kit)
    await kit.db.execute(
        "UPDATE events SET status = 'completed', completed_at = now() WHERE id = $1",
        uuid.UUID(event["id"]),
    )
    # Only who attended is asked (the prompt leads to POST /v1/events/{id}/rating).
    for person, status in ((confirmed, "attended"), (invited, "no_show")):
        await kit.db.execute(
            "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, $3)",
            uuid.UUID(event["id"]),
            uuid.UUID(person["profile_id"]),
            status,
        )
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        now = dt.datetime.now(dt.UTC)
        assert await send_rating_prompts(pool, now) == 1
        assert await send_rating_prompts(pool, now) == 0
    finally:
        await pool.close()
    assert set(await told(kit.db, "rating_prompt")) == {user_id(confirmed)}
