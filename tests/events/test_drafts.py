"""Creating and editing events: drafts, itineraries, collaborators."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from helpers import bearer, block

Kit = Any


async def test_create_a_draft_with_stops_and_collaborators(kit: Kit) -> None:
    host = await kit.host()
    chef = await kit.person("Chef")
    place = await kit.location(host)
    bar = await kit.location(host, "1 Bar St")
    first = kit.stop(place, 48, title="Dinner", description="Upstairs")
    second = kit.stop(bar, 50, 1.5, title="Drinks")
    r = await kit.client.post(
        "/v1/events",
        headers=bearer(host),
        json={
            "title": "Supper club",
            "description": "Six strangers, one long table",
            "min_attendees": 4,
            "max_attendees": 6,
            "age_min": 25,
            "age_max": 40,
            "arrival_signpost": "Green door",
            "confirmation_fee": 1500,
            "estimated_event_cost": {"range": "$$", "details": "for food"},
            "timezone": "America/Chicago",
            "stops": [first, second],
            "collaborators": [
                {"user_id": chef["user_id"], "role": "Chef"},
                {"first_name": "Sam", "last_name": "Lee", "phone_number": "(202) 555-0188"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["status"] == "draft"
    assert event["viewer_role"] == "host"
    assert event["host"] == {"id": host["host_id"], "host_name": "Ada's Walks"}
    assert event["price_level"] == 2
    assert event["estimated_event_cost"] == {"range": "$$", "details": "for food"}
    assert event["timezone"] == "America/Chicago"
    assert event["arrival_signpost"] == "Green door"
    assert [s["order"] for s in event["stops"]] == [1, 2]
    assert [s["title"] for s in event["stops"]] == ["Dinner", "Drinks"]
    assert event["stops"][0]["location"]["address"] == "243 E 14th St"
    assert event["stops"][1]["location_id"] == bar
    assert datetime.fromisoformat(event["starts_at"]) == datetime.fromisoformat(first["start_time"])
    assert datetime.fromisoformat(event["ends_at"]) == datetime.fromisoformat(second["end_time"])
    assert event["published_at"] is None and event["cancel_reason"] is None
    chef_row, sam = event["collaborators"]
    assert chef_row["profile_id"] == chef["profile_id"]
    assert chef_row["first_name"] == "Chef" and chef_row["role"] == "Chef"
    assert chef_row["user_id"] == chef["user_id"]
    assert sam["phone_number"] == "+12025550188"  # E.164
    assert sam["profile_id"] is None and sam["last_name"] == "Lee"

    again = await kit.client.get(f"/v1/events/{event['id']}", headers=bearer(host))
    assert again.status_code == 200
    assert again.json() == event


async def test_defaults_of_a_minimal_draft(kit: Kit) -> None:
    host = await kit.host()
    r = await kit.client.post("/v1/events", headers=bearer(host), json={"title": "Walk"})
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["timezone"] == "America/New_York"
    assert event["confirmation_fee"] == 0
    assert event["stops"] == [] and event["collaborators"] == []
    assert event["starts_at"] is None and event["ends_at"] is None
    assert event["estimated_event_cost"] is None and event["price_level"] is None


async def test_creating_needs_a_host_profile(kit: Kit) -> None:
    person = await kit.person()
    r = await kit.client.post("/v1/events", headers=bearer(person), json={"title": "Walk"})
    assert r.status_code == 409
    assert r.json()["code"] == "host_profile_required"


async def test_bad_drafts_are_refused(kit: Kit) -> None:
    host = await kit.host()
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "validation_error"),
        ({"title": ""}, "validation_error"),
        ({"title": "x" * 201}, "validation_error"),
        ({"title": "T", "description": "x" * 5001}, "validation_error"),
        ({"title": "T", "max_attendees": 101}, "validation_error"),
        ({"title": "T", "min_attendees": 0}, "validation_error"),
        ({"title": "T", "age_min": 17}, "validation_error"),
        ({"title": "T", "age_max": 121}, "validation_error"),
        ({"title": "T", "confirmation_fee": 100_001}, "validation_error"),
        ({"title": "T", "confirmation_fee": -1}, "validation_error"),
        ({"title": "T", "estimated_event_cost": {"range": "$$$$$"}}, "validation_error"),
        ({"title": "T", "estimated_event_cost": {"details": "food"}}, "validation_error"),
        ({"title": "T", "status": "published"}, "validation_error"),
        ({"title": "T", "event_vector": [1, 2]}, "validation_error"),
        ({"title": "T", "timezone": "Mars/Olympus"}, "invalid_timezone"),
        ({"title": "T", "timezone": "localtime"}, "invalid_timezone"),
        ({"title": "T", "min_attendees": 5, "max_attendees": 4}, "invalid_attendees"),
        ({"title": "T", "age_min": 40, "age_max": 30}, "invalid_ages"),
    ]
    for body, code in cases:
        r = await kit.client.post("/v1/events", headers=bearer(host), json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, body
    assert await kit.db.fetchval("SELECT count(*) FROM events") == 0


async def test_create_is_all_or_nothing(kit: Kit) -> None:
    host = await kit.host()
    stranger = await kit.host()
    mine = await kit.location(host)
    theirs = await kit.location(stranger)
    good = kit.stop(mine, 48)
    cases: list[tuple[dict[str, Any], int, str]] = [
        # Places and people the host may not know of are 404, as everywhere.
        ({"stops": [good, kit.stop(theirs, 51)]}, 404, "not_found"),
        ({"stops": [good, kit.stop(str(uuid.uuid4()), 51)]}, 404, "not_found"),
        ({"stops": [good, kit.stop(mine, 49)]}, 422, "invalid_stops"),  # overlaps
        (
            {"stops": [good], "collaborators": [{"role": "Chef"}]},
            422,
            "collaborator_name_required",
        ),
        ({"stops": [good], "collaborators": [{"user_id": str(uuid.uuid4())}]}, 404, "not_found"),
        ({"stops": [good], "collaborators": [{"user_id": host["user_id"]}]}, 422, "invalid_user"),
        ({"collaborators": [{"first_name": "Sam", "phone_number": "12"}]}, 422, "invalid_phone"),
    ]
    for extra, status, code in cases:
        r = await kit.client.post("/v1/events", headers=bearer(host), json={"title": "T", **extra})
        assert r.status_code == status, (extra, r.text)
        assert r.json()["code"] == code, extra
    twice = {"user_id": stranger["user_id"]}
    r = await kit.client.post(
        "/v1/events", headers=bearer(host), json={"title": "T", "collaborators": [twice, twice]}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "already_collaborator"
    for table in ("events", "event_itinerary_stops", "event_collaborators"):
        assert await kit.db.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_stops_replace_the_itinerary_and_set_the_span(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.draft(host)
    place = event["stops"][0]["location_id"]
    community = await kit.host("The Winslow")
    venue = await kit.location(community, "Community hall")
    r = await kit.client.put(
        "/v1/me/host-profile",
        headers=bearer(community),
        json={"host_name": "The Winslow", "host_type": "community", "location_id": venue},
    )
    assert r.status_code == 200
    stops = [
        kit.stop(place, 72, 1, title="Meet"),
        kit.stop(venue, 73, 2, title="Show"),  # touching the first is fine
        kit.stop(place, 76, 1, title="Nightcap"),
    ]
    url = f"/v1/events/{event['id']}/stops"
    r = await kit.client.put(url, headers=bearer(host), json=stops)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(s["order"], s["title"]) for s in body["stops"]] == [
        (1, "Meet"),
        (2, "Show"),
        (3, "Nightcap"),
    ]
    assert body["stops"][1]["location"]["address"] == "Community hall"
    assert datetime.fromisoformat(body["starts_at"]) == datetime.fromisoformat(
        stops[0]["start_time"]
    )
    assert datetime.fromisoformat(body["ends_at"]) == datetime.fromisoformat(stops[2]["end_time"])
    span = await kit.db.fetchrow(
        "SELECT starts_at, ends_at FROM events WHERE id = $1", uuid.UUID(event["id"])
    )
    assert span["starts_at"] == datetime.fromisoformat(stops[0]["start_time"])
    assert await kit.db.fetchval("SELECT count(*) FROM event_itinerary_stops") == 3

    zero = kit.stop(place, 10)
    bad: list[tuple[Any, str]] = [
        ([], "validation_error"),
        ([kit.stop(place, 10 + i, 0.5) for i in range(11)], "validation_error"),
        ([{**kit.stop(place, 10), "end_time": kit.at(9)}], "invalid_stops"),
        ([{**zero, "end_time": zero["start_time"]}], "invalid_stops"),
        ([kit.stop(place, 20), kit.stop(place, 10)], "invalid_stops"),  # out of order
        ([kit.stop(place, 10, 3), kit.stop(place, 12)], "invalid_stops"),  # overlap
        ([{**kit.stop(place, 10), "start_time": "2030-01-01T10:00:00"}], "validation_error"),
        ([{**kit.stop(place, 10), "extra": 1}], "validation_error"),
    ]
    for body, code in bad:
        r = await kit.client.put(url, headers=bearer(host), json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, body
    unknown = [kit.stop(place, 10), kit.stop(str(uuid.uuid4()), 13)]
    r = await kit.client.put(url, headers=bearer(host), json=unknown)
    assert r.status_code == 404
    assert "stop 2" in r.json()["detail"]
    # Nothing changed.
    assert await kit.db.fetchval("SELECT count(*) FROM event_itinerary_stops") == 3


async def test_a_blocked_community_host_place_is_not_usable(
    kit: Kit, db_conn: asyncpg.Connection
) -> None:
    host = await kit.host()
    community = await kit.host("The Winslow")
    venue = await kit.location(community, "Community hall")
    await kit.client.put(
        "/v1/me/host-profile",
        headers=bearer(community),
        json={"host_name": "The Winslow", "host_type": "community", "location_id": venue},
    )
    event = await kit.draft(host)
    for blocker, blocked in ((community, host), (host, community)):
        await block(db_conn, blocker, blocked)
        r = await kit.client.post(
            "/v1/events", headers=bearer(host), json={"title": "T", "stops": [kit.stop(venue, 48)]}
        )
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
        r = await kit.client.put(
            f"/v1/events/{event['id']}/stops", headers=bearer(host), json=[kit.stop(venue, 48)]
        )
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
        await db_conn.execute("DELETE FROM blocked_users")


async def test_patch_a_draft(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.draft(host)
    url = f"/v1/events/{event['id']}"
    await kit.db.execute(
        "UPDATE events SET event_vector = '[1,2,3]', embedding_model = 'm' WHERE id = $1",
        uuid.UUID(event["id"]),
    )
    r = await kit.client.patch(
        url,
        headers=bearer(host),
        json={
            "confirmation_fee": 500,
            "timezone": "Europe/Paris",
            "estimated_event_cost": {"range": "$"},
            "arrival_signpost": None,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["confirmation_fee"], body["timezone"], body["price_level"]) == (
        500,
        "Europe/Paris",
        1,
    )
    assert body["estimated_event_cost"] == {"range": "$", "details": None}
    assert body["arrival_signpost"] is None
    assert body["title"] == "Supper club"
    stored = await kit.db.fetchrow(
        "SELECT event_vector IS NOT NULL AS has_vector, embedding_model FROM events WHERE id = $1",
        uuid.UUID(event["id"]),
    )
    assert stored["has_vector"] and stored["embedding_model"] == "m"  # no text changed

    r = await kit.client.patch(url, headers=bearer(host), json={"description": "New words"})
    assert r.status_code == 200
    stored = await kit.db.fetchrow(
        "SELECT event_vector, embedding_model FROM events WHERE id = $1", uuid.UUID(event["id"])
    )
    assert stored["event_vector"] is None and stored["embedding_model"] is None

    for body, code in [
        ({"min_attendees": 7}, "invalid_attendees"),  # max is 6
        ({"age_max": 20}, "invalid_ages"),  # min is 25
        ({"timezone": "Nowhere"}, "invalid_timezone"),
        ({"title": None}, "validation_error"),
        ({"stops": []}, "validation_error"),
        ({"status": "published"}, "validation_error"),
    ]:
        r = await kit.client.patch(url, headers=bearer(host), json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, body
    r = await kit.client.patch(url, headers=bearer(host), json={"max_attendees": None})
    assert r.status_code == 200
    assert r.json()["max_attendees"] is None


async def test_published_events_change_only_what_invitees_did_not_accept(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.published(host)
    url = f"/v1/events/{event['id']}"
    r = await kit.client.patch(
        url,
        headers=bearer(host),
        json={
            "title": "Supper club II",
            "arrival_signpost": "Blue door",
            "max_attendees": 8,
            "min_attendees": 1,
            "timezone": event["timezone"],  # unchanged values are no change
            "confirmation_fee": event["confirmation_fee"],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["title"], body["max_attendees"], body["min_attendees"]) == (
        "Supper club II",
        8,
        1,
    )
    jobs = await kit.db.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'match_event'")
    assert jobs >= 1

    for patch, named in [
        ({"confirmation_fee": 100}, "confirmation_fee"),
        ({"age_min": 30, "title": "x"}, "age_min"),
        ({"timezone": "Europe/Paris"}, "timezone"),
        ({"estimated_event_cost": {"range": "$$$$"}}, "estimated_event_cost"),
        ({"max_attendees": 7}, "max_attendees"),
        ({"max_attendees": None}, "max_attendees"),
        ({"min_attendees": 2}, "min_attendees"),
    ]:
        r = await kit.client.patch(url, headers=bearer(host), json=patch)
        assert r.status_code == 409, (patch, r.text)
        assert r.json()["code"] == "event_locked"
        assert named in r.json()["detail"]
    assert (await kit.client.get(url, headers=bearer(host))).json()["title"] == "Supper club II"

    r = await kit.client.put(
        f"{url}/stops", headers=bearer(host), json=[kit.stop(body["stops"][0]["location_id"], 50)]
    )
    assert r.status_code == 409
    assert r.json()["code"] == "event_locked"


async def test_finished_events_cannot_change(kit: Kit) -> None:
    host = await kit.host()
    for final in ("cancelled", "completed"):
        event = await kit.published(host)
        await kit.db.execute(
            "UPDATE events SET status = $2 WHERE id = $1", uuid.UUID(event["id"]), final
        )
        url = f"/v1/events/{event['id']}"
        r = await kit.client.patch(url, headers=bearer(host), json={"title": "New"})
        assert r.status_code == 409
        assert r.json()["code"] == "event_locked"
        same = await kit.client.patch(url, headers=bearer(host), json={"title": event["title"]})
        assert same.status_code == 200
        r = await kit.client.post(
            f"{url}/collaborators", headers=bearer(host), json={"first_name": "Sam"}
        )
        assert r.status_code == 409
        assert r.json()["code"] == "event_locked"
        collab = event["collaborators"]
        assert collab == []


async def test_collaborators(kit: Kit, db_conn: asyncpg.Connection) -> None:
    host = await kit.host()
    friend = await kit.person("Friend")
    blocked = await kit.person("Blocked")
    await block(db_conn, blocked, host)
    hidden = await kit.person("Hidden")
    await block(db_conn, host, hidden)
    event = await kit.published(host)
    url = f"/v1/events/{event['id']}/collaborators"

    r = await kit.client.post(url, headers=bearer(host), json={"profile_id": friend["profile_id"]})
    assert r.status_code == 201, r.text
    added = r.json()
    assert added["user_id"] == friend["user_id"]
    assert added["first_name"] == "Friend"
    r = await kit.client.post(url, headers=bearer(host), json={"user_id": friend["user_id"]})
    assert r.status_code == 409
    assert r.json()["code"] == "already_collaborator"

    # A block either way, or nobody by that id: 404, the same answer.
    for body in [
        {"user_id": blocked["user_id"]},
        {"profile_id": blocked["profile_id"]},
        {"user_id": hidden["user_id"]},
        {"profile_id": hidden["profile_id"]},
        {"profile_id": str(uuid.uuid4())},
        {"user_id": friend["user_id"], "profile_id": blocked["profile_id"]},
    ]:
        r = await kit.client.post(url, headers=bearer(host), json=body)
        assert r.status_code == 404, (body, r.text)
        assert r.json()["code"] == "not_found", body
    for body, code in [
        ({"last_name": "Lee"}, "collaborator_name_required"),
        ({"user_id": host["user_id"]}, "invalid_user"),
        ({"first_name": "Sam", "phone_number": "not a phone"}, "invalid_phone"),
        ({"first_name": ""}, "validation_error"),
        ({"first_name": "Sam", "is_host": True}, "validation_error"),
    ]:
        r = await kit.client.post(url, headers=bearer(host), json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, body

    for n in range(19):
        r = await kit.client.post(url, headers=bearer(host), json={"first_name": f"Helper {n}"})
        assert r.status_code == 201
    r = await kit.client.post(url, headers=bearer(host), json={"first_name": "One too many"})
    assert r.status_code == 409
    assert r.json()["code"] == "too_many_collaborators"

    r = await kit.client.delete(f"{url}/{added['id']}", headers=bearer(host))
    assert r.status_code == 204
    r = await kit.client.delete(f"{url}/{added['id']}", headers=bearer(host))
    assert r.status_code == 404
    other = await kit.draft(host)
    helper = (await kit.client.get(f"/v1/events/{event['id']}", headers=bearer(host))).json()[
        "collaborators"
    ][0]
    r = await kit.client.delete(
        f"/v1/events/{other['id']}/collaborators/{helper['id']}", headers=bearer(host)
    )
    assert r.status_code == 404
