"""Who may see and do what with an event: the host, a collaborator, a confirmed
attendee, an invitee, a stranger, someone on either side of a block, nobody."""

from __future__ import annotations

import uuid
from typing import Any

from helpers import bearer, block

Kit = Any

CHEF_PHONE = "+12025550177"


async def cast(kit: Kit) -> dict[str, Any]:
    """A published event and one person in every relation to it."""
    host = await kit.host()
    people = {
        name: await kit.person(name.title())
        for name in (
            "collaborator",
            "attendee",
            "invitee",
            "declined",
            "stranger",
            "blocked_invitee",
            "blocking_collaborator",
        )
    }
    event = await kit.published(host)
    for name in ("collaborator", "blocking_collaborator"):
        r = await kit.client.post(
            f"/v1/events/{event['id']}/collaborators",
            headers=bearer(host),
            json={"user_id": people[name]["user_id"], "phone_number": CHEF_PHONE},
        )
        assert r.status_code == 201, r.text
    await kit.invite(event, people["attendee"], "confirmed")
    await kit.invite(event, people["invitee"], "sent")
    await kit.invite(event, people["declined"], "declined")
    await kit.invite(event, people["blocked_invitee"], "confirmed")
    await block(kit.db, host, people["blocked_invitee"])
    await block(kit.db, people["blocking_collaborator"], host)
    return {"host": host, "event": event, **people}


async def test_reading_an_event(kit: Kit) -> None:
    c = await cast(kit)
    url = f"/v1/events/{c['event']['id']}"

    assert (await kit.client.get(url)).status_code == 401
    for name in ("stranger", "blocked_invitee", "blocking_collaborator"):
        r = await kit.client.get(url, headers=bearer(c[name]))
        assert r.status_code == 404, name
        assert r.json()["code"] == "not_found"
    r = await kit.client.get(f"/v1/events/{uuid.uuid4()}", headers=bearer(c["host"]))
    assert r.status_code == 404

    seen = {}
    for name in ("host", "collaborator", "attendee", "invitee", "declined"):
        r = await kit.client.get(url, headers=bearer(c[name]))
        assert r.status_code == 200, (name, r.text)
        seen[name] = r.json()
    assert {name: body["viewer_role"] for name, body in seen.items()} == {
        "host": "host",
        "collaborator": "collaborator",
        "attendee": "attendee",
        "invitee": "invitee",
        "declined": "invitee",
    }
    for name in ("host", "collaborator", "attendee"):
        body = seen[name]
        assert body["arrival_signpost"] == "Ring the green door", name
        assert body["stops"][0]["location"]["address"] == "243 E 14th St", name
        assert body["stops"][0]["location_id"] is not None
    for name in ("invitee", "declined"):
        body = seen[name]
        assert body["arrival_signpost"] is None
        stop = body["stops"][0]
        assert stop["location"] is None and stop["location_id"] is None
        assert stop["title"] == "Dinner" and stop["start_time"] and stop["order"] == 1
        assert "243 E 14th St" not in str(body)
        assert body["starts_at"] == seen["host"]["starts_at"]

    # Collaborators' phone numbers and user ids are the host's only; the one
    # who blocked the host is listed to the host without a profile.
    host_view = seen["host"]["collaborators"]
    assert [x["phone_number"] for x in host_view] == [CHEF_PHONE, CHEF_PHONE]
    assert host_view[1]["user_id"] == c["blocking_collaborator"]["user_id"]
    assert host_view[1]["profile_id"] is None
    for name in ("collaborator", "attendee", "invitee"):
        listed = seen[name]["collaborators"]
        assert [x["profile_id"] for x in listed] == [
            c["collaborator"]["profile_id"],
            c["blocking_collaborator"]["profile_id"],
        ], name
        assert all(x["phone_number"] is None and x["user_id"] is None for x in listed)
        assert CHEF_PHONE not in str(seen[name])
    # A collaborator with a block between them and the viewer is not listed.
    await block(kit.db, c["invitee"], c["collaborator"])
    r = await kit.client.get(url, headers=bearer(c["invitee"]))
    assert [x["profile_id"] for x in r.json()["collaborators"]] == [
        c["blocking_collaborator"]["profile_id"]
    ]


