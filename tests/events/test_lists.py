"""The host's dashboard, an event's invitations and attendees, and what no
response ever shows."""

from __future__ import annotations

import uuid
from typing import Any

from helpers import bearer, block

Kit = Any

ALL_STATUSES = (
    "sent",
    "pending_payment",
    "confirmed",
    "declined",
    "expired",
    "payment_failed",
    "cancelled",
)


async def test_hosted_events_dashboard(kit: Kit) -> None:
    host = await kit.host()
    other_host = await kit.host()
    await kit.draft(other_host)
    first = await kit.published(host)
    second = await kit.draft(host, title="Second")
    third = await kit.published(host, title="Third")
    for status in ("confirmed", "confirmed", "sent", "declined"):
        await kit.invite(first, await kit.person(), status)
    await kit.client.post(f"/v1/events/{third['id']}/cancel", headers=bearer(host))

    r = await kit.client.get("/v1/me/hosted-events", headers=bearer(host))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [e["id"] for e in items] == [third["id"], second["id"], first["id"]]
    assert [e["status"] for e in items] == ["cancelled", "draft", "published"]
    assert items[2]["invitation_counts"] == {
        **dict.fromkeys(ALL_STATUSES, 0),
        "confirmed": 2,
        "sent": 1,
        "declined": 1,
    }
    assert items[1]["invitation_counts"] == dict.fromkeys(ALL_STATUSES, 0)
    assert set(items[2]) == {
        "id",
        "host_id",
        "title",
        "status",
        "timezone",
        "starts_at",
        "ends_at",
        "min_attendees",
        "max_attendees",
        "confirmation_fee",
        "created_at",
        "published_at",
        "cancelled_at",
        "completed_at",
        "invitation_counts",
    }
    assert items[2]["starts_at"] is not None and items[2]["published_at"] is not None
    assert {e["host_id"] for e in items} == {host["host_id"]}

    page = await kit.client.get("/v1/me/hosted-events?limit=2", headers=bearer(host))
    assert [e["id"] for e in page.json()["items"]] == [third["id"], second["id"]]
    cursor = page.json()["next_cursor"]
    assert cursor
    rest = await kit.client.get(
        "/v1/me/hosted-events", params={"limit": 2, "cursor": cursor}, headers=bearer(host)
    )
    assert [e["id"] for e in rest.json()["items"]] == [first["id"]]
    assert rest.json()["next_cursor"] is None

    drafts = await kit.client.get("/v1/me/hosted-events?status=draft", headers=bearer(host))
    assert [e["id"] for e in drafts.json()["items"]] == [second["id"]]
    for query in ("status=finished", "limit=0", "cursor=garbage"):
        r = await kit.client.get(f"/v1/me/hosted-events?{query}", headers=bearer(host))
        assert r.status_code == 422, query


async def test_the_hosts_invitation_list(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.published(host)
    guests = []
    for n, status in enumerate(("sent", "confirmed", "declined", "confirmed", "expired")):
        guest = await kit.person(f"Guest {n}")
        await kit.invite(event, guest, status)
        guests.append(guest)
    await kit.db.execute("UPDATE invitations SET decline_reason = 'busy' WHERE status = 'declined'")
    await block(kit.db, guests[3], host)  # a confirmed guest blocks the host
    url = f"/v1/events/{event['id']}/invitations"

    r = await kit.client.get(url, headers=bearer(host))
    assert r.status_code == 200, r.text
    body = r.json()
    # Counts cover every seat; the list leaves out whoever stands behind a block.
    assert body["counts"] == {
        **dict.fromkeys(ALL_STATUSES, 0),
        "sent": 1,
        "confirmed": 2,
        "declined": 1,
        "expired": 1,
    }
    names = [item["profile"]["first_name"] for item in body["items"]]
    assert names == ["Guest 4", "Guest 2", "Guest 1", "Guest 0"]  # newest first
    item = body["items"][1]
    assert set(item) == {
        "id",
        "event_id",
        "profile_id",
        "status",
        "decline_reason",
        "match_reason",
        "created_at",
        "updated_at",
        "expires_at",
        "responded_at",
        "profile",
    }
    assert (item["status"], item["decline_reason"]) == ("declined", "busy")
    assert item["match_reason"] == "You both love long dinners"
    assert item["profile"]["id"] == item["profile_id"] == guests[2]["profile_id"]
    assert {i["event_id"] for i in body["items"]} == {event["id"]}
    assert {"photo_url", "preferred_name", "interests"} <= set(item["profile"])

    confirmed = await kit.client.get(f"{url}?status=confirmed", headers=bearer(host))
    assert [i["profile"]["first_name"] for i in confirmed.json()["items"]] == ["Guest 1"]
    assert confirmed.json()["counts"]["confirmed"] == 2
    assert (await kit.client.get(f"{url}?status=maybe", headers=bearer(host))).status_code == 422

    seen = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await kit.client.get(url, params=params, headers=bearer(host))).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in body["items"]]


async def test_attendees_are_paginated(kit: Kit) -> None:
    host = await kit.host()
    event = await kit.published(host)
    for n in range(5):
        await kit.invite(event, await kit.person(f"Guest {n}"), "confirmed")
    await kit.invite(event, await kit.person("Maybe"), "sent")
    url = f"/v1/events/{event['id']}/attendees"
    first = (await kit.client.get(f"{url}?limit=3", headers=bearer(host))).json()
    rest = (
        await kit.client.get(
            url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=bearer(host)
        )
    ).json()
    names = [p["first_name"] for p in first["items"] + rest["items"]]
    assert names == [f"Guest {n}" for n in (4, 3, 2, 1, 0)]
    assert rest["next_cursor"] is None


async def test_internal_columns_never_leave(kit: Kit) -> None:
    host = await kit.host()
    helper = await kit.person("Helper")
    attendee = await kit.person("Attendee")
    event = await kit.published(host)
    await kit.collaborator(host, event, helper)
    await kit.invite(event, attendee, "confirmed")
    await kit.db.execute(
        "UPDATE events SET event_vector = '[0.123456, 0.5]', embedding_model = 'secret-model-x', "
        "match_waves = 7, last_wave_at = now() WHERE id = $1",
        uuid.UUID(event["id"]),
    )
    await kit.db.execute("UPDATE invitations SET match_score = 0.654321, wave = 3")
    base = f"/v1/events/{event['id']}"
    texts = []
    for who in (host, helper, attendee):
        for path in (base, f"{base}/attendees", f"{base}/invitations", "/v1/me/hosted-events"):
            r = await kit.client.get(path, headers=bearer(who))
            texts.append(r.text)
    r = await kit.client.patch(base, headers=bearer(host), json={"title": "Renamed"})
    texts.append(r.text)
    for text in texts:
        for secret in (
            "event_vector",
            "embedding_model",
            "secret-model-x",
            "0.123456",
            "match_waves",
            "last_wave_at",
            "match_score",
            "0.654321",
            '"wave"',
        ):
            assert secret not in text
    # Other people's user ids (users.id) reach no one but the host.
    for text in texts[4:12]:
        for person in (host, helper, attendee):
            assert person["user_id"] not in text
