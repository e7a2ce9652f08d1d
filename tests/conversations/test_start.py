"""Starting a conversation: only between co-attendees, one per pair, never across a block."""

from __future__ import annotations

import uuid
from typing import Any

from builders import attended, inbox, start
from helpers import bearer, block, gather

Kit = Any


async def test_anonymous_callers_are_refused(kit: Kit) -> None:
    some = uuid.uuid4()
    for r in (
        await kit.client.get("/v1/conversations"),
        await kit.client.post("/v1/conversations", json={"profile_id": str(some)}),
        await kit.client.get(f"/v1/conversations/{some}/messages"),
        await kit.client.post(f"/v1/conversations/{some}/messages", json={"content": "x"}),
        await kit.client.post(f"/v1/conversations/{some}/read", json={"seq": 1}),
    ):
        assert r.status_code == 401
        assert r.json()["code"] == "unauthorized"


async def test_people_who_attended_together_start_one_conversation(kit: Kit) -> None:
    ann, bob = await kit.person("Ann"), await kit.person("Bob")
    await attended(kit, ann, bob)

    created = await start(kit, ann, bob, 201)
    assert created["other_profile"]["id"] == bob["profile_id"]
    assert created["other_profile"]["first_name"] == "Bob"
    assert created["last_message"] is None
    assert (created["unread_count"], created["last_seq"], created["other_last_read_seq"]) == (
        0,
        0,
        0,
    )
    # Again, from either side: the same conversation.
    assert (await start(kit, ann, bob, 200))["id"] == created["id"]
    from_bob = await start(kit, bob, ann, 200)
    assert from_bob["id"] == created["id"]
    assert from_bob["other_profile"]["id"] == ann["profile_id"]
    assert [c["id"] for c in (await inbox(kit, bob))["items"]] == [created["id"]]


async def test_concurrent_starts_make_one_conversation(kit: Kit) -> None:
    ann, bob = await kit.person("Ann"), await kit.person("Bob")
    await attended(kit, ann, bob)
    responses = await gather(
        *(
            kit.client.post(
                "/v1/conversations",
                headers=bearer(me),
                json={"profile_id": other["profile_id"]},
            )
            for me, other in [(ann, bob), (bob, ann)] * 5
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await kit.db.fetchval("SELECT count(*) FROM conversations") == 1
    assert await kit.db.fetchval("SELECT count(*) FROM conversation_participants") == 2


async def test_only_between_people_who_attended_an_event_together(kit: Kit) -> None:
    ann, bob, cat, dan = [await kit.person(n) for n in ("Ann", "Bob", "Cat", "Dan")]
    # Separate events; an invitation alone, or a no-show, is not attending.
    await attended(kit, ann)
    await attended(kit, bob)
    await attended(kit, ann, cat, status="no_show")
    await attended(kit, ann)
    for other in (bob, cat, dan):
        r = await kit.client.post(
            "/v1/conversations", headers=bearer(ann), json={"profile_id": other["profile_id"]}
        )
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "not_attended_together"
    assert await kit.db.fetchval("SELECT count(*) FROM conversations") == 0


async def test_refusals(kit: Kit) -> None:
    ann, bob = await kit.person("Ann"), await kit.person("Bob")
    await attended(kit, ann, bob)
    r = await kit.client.post(
        "/v1/conversations", headers=bearer(ann), json={"profile_id": ann["profile_id"]}
    )
    assert (r.status_code, r.json()["code"]) == (422, "cannot_message_self")
    r = await kit.client.post(
        "/v1/conversations", headers=bearer(ann), json={"profile_id": str(uuid.uuid4())}
    )
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    for body in ({}, {"profile_id": "nope"}, {"profile_id": bob["profile_id"], "x": 1}):
        r = await kit.client.post("/v1/conversations", headers=bearer(ann), json=body)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), body
    no_profile = await kit.sign_in()
    r = await kit.client.post(
        "/v1/conversations", headers=bearer(no_profile), json={"profile_id": bob["profile_id"]}
    )
    assert (r.status_code, r.json()["code"]) == (409, "social_profile_required")
    r = await kit.client.get("/v1/conversations", headers=bearer(no_profile))
    assert (r.status_code, r.json()["code"]) == (409, "social_profile_required")


async def test_never_across_a_block_either_way(kit: Kit) -> None:
    ann, bob, cat = await kit.person("Ann"), await kit.person("Bob"), await kit.person("Cat")
    await attended(kit, ann, bob, cat)
    await block(kit.db, ann, bob)
    await block(kit.db, cat, ann)
    for me, other in ((ann, bob), (bob, ann), (ann, cat), (cat, ann)):
        r = await kit.client.post(
            "/v1/conversations", headers=bearer(me), json={"profile_id": other["profile_id"]}
        )
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert await kit.db.fetchval("SELECT count(*) FROM conversations") == 0
