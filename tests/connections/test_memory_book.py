"""The Memory Book: written when an event completes, read and annotated by its
owner only."""

from __future__ import annotations

import uuid
from typing import Any

from builders import Kit, happening, met, move_event
from helpers import bearer, block

from server.events.lifecycle import complete_finished_events


async def book(kit: Kit, person: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = await kit.client.get("/v1/me/connections", headers=bearer(person), params=params)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


async def test_completion_writes_an_entry_for_every_pair_who_came_and_no_one_else(
    kit: Kit,
) -> None:
    from datetime import UTC, datetime

    host = await kit.host()
    ann, bob, cal, away, blocked = [await kit.person(n) for n in ("Ann", "Bob", "Cal", "Al", "Bo")]
    event = await happening(kit, host, ann, bob, cal, away, blocked)
    for person in (ann, bob, cal, blocked):
        await kit.db.execute(
            "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, 'attended')",
            uuid.UUID(event["id"]),
            uuid.UUID(person["profile_id"]),
        )
    await block(kit.db, blocked, ann)
    await move_event(kit.db, event["id"], start_hours=-3)
    assert await complete_finished_events(kit.db, datetime.now(UTC)) == 1

    pairs = await kit.db.fetch(
        "SELECT user_profile_id, connected_profile_id, event_id FROM connections"
    )
    ids = {
        p["profile_id"]: n for n, p in (("ann", ann), ("bob", bob), ("cal", cal), ("bo", blocked))
    }
    got = {(ids[str(r["user_profile_id"])], ids[str(r["connected_profile_id"])]) for r in pairs}
    everyone = {"ann", "bob", "cal", "bo"}
    expected = {(a, b) for a in everyone for b in everyone if a != b} - {
        ("ann", "bo"),
        ("bo", "ann"),
    }
    assert got == expected  # 4 people, 12 ordered pairs, less the blocked pair's two
    assert {r["event_id"] for r in pairs} == {uuid.UUID(event["id"])}
    assert (await book(kit, away))["items"] == []
    entry = next(
        e for e in (await book(kit, ann))["items"] if e["connected_profile_id"] == bob["profile_id"]
    )
    assert entry["connected_profile_snapshot_name"] == "Bob"
    assert entry["shared_event_count"] == 1


async def test_snapshots_stay_as_they_were_when_we_met(kit: Kit) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    photo = await kit.db.fetchval(
        "INSERT INTO profile_photos (profile_id, image_url, is_in_app_photo) "
        "VALUES ($1, 'photos/bob-then.jpg', true) RETURNING id",
        uuid.UUID(bob["profile_id"]),
    )
    await kit.db.execute(
        "UPDATE social_profiles SET current_face_card_photo_id = $2 WHERE id = $1",
        uuid.UUID(bob["profile_id"]),
        photo,
    )
    await met(kit, host, ann, bob)
    [before] = (await book(kit, ann))["items"]
    assert before["connected_profile_snapshot_face_card_url"].endswith("photos/bob-then.jpg")
    assert before["was_photo_authentic"] is True

    r = await kit.client.patch(
        "/v1/me/social-profile", headers=bearer(bob), json={"first_name": "Robert"}
    )
    assert r.status_code == 200, r.text
    r = await kit.client.delete(f"/v1/me/photos/{photo}", headers=bearer(bob))
    assert r.status_code == 204, r.text
    [after] = (await book(kit, ann))["items"]
    assert after == before
    # Meeting again changes nothing in the entry but the count of shared events.
    await met(kit, host, ann, bob)
    [again] = (await book(kit, ann))["items"]
    assert {**again, "shared_event_count": 1} == before
    assert again["shared_event_count"] == 2


async def test_the_owner_annotates_and_nobody_else_sees_or_touches_it(kit: Kit) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    await met(kit, host, ann, bob)
    [entry] = (await book(kit, ann))["items"]
    url = f"/v1/connections/{entry['id']}"
    r = await kit.client.patch(
        url,
        headers=bearer(ann),
        json={"is_favorite": True, "wants_to_connect_again": True, "private_notes": " Chess! "},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["is_favorite"], r.json()["private_notes"]) == (True, "Chess!")
    r = await kit.client.patch(
        url, headers=bearer(ann), json={"does_not_want_to_connect_again": True}
    )
    assert (r.status_code, r.json()["code"]) == (422, "conflicting_wishes")
    r = await kit.client.patch(url, headers=bearer(ann), json={"private_notes": "x" * 2001})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_notes")
    # Bob, the person the entry is about, and a stranger: as if it did not exist.
    stranger = await kit.person("Sam")
    for other in (bob, stranger):
        r = await kit.client.patch(url, headers=bearer(other), json={"is_favorite": False})
        assert r.status_code == 404
        assert (
            "Chess!" not in (await kit.client.get("/v1/me/connections", headers=bearer(other))).text
        )
    assert [e["id"] for e in (await book(kit, ann, favorite="true"))["items"]] == [entry["id"]]
    [bobs] = (await book(kit, bob))["items"]
    assert (bobs["wants_to_connect_again"], bobs["private_notes"]) == (False, None)


async def test_a_block_hides_the_entry_from_both_books(kit: Kit) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    await met(kit, host, ann, bob)
    [entry] = (await book(kit, ann))["items"]
    await block(kit.db, bob, ann)
    assert (await book(kit, ann))["items"] == [] and (await book(kit, bob))["items"] == []
    r = await kit.client.patch(
        f"/v1/connections/{entry['id']}", headers=bearer(ann), json={"is_favorite": True}
    )
    assert r.status_code == 404


async def test_pages_newest_first(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    others = [await kit.person(f"P{n}") for n in range(3)]
    for other in others:
        await met(kit, host, ann, other)
    first = await book(kit, ann, limit=2)
    second = await book(kit, ann, limit=2, cursor=first["next_cursor"])
    names = [e["connected_profile_snapshot_name"] for e in first["items"] + second["items"]]
    assert names == ["P2", "P1", "P0"] and second["next_cursor"] is None
