"""The loop this app exists for, end to end over HTTP and the WebSocket of a
real server whose job queue runs beside it (the embedded default):

a host publishes an event that starts a few minutes later; the matching wave
invites the people nearby and they accept; two of them check in at the place;
the lifecycle job completes it; both find each other in their Memory
Books; one opens a conversation and the other receives the first message live.
The third accepted but never came, and can do none of it.

The clock is the one thing moved by hand: the event's times are shifted in the
database where the story needs minutes or hours to pass, and the lifecycle job
(scheduled every minute: tests/workers/test_maintenance.py) is run at once
rather than waited for.
"""

from __future__ import annotations

import uuid

import httpx
from builders import Kit, move_event
from helpers import bearer, until

from tests.realtime.steps import Connect, Person, Serve
from workers.events import complete_events


async def _guest(kit: Kit, name: str) -> Person:
    """Someone living near the kit's place, free at short notice."""
    guest = await kit.person(name)
    r = await kit.client.patch(
        "/v1/me",
        headers=bearer(guest),
        json={
            "birth_date": "1994-05-01",
            "home_latitude": 40.731,
            "home_longitude": -74.001,
            "min_lead_time_days": 0,
        },
    )
    assert r.status_code == 200, r.text
    return guest


async def test_people_who_met_find_each_other_and_talk_live(
    kit: Kit, serve: Serve, ws: Connect
) -> None:
    live = await serve(run_workers_in_web=True)
    base = f"http://127.0.0.1:{live.ws_url.split(':')[2].split('/')[0]}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        host = await kit.host()
        ann, bob, cal = [await _guest(kit, name) for name in ("Ann", "Bob", "Cal")]
        location_id = await kit.location(host)
        r = await http.post(
            "/v1/events",
            headers=bearer(host),
            json={
                "title": "Evening walk",
                "min_attendees": 2,
                "max_attendees": 6,
                "age_min": 25,
                "age_max": 40,
                "stops": [kit.stop(location_id, 5 / 60, length_hours=1)],
            },
        )
        assert r.status_code == 201, r.text
        event_id = r.json()["id"]
        assert (
            await http.post(f"/v1/events/{event_id}/publish", headers=bearer(host))
        ).status_code == 200

        # The wave, run by the queue, invites all three; each accepts (a free event).
        async def invitation(guest: Person) -> str | None:
            r = await http.get("/v1/me/invitations", headers=bearer(guest))
            items = [i for i in r.json()["items"] if i["event_id"] == event_id]
            return items[0]["id"] if items else None

        invitations: dict[str, str] = {}

        async def all_invited() -> bool:
            for guest in (ann, bob, cal):
                found = await invitation(guest)
                if found:
                    invitations[guest["user_id"]] = found
            return len(invitations) == 3

        await until(all_invited, seconds=60, what="the wave did not invite all three")
        for guest in (ann, bob, cal):
            invitation_id = invitations[guest["user_id"]]
            r = await http.post(f"/v1/invitations/{invitation_id}/accept", headers=bearer(guest))
            assert r.status_code == 200, r.text
            assert r.json()["invitation"]["status"] == "confirmed"

        # A few minutes later the walk has begun: Ann and Bob check in at the place.
        await move_event(kit.db, event_id, start_hours=-0.1, length_hours=1)
        here = {"latitude": 40.73, "longitude": -74.0, "accuracy_meters": 12}
        for guest in (ann, bob):
            r = await http.post(f"/v1/events/{event_id}/check-in", headers=bearer(guest), json=here)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "attended"

        # It ends; the lifecycle job completes it.
        await move_event(kit.db, event_id, start_hours=-1.5, length_hours=1)
        await complete_events(live.app.state.db_pool)
        r = await http.get(f"/v1/events/{event_id}", headers=bearer(host))
        assert r.json()["status"] == "completed"

        async def book(guest: Person) -> list[str]:
            r = await http.get("/v1/me/connections", headers=bearer(guest))
            assert r.status_code == 200, r.text
            return [c["connected_profile_id"] for c in r.json()["items"]]

        assert await book(ann) == [bob["profile_id"]]
        assert await book(bob) == [ann["profile_id"]]
        assert await book(cal) == []

        # Ann opens a conversation; Bob, online, follows it; Ann writes first.
        bob_socket = await ws(live, bob)
        r = await http.post(
            "/v1/conversations", headers=bearer(ann), json={"profile_id": bob["profile_id"]}
        )
        assert r.status_code == 201, r.text
        conversation_id = r.json()["id"]
        await bob_socket.subscribe(f"conversation:{conversation_id}")
        r = await http.post(
            f"/v1/conversations/{conversation_id}/messages",
            headers=bearer(ann),
            json={"content": "So good to meet you!", "client_id": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text
        frame = await bob_socket.expect("message")
        assert frame["data"]["content"] == "So good to meet you!"

        # Cal never came: no conversation, no rating, no kudos, no late check-in.
        r = await http.post(
            "/v1/conversations", headers=bearer(cal), json={"profile_id": ann["profile_id"]}
        )
        assert r.status_code in (403, 404), r.text
        r = await http.post(
            f"/v1/events/{event_id}/rating",
            headers=bearer(cal),
            json={"host_rating_value": 5, "event_rating_value": 5},
        )
        assert r.status_code == 403, r.text
        r = await http.post(
            f"/v1/events/{event_id}/kudos",
            headers=bearer(cal),
            json={"receiver_profile_id": ann["profile_id"], "kudo": "great_listener"},
        )
        assert r.status_code == 403, r.text
        r = await http.post(f"/v1/events/{event_id}/check-in", headers=bearer(cal), json=here)
        assert r.status_code == 409, r.text
