"""Messages: who may read and send, seq allocation, idempotent retries, read
markers and unread counts, blocks, the inbox's order."""

from __future__ import annotations

import uuid
from typing import Any

from builders import Person, attended, inbox, send, start
from helpers import bearer, block, gather

from server.conversations import service

Kit = Any


async def pair(kit: Kit) -> tuple[Person, Person, dict[str, Any]]:
    ann, bob = await kit.person("Ann"), await kit.person("Bob")
    await attended(kit, ann, bob)
    return ann, bob, await start(kit, ann, bob)


def uid(person: Person) -> uuid.UUID:
    return uuid.UUID(person["user_id"])


async def test_participants_send_and_read(kit: Kit) -> None:
    ann, bob, conversation = await pair(kit)
    first = await send(kit, ann, conversation, "  Great dinner!  ")
    second = await send(kit, bob, conversation, "It was")
    assert (first["seq"], first["content"], first["sender_profile_id"]) == (
        1,
        "Great dinner!",
        ann["profile_id"],
    )
    assert second["seq"] == 2
    url = f"/v1/conversations/{conversation['id']}/messages"
    for who in (ann, bob):
        r = await kit.client.get(url, headers=bearer(who))
        assert r.json() == {"items": [second, first], "next_cursor": None}
    for content in ("", "  ", "x" * 2001):
        r = await kit.client.post(url, headers=bearer(ann), json={"content": content})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_content")


async def test_nobody_else_gets_in(kit: Kit) -> None:
    ann, _bob, conversation = await pair(kit)
    await send(kit, ann, conversation)
    # Someone with their own conversation, a stranger, an unknown id: all 404.
    cat, dan = await kit.person("Cat"), await kit.person("Dan")
    await attended(kit, cat, dan)
    theirs = await start(kit, cat, dan)
    base = f"/v1/conversations/{conversation['id']}"
    for who, url in (
        (cat, base),
        (await kit.person("Eve"), base),
        (ann, f"/v1/conversations/{uuid.uuid4()}"),
        (ann, f"/v1/conversations/{theirs['id']}"),
    ):
        for method, path, body in (
            ("GET", "/messages", None),
            ("POST", "/messages", {"content": "x"}),
            ("POST", "/read", {"seq": 1}),
        ):
            r = await kit.client.request(method, url + path, headers=bearer(who), json=body)
            assert (r.status_code, r.json()["code"]) == (404, "not_found"), (method, path)
    assert (
        await service.conversation_access(kit.db, uid(cat), uuid.UUID(conversation["id"])) is None
    )
    assert await service.conversation_access(
        kit.db, uid(ann), uuid.UUID(conversation["id"])
    ) == uuid.UUID(ann["profile_id"])


async def test_a_block_makes_the_conversation_disappear_for_both(kit: Kit) -> None:
    ann, bob, conversation = await pair(kit)
    await send(kit, ann, conversation, "see you")
    await block(kit.db, bob, ann)
    base = f"/v1/conversations/{conversation['id']}"
    for who in (ann, bob):
        assert (await inbox(kit, who))["items"] == []
        r = await kit.client.get(base + "/messages", headers=bearer(who))
        assert r.status_code == 404
        r = await kit.client.post(base + "/messages", headers=bearer(who), json={"content": "x"})
        assert r.status_code == 404
        r = await kit.client.post(base + "/read", headers=bearer(who), json={"seq": 1})
        assert r.status_code == 404
        r = await kit.client.post(
            "/v1/conversations",
            headers=bearer(who),
            json={"profile_id": (bob if who is ann else ann)["profile_id"]},
        )
        assert r.status_code == 404
        assert (
            await service.conversation_access(kit.db, uid(who), uuid.UUID(conversation["id"]))
            is None
        )
    assert await service.conversation_last_seq(kit.db, uuid.UUID(conversation["id"])) == 1
    # Lifting the block brings it back, history intact.
    await kit.db.execute("DELETE FROM blocked_users")
    assert [c["id"] for c in (await inbox(kit, ann))["items"]] == [conversation["id"]]


async def test_twenty_concurrent_messages_get_seqs_one_to_twenty(kit: Kit) -> None:
    ann, bob, conversation = await pair(kit)
    url = f"/v1/conversations/{conversation['id']}/messages"
    responses = await gather(
        *(
            kit.client.post(url, headers=bearer(ann if n % 2 else bob), json={"content": f"#{n}"})
            for n in range(20)
        )
    )
    assert [r.status_code for r in responses] == [201] * 20
    assert sorted(r.json()["seq"] for r in responses) == list(range(1, 21))
    replay = await service.messages_since(kit.db, uuid.UUID(conversation["id"]), 0, 50)
    assert [m.seq for m in replay] == list(range(1, 21))
    assert await service.conversation_last_seq(kit.db, uuid.UUID(conversation["id"])) == 20


