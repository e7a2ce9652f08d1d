"""New board posts and direct messages notify the people they are for, and
nobody a block keeps them from."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from builders import Kit, Person, attended, send, start
from helpers import bearer, until
from notifications.steps import user_id

from db.queries.inbox import WAKE_CHANNEL
from server.notifications.items import notify_new_items


async def told(db: asyncpg.Connection, kind: str) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await db.fetch(
        "SELECT user_id, title, body, data, collapsed_count FROM notifications WHERE kind = $1",
        kind,
    )
    return {r["user_id"]: r for r in rows}


async def board(kit: Kit) -> tuple[dict[str, Any], dict[str, Person]]:
    host = await kit.host()
    people = {n: await kit.person(n.title()) for n in ("cleo", "dan", "eve", "ines")}
    event = await kit.published(host, title="Night Market Crawl")
    for name in ("cleo", "dan", "eve"):
        await kit.invite(event, people[name], "confirmed")
    await kit.invite(event, people["ines"], "sent")
    return event, {"host": host, **people}


async def post(kit: Kit, event: dict[str, Any], who: Person, content: str) -> dict[str, Any]:
    r = await kit.client.post(
        f"/v1/events/{event['id']}/posts", headers=bearer(who), json={"content": content}
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_post_tells_the_board_but_its_author_the_invitee_and_the_blocker(
    kit: Kit,
) -> None:
    event, people = await board(kit)
    r = await kit.client.post(
        "/v1/blocks",
        headers=bearer(people["eve"]),
        json={"profile_id": people["cleo"]["profile_id"]},
    )
    assert r.status_code in (200, 201), r.text
    created = await post(kit, event, people["cleo"], "Meet at the north gate?")
    assert await notify_new_items(kit.db) == 1
    assert await notify_new_items(kit.db) == 0  # taken off the queue once

    notified = await told(kit.db, "event_post")
    assert set(notified) == {user_id(people["host"]), user_id(people["dan"])}
    row = notified[user_id(people["dan"])]
    assert row["title"] == "Night Market Crawl"
    assert row["body"] == "Cleo: Meet at the north gate?"
    assert row["data"]["post_id"] == created["id"]
    assert row["data"]["event_id"] == event["id"]

    # A second post collapses into the unread entry.
    await post(kit, event, people["cleo"], "Running late")
    await notify_new_items(kit.db)
    row = (await told(kit.db, "event_post"))[user_id(people["dan"])]
    assert (row["collapsed_count"], row["body"]) == (2, "2 new posts. Cleo: Running late")


async def test_a_post_deleted_before_it_is_notified_tells_nobody(kit: Kit) -> None:
    event, people = await board(kit)
    created = await post(kit, event, people["dan"], "oops")
    r = await kit.client.delete(
        f"/v1/events/{event['id']}/posts/{created['id']}", headers=bearer(people["dan"])
    )
    assert r.status_code == 204, r.text
    assert await notify_new_items(kit.db) == 1
    assert await told(kit.db, "event_post") == {}


async def test_a_message_tells_the_other_participant_unless_blocked_meanwhile(
    kit: Kit,
) -> None:
    me, other = await kit.person("Bo"), await kit.person("Cy")
    await attended(kit, me, other)
    conversation = await start(kit, me, other)
    message = await send(kit, me, conversation, "Coffee on Sunday?")
    await notify_new_items(kit.db)
    notified = await told(kit.db, "direct_message")
    assert set(notified) == {user_id(other)}
    row = notified[user_id(other)]
    assert (row["title"], row["body"]) == ("Bo", "Coffee on Sunday?")
    assert row["data"]["conversation_id"] == conversation["id"]
    assert row["data"]["message_id"] == message["id"]

    await send(kit, other, conversation, "Sure!")
    r = await kit.client.post(
        "/v1/blocks", headers=bearer(me), json={"profile_id": other["profile_id"]}
    )
    assert r.status_code in (200, 201), r.text
    await notify_new_items(kit.db)
    assert set(await told(kit.db, "direct_message")) == {user_id(other)}


async def test_the_worker_is_woken_by_the_first_queued_item_not_every_one(
    kit: Kit, database_url: str
) -> None:
    """A NOTIFY serialises every committing transaction in the database, so only
    an item queued behind nothing wakes the worker; while items wait, the worker
    is draining and more wake-ups are not sent."""
    event, people = await board(kit)
    listener = await asyncpg.connect(database_url)
    woken: list[str] = []
    await listener.add_listener(WAKE_CHANNEL, lambda *args: woken.append(args[2]))
    try:
        for n in range(3):
            await post(kit, event, people["cleo"], f"#{n}")
        await until(lambda: len(woken) >= 1)
        await asyncio.sleep(0.2)
        assert len(woken) == 1
        assert await notify_new_items(kit.db) == 3
        await asyncio.sleep(0.2)  # the notifications just written wake the worker too
        before = len(woken)
        await post(kit, event, people["dan"], "after the queue drained")
        await until(lambda: len(woken) == before + 1)
    finally:
        await listener.close()