async def test_only_the_host_changes_an_event(kit: Kit) -> None:
    c = await cast(kit)
    event = c["event"]
    url = f"/v1/events/{event['id']}"
    collab_id = (await kit.client.get(url, headers=bearer(c["host"]))).json()["collaborators"][0][
        "id"
    ]
    location = event["stops"][0]["location_id"]
    writes: list[tuple[str, str, Any]] = [
        ("PATCH", url, {"title": "Mine now"}),
        ("PUT", f"{url}/stops", [kit.stop(location, 48)]),
        ("POST", f"{url}/collaborators", {"first_name": "Sneaky"}),
        ("DELETE", f"{url}/collaborators/{collab_id}", None),
        ("POST", f"{url}/publish", None),
        ("POST", f"{url}/cancel", None),
        ("GET", f"{url}/invitations", None),
    ]
    for method, target, body in writes:
        r = await kit.client.request(method, target, json=body)
        assert r.status_code == 401, (method, target)
        for name in ("collaborator", "attendee", "invitee", "declined"):
            r = await kit.client.request(method, target, headers=bearer(c[name]), json=body)
            assert r.status_code == 403, (name, method, target, r.text)
            assert r.json()["code"] == "forbidden"
        for name in ("stranger", "blocked_invitee", "blocking_collaborator"):
            r = await kit.client.request(method, target, headers=bearer(c[name]), json=body)
            assert r.status_code == 404, (name, method, target, r.text)
            assert r.json()["code"] == "not_found"
    after = (await kit.client.get(url, headers=bearer(c["host"]))).json()
    assert after["title"] == event["title"] and after["status"] == "published"
    assert len(after["collaborators"]) == 2

    # The host may (within the event's state).
    assert (
        await kit.client.get(f"{url}/invitations", headers=bearer(c["host"]))
    ).status_code == 200
    r = await kit.client.post(f"{url}/cancel", headers=bearer(c["host"]))
    assert r.status_code == 200


async def test_who_sees_the_attendees(kit: Kit) -> None:
    c = await cast(kit)
    url = f"/v1/events/{c['event']['id']}/attendees"
    assert (await kit.client.get(url)).status_code == 401
    await block(kit.db, c["blocked_invitee"], c["attendee"])
    # Nobody sees anyone with a block between them and the viewer.
    expected = {
        "host": [c["attendee"]["profile_id"]],
        "attendee": [c["attendee"]["profile_id"]],
        "collaborator": [c["attendee"]["profile_id"], c["blocked_invitee"]["profile_id"]],
    }
    for name, profiles in expected.items():
        r = await kit.client.get(url, headers=bearer(c[name]))
        assert r.status_code == 200, name
        assert sorted(p["id"] for p in r.json()["items"]) == sorted(profiles), name
        assert all(p["first_name"] for p in r.json()["items"])
    for name in ("invitee", "declined"):
        r = await kit.client.get(url, headers=bearer(c[name]))
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"
    for name in ("stranger", "blocked_invitee", "blocking_collaborator"):
        assert (await kit.client.get(url, headers=bearer(c[name]))).status_code == 404


async def test_stop_locations_follow_the_event(kit: Kit) -> None:
    c = await cast(kit)
    location = c["event"]["stops"][0]["location_id"]
    url = f"/v1/locations/{location}"
    for name in ("host", "collaborator", "attendee"):
        r = await kit.client.get(url, headers=bearer(c[name]))
        assert r.status_code == 200, name
        assert r.json()["address"] == "243 E 14th St"
    for name in ("invitee", "declined", "stranger", "blocked_invitee", "blocking_collaborator"):
        assert (await kit.client.get(url, headers=bearer(c[name]))).status_code == 404, name
    # Cancelling cancels the attendee's place, and with it the address.
    r = await kit.client.post(f"/v1/events/{c['event']['id']}/cancel", headers=bearer(c["host"]))
    assert r.status_code == 200
    assert (await kit.client.get(url, headers=bearer(c["attendee"]))).status_code == 404
    assert (await kit.client.get(url, headers=bearer(c["collaborator"]))).status_code == 200


async def test_a_collaborator_sees_a_draft(kit: Kit) -> None:
    host = await kit.host()
    helper = await kit.person("Helper")
    event = await kit.draft(host)
    await kit.collaborator(host, event, helper)
    r = await kit.client.get(f"/v1/events/{event['id']}", headers=bearer(helper))
    assert r.status_code == 200
    assert r.json()["viewer_role"] == "collaborator"
    assert r.json()["arrival_signpost"] == "Ring the green door"


async def test_hosted_events_need_a_host(kit: Kit) -> None:
    person = await kit.person()
    assert (await kit.client.get("/v1/me/hosted-events")).status_code == 401
    r = await kit.client.get("/v1/me/hosted-events", headers=bearer(person))
    assert r.status_code == 409
    assert r.json()["code"] == "host_profile_required"
