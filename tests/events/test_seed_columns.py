"""Objects keep the seed's columns beside the nested objects that stand for them,
on every route that returns them (docs/API_NOTES.md "Seed columns")."""

from __future__ import annotations

from builders import Kit, met
from helpers import bearer


async def test_events_and_invitations_name_their_host_event_and_profile(kit: Kit) -> None:
    host, guest = await kit.host(), await kit.person("Guest")
    event = await kit.published(host)
    await kit.invite(event, guest)
    assert (event["host_id"], event["host"]["id"]) == (host["host_id"], host["host_id"])
    r = await kit.client.get(f"/v1/events/{event['id']}", headers=bearer(guest))
    assert r.json()["host_id"] == host["host_id"]

    mine = (await kit.client.get("/v1/me/invitations", headers=bearer(guest))).json()["items"]
    assert [(i["event_id"], i["profile_id"]) for i in mine] == [(event["id"], guest["profile_id"])]
    assert mine[0]["event"]["host_id"] == mine[0]["event"]["host"]["id"] == host["host_id"]
    r = await kit.client.post(f"/v1/invitations/{mine[0]['id']}/accept", headers=bearer(guest))
    accepted = r.json()["invitation"]
    assert (accepted["profile_id"], accepted["event"]["host_id"]) == (
        guest["profile_id"],
        host["host_id"],
    )
    upcoming = (await kit.client.get("/v1/me/events", headers=bearer(guest))).json()["items"]
    assert [e["event"]["host_id"] for e in upcoming] == [host["host_id"]]

    url = f"/v1/events/{event['id']}/invitations"
    listed = (await kit.client.get(url, headers=bearer(host))).json()["items"]
    assert [(i["event_id"], i["profile_id"], i["profile"]["id"]) for i in listed] == [
        (event["id"], guest["profile_id"], guest["profile_id"])
    ]


async def test_the_host_page_names_its_place_and_spells_event_times_as_events_do(
    kit: Kit,
) -> None:
    community = await kit.community_host("The Winslow")
    ann, bob = await kit.person("Ann"), await kit.person("Bob")
    page = (await kit.client.get(f"/v1/hosts/{community['host_id']}", headers=bearer(ann))).json()
    assert page["location_id"] == page["location"]["id"] == community["location_id"]

    host = await kit.host()
    event = await met(kit, host, ann, bob)
    page = (await kit.client.get(f"/v1/hosts/{host['host_id']}", headers=bearer(ann))).json()
    assert page["location_id"] is None  # a user host has no place of its own
    [past] = page["event_history"]
    shown = (await kit.client.get(f"/v1/events/{event['id']}", headers=bearer(host))).json()
    assert (past["starts_at"], past["ends_at"]) == (shown["starts_at"], shown["ends_at"])
    assert "started_at" not in past and "ended_at" not in past