async def test_a_retry_with_the_same_client_id_returns_the_first_message(kit: Kit) -> None:
    ann, bob, conversation = await pair(kit)
    client_id = str(uuid.uuid4())
    first = await send(kit, ann, conversation, "once", client_id=client_id)
    assert await send(kit, ann, conversation, "twice?", client_id=client_id) == first
    url = f"/v1/conversations/{conversation['id']}/messages"
    other_id = str(uuid.uuid4())
    responses = await gather(
        *(
            kit.client.post(
                url, headers=bearer(ann), json={"content": "retry", "client_id": other_id}
            )
            for _ in range(10)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await kit.db.fetchval("SELECT count(*) FROM messages") == 2
    assert (await inbox(kit, bob))["items"][0]["last_seq"] == 2
    # The other person's keys are theirs.
    assert (await send(kit, bob, conversation, "mine", client_id=client_id))["seq"] == 3
    # The same key in another conversation: 409.
    cat = await kit.person("Cat")
    await attended(kit, ann, cat)
    elsewhere = await start(kit, ann, cat)
    r = await kit.client.post(
        f"/v1/conversations/{elsewhere['id']}/messages",
        headers=bearer(ann),
        json={"content": "x", "client_id": client_id},
    )
    assert (r.status_code, r.json()["code"]) == (409, "client_id_conflict")
    created, new = await service.create_message(
        kit.db, uid(ann), uuid.UUID(conversation["id"]), "again", uuid.UUID(client_id)
    )
    assert (new, created.id) == (False, uuid.UUID(first["id"]))


async def test_read_markers_and_unread_counts(kit: Kit) -> None:
    ann, bob, conversation = await pair(kit)
    read_url = f"/v1/conversations/{conversation['id']}/read"
    for n in range(3):
        await send(kit, bob, conversation, f"#{n}")

    async def view(who: Person) -> dict[str, Any]:
        item: dict[str, Any] = (await inbox(kit, who))["items"][0]
        return item

    assert (await view(ann))["unread_count"] == 3
    assert (await view(bob))["unread_count"] == 0  # one's own messages are read
    assert (await view(ann))["last_message"]["content"] == "#2"

    r = await kit.client.post(read_url, headers=bearer(ann), json={"seq": 2})
    assert r.status_code == 204
    assert ((await view(ann))["unread_count"], (await view(ann))["last_read_seq"]) == (1, 2)
    assert (await view(bob))["other_last_read_seq"] == 2
    # Never backwards; beyond the end marks everything.
    await kit.client.post(read_url, headers=bearer(ann), json={"seq": 1})
    assert (await view(bob))["other_last_read_seq"] == 2
    await kit.client.post(read_url, headers=bearer(ann), json={"seq": 999})
    assert (await view(ann))["unread_count"] == 0
    assert (await view(bob))["other_last_read_seq"] == 3
    for body in ({"seq": -1}, {"seq": 1.5}, {}):
        r = await kit.client.post(read_url, headers=bearer(ann), json=body)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), body
    # Sending moves my own marker; the gateway's calls store the same marker.
    await send(kit, bob, conversation, "#3")
    await send(kit, ann, conversation, "reply")
    assert ((await view(ann))["unread_count"], (await view(ann))["last_read_seq"]) == (0, 5)
    assert (await view(bob))["unread_count"] == 1
    conversation_id = uuid.UUID(conversation["id"])
    assert await service.mark_read(kit.db, uid(bob), conversation_id, 2) == 4
    assert await service.mark_read(kit.db, uid(bob), conversation_id, 10**30) == 5
    assert (await view(bob))["unread_count"] == 0


async def test_the_inbox_lists_most_recent_activity_first(kit: Kit) -> None:
    ann = await kit.person("Ann")
    others = [await kit.person(name) for name in ("Bob", "Cat", "Dan")]
    await attended(kit, ann, *others)
    conversations = [await start(kit, ann, other) for other in others]
    await send(kit, others[0], conversations[0], "bump")
    expected = [conversations[0]["id"], conversations[2]["id"], conversations[1]["id"]]

    seen: list[str] = []
    cursor = None
    while True:
        page = await inbox(kit, ann, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert (await inbox(kit, ann))["items"][0]["last_message"]["content"] == "bump"
    r = await kit.client.get("/v1/conversations", headers=bearer(ann), params={"cursor": "x"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_cursor")


async def test_messages_page_newest_first(kit: Kit) -> None:
    ann, bob, conversation = await pair(kit)
    for n in range(5):
        await send(kit, ann, conversation, f"#{n}")
    url = f"/v1/conversations/{conversation['id']}/messages"
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await kit.client.get(url, headers=bearer(bob), params=params)
        page = r.json()
        seen += [m["seq"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    since = await service.messages_since(kit.db, uuid.UUID(conversation["id"]), 2, 2)
    assert [m.seq for m in since] == [3, 4]


async def test_a_deleted_account_takes_the_conversation_out_of_the_inbox(kit: Kit) -> None:
    ann, bob, conversation = await pair(kit)
    await send(kit, ann, conversation, "mine")
    await send(kit, bob, conversation, "his")
    r = await kit.client.delete("/v1/me", headers=bearer(bob))
    assert r.status_code == 204
    assert (await inbox(kit, ann))["items"] == []
    r = await kit.client.get(
        f"/v1/conversations/{conversation['id']}/messages", headers=bearer(ann)
    )
    assert r.status_code == 404
    # Ann's own words stay hers (her data export still has them).
    assert await kit.db.fetchval("SELECT array_agg(content) FROM messages") == ["mine"]
