"""Posting: content rules, seq allocation, idempotent retries, pagination."""

from __future__ import annotations

import uuid
from typing import Any

from boards.steps import STORAGE, Cast, post
from helpers import bearer, gather

from server.boards import service

Kit = Any


async def test_a_post_is_stored_as_the_list_shows_it(kit: Kit, cast: Cast) -> None:
    created = await post(kit.client, cast, "attendee", "  Running ten minutes late!\n")
    assert created["content"] == "Running ten minutes late!"
    assert created["seq"] == 1
    assert created["event_id"] == cast["event"]["id"]
    assert created["deleted"] is False
    r = await kit.client.get(cast["url"], headers=bearer(cast["host"]))
    assert r.json() == {"items": [created], "next_cursor": None}


async def test_content_is_one_to_two_thousand_characters(kit: Kit, cast: Cast) -> None:
    headers = bearer(cast["attendee"])
    for content in ("", "   \n\t", "x" * 2001):
        r = await kit.client.post(cast["url"], headers=headers, json={"content": content})
        assert r.status_code == 422, content
        assert r.json()["code"] == "invalid_content"
    for body in (
        {},
        {"content": 5},
        {"content": "x", "extra": 1},
        {"content": "x", "client_id": "nope"},
        # NUL anywhere in a JSON body (server/strict_body.py); the WebSocket's
        # send answers invalid_content (tests/realtime/test_channels.py).
        {"content": "nul\x00byte"},
    ):
        r = await kit.client.post(cast["url"], headers=headers, json=body)
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_error"
    assert (await post(kit.client, cast, "attendee", " " + "é" * 2000 + " "))["seq"] == 1
    assert (
        await kit.db.fetchval("SELECT last_post_seq FROM events WHERE id = $1", cast["event_id"])
        == 1
    )


async def test_twenty_concurrent_posts_get_seqs_one_to_twenty(kit: Kit, cast: Cast) -> None:
    authors = ["host", "collaborator", "attendee", "other_attendee"]
    responses = await gather(
        *(
            kit.client.post(
                cast["url"], headers=bearer(cast[authors[n % 4]]), json={"content": f"#{n}"}
            )
            for n in range(20)
        )
    )
    assert [r.status_code for r in responses] == [201] * 20
    assert sorted(r.json()["seq"] for r in responses) == list(range(1, 21))
    assert await service.board_last_seq(kit.db, cast["event_id"]) == 20
    # Seq order is commit order: replay sees them ascending with no gap.
    replay = await service.posts_since(kit.db, STORAGE, cast["event_id"], 0, 100)
    assert [p.seq for p in replay] == list(range(1, 21))
    assert [p.seq for p in await service.posts_since(kit.db, STORAGE, cast["event_id"], 15, 3)] == [
        16,
        17,
        18,
    ]


async def test_a_retry_with_the_same_client_id_returns_the_first_post(kit: Kit, cast: Cast) -> None:
    client_id = str(uuid.uuid4())
    first = await post(kit.client, cast, "attendee", "once", client_id=client_id)
    again = await post(kit.client, cast, "attendee", "once, edited", client_id=client_id)
    assert again == first
    # Concurrent retries: one post, every answer the same.
    other_id = str(uuid.uuid4())
    responses = await gather(
        *(
            kit.client.post(
                cast["url"],
                headers=bearer(cast["attendee"]),
                json={"content": "flaky network", "client_id": other_id},
            )
            for _ in range(10)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await kit.db.fetchval("SELECT count(*) FROM event_posts") == 2
    assert await service.board_last_seq(kit.db, cast["event_id"]) == 2
    # Someone else's client_id is theirs: no clash.
    theirs = await post(kit.client, cast, "other_attendee", "mine", client_id=client_id)
    assert theirs["seq"] == 3
    # The same key on another event is a client bug.
    other_event = await kit.published(cast["host"])
    host_key = str(uuid.uuid4())
    await post(kit.client, cast, "host", "here", client_id=host_key)
    r = await kit.client.post(
        f"/v1/events/{other_event['id']}/posts",
        headers=bearer(cast["host"]),
        json={"content": "there", "client_id": host_key},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "client_id_conflict"


async def test_create_post_tells_the_gateway_what_is_new(kit: Kit, cast: Cast) -> None:
    user_id = uuid.UUID(cast["attendee"]["user_id"])
    client_id = uuid.uuid4()
    created, new = await service.create_post(
        kit.db, STORAGE, user_id, cast["event_id"], "hi", client_id
    )
    again, new_again = await service.create_post(
        kit.db, STORAGE, user_id, cast["event_id"], "hi", client_id
    )
    assert (new, new_again) == (True, False)
    assert again == created


async def test_the_list_pages_newest_first(kit: Kit, cast: Cast) -> None:
    for n in range(1, 6):
        await post(kit.client, cast, "attendee", f"#{n}")
    headers = bearer(cast["host"])
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await kit.client.get(cast["url"], headers=headers, params=params)
        assert r.status_code == 200
        page = r.json()
        seen += [p["seq"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    r = await kit.client.get(cast["url"], headers=headers, params={"cursor": "garbage!"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_cursor"
