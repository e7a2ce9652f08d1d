"""POST /v1/events/{id}/check-in: who, where, when, and only once."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from builders import Kit, happening, move_event, start
from helpers import block, gather

from tests.attendance.steps import check_in


async def _rows(db: asyncpg.Connection, event: dict[str, Any]) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT profile_id, status, source, check_in_latitude FROM attendance WHERE event_id = $1",
        uuid.UUID(event["id"]),
    )


async def test_just_inside_the_radius_attends_and_just_outside_is_too_far(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)

    far = await check_in(kit.client, ann, event, meters=201)
    assert far.status_code == 422, far.text
    assert far.json()["code"] == "too_far"
    assert far.json()["detail"].startswith("You are 201 m from the stop")
    assert await _rows(kit.db, event) == []
    attempts = await kit.db.fetchval(
        "SELECT attempts FROM check_in_attempts WHERE event_id = $1", uuid.UUID(event["id"])
    )
    assert attempts == 1

    near = await check_in(kit.client, ann, event, meters=199, accuracy_meters=8)
    assert near.status_code == 200, near.text
    body = near.json()
    assert (body["status"], body["source"], body["check_in_accuracy_meters"]) == (
        "attended",
        "check_in",
        8,
    )
    assert body["check_in_stop_id"] == event["stops"][0]["id"]
    [row] = await _rows(kit.db, event)
    assert row["status"] == "attended" and row["check_in_latitude"] is not None


async def test_the_window_opens_before_the_start_and_closes_at_the_end(kit: Kit) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    event = await happening(kit, host, ann, bob, start_hours=31 / 60)  # opens in a minute
    r = await check_in(kit.client, ann, event)
    assert (r.status_code, r.json()["code"]) == (409, "outside_window")
    await move_event(kit.db, event["id"], start_hours=29 / 60)  # its first minute
    assert (await check_in(kit.client, ann, event)).status_code == 200
    await move_event(kit.db, event["id"], start_hours=-2 + 1 / 60)  # its last minute
    assert (await check_in(kit.client, bob, event)).status_code == 200
    await move_event(kit.db, event["id"], start_hours=-2 - 1 / 60)  # a minute after
    other = await kit.person("Cal")
    await kit.invite(event, other, "confirmed")
    r = await check_in(kit.client, other, event)
    assert (r.status_code, r.json()["code"]) == (409, "outside_window")


async def test_the_current_stop_moves_with_the_itinerary(kit: Kit) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    first, second = await kit.location(host), await kit.location(host, "1 Far Away Rd")
    await kit.db.execute(
        "UPDATE locations SET latitude = 40.80, longitude = -73.95 WHERE id = $1",
        uuid.UUID(second),
    )
    stops = [kit.stop(first, 48, 1), kit.stop(second, 49, 1)]
    event = await happening(kit, host, ann, bob, start_hours=-0.5, length_hours=1, stops=stops)
    # First stop under way: its place counts, the second's does not.
    r = await kit.client.post(
        f"/v1/events/{event['id']}/check-in",
        headers={"Authorization": f"Bearer {ann['access_token']}"},
        json={"latitude": 40.80, "longitude": -73.95},
    )
    assert r.json()["code"] == "too_far", r.text
    assert (await check_in(kit.client, ann, event)).status_code == 200
    # An hour on, the second stop is the current one.
    await move_event(kit.db, event["id"], start_hours=-1.5, length_hours=1)
    r = await kit.client.post(
        f"/v1/events/{event['id']}/check-in",
        headers={"Authorization": f"Bearer {bob['access_token']}"},
        json={"latitude": 40.80, "longitude": -73.95},
    )
    assert r.status_code == 200, r.text
    assert r.json()["check_in_stop_id"] == event["stops"][1]["id"]


async def test_outsiders_the_declined_and_the_blocked_cannot_check_in(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    stranger, declined, blocked = [await kit.person(n) for n in ("Sam", "Dee", "Bo")]
    event = await happening(kit, host, ann, blocked)
    await kit.invite(event, declined, "declined")
    await block(kit.db, host, blocked)
    assert (await check_in(kit.client, stranger, event)).status_code == 404
    assert (await check_in(kit.client, blocked, event)).status_code == 404
    r = await check_in(kit.client, declined, event)
    assert (r.status_code, r.json()["code"]) == (403, "not_confirmed")
    r = await check_in(kit.client, host, event)
    assert (r.status_code, r.json()["code"]) == (403, "not_confirmed")
    assert await _rows(kit.db, event) == []


async def test_coordinates_are_range_checked(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)
    for body in ({"latitude": 91, "longitude": 0}, {"latitude": 0, "longitude": -181}, {}):
        r = await kit.client.post(
            f"/v1/events/{event['id']}/check-in",
            headers={"Authorization": f"Bearer {ann['access_token']}"},
            json=body,
        )
        assert r.status_code == 422, body


async def test_a_repeat_answers_the_same_and_concurrent_ones_make_one_row(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)
    answers = await gather(*(check_in(kit.client, ann, event, meters=10 + n) for n in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.json()["check_in_latitude"] for a in answers}) == 1  # the first one's
    again = await check_in(kit.client, ann, event, meters=150)
    assert again.json() == answers[0].json()
    assert len(await _rows(kit.db, event)) == 1


async def test_checking_in_together_opens_conversations(kit: Kit) -> None:
    host, ann, bob, cal = await kit.host(), *[await kit.person(n) for n in ("Ann", "Bob", "Cal")]
    event = await happening(kit, host, ann, bob, cal)
    for person in (ann, bob):
        assert (await check_in(kit.client, person, event)).status_code == 200
    await start(kit, ann, bob, expect=201)
    await start(kit, cal, ann, expect=403)
