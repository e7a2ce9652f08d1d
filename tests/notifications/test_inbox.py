"""GET /v1/me/notifications and POST /v1/me/notifications/read: each user's own
inbox, collapsed where the catalog says so, written once per dedupe key."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from builders import Kit
from helpers import bearer
from litestar.testing import AsyncTestClient
from notifications.steps import user_id

from server.notifications.catalog import CATALOG, KINDS
from server.notifications.notify import notify

Client = AsyncTestClient[Any]

EVENT = {"event_id": uuid.uuid4(), "invitation_id": uuid.uuid4(), "event_title": "Supper Club"}


async def inbox(client: Client, person: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/me/notifications", headers=bearer(person), params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_anonymous_is_refused(client: Client) -> None:
    assert (await client.get("/v1/me/notifications")).status_code == 401
    assert (await client.post("/v1/me/notifications/read", json={})).status_code == 401


async def test_each_user_sees_only_their_own_latest_first_and_pages(
    kit: Kit, client: Client, db_conn: asyncpg.Connection
) -> None:
    me, other = await kit.person(), await kit.person()
    for kind in ("invitation_received", "payment_succeeded", "rating_prompt"):
        await notify(db_conn, user_id(me), kind, EVENT)
    await notify(db_conn, user_id(other), "payment_failed", EVENT)

    first = await inbox(client, me, limit=2)
    assert [i["kind"] for i in first["items"]] == ["rating_prompt", "payment_succeeded"]
    assert first["unread_count"] == 3
    rest = await inbox(client, me, limit=2, cursor=first["next_cursor"])
    assert [i["kind"] for i in rest["items"]] == ["invitation_received"]
    assert rest["next_cursor"] is None
    item = rest["items"][0]
    assert item["title"] == "You're invited: Supper Club"
    assert item["category"] == "invitations"
    assert item["data"]["event_id"] == str(EVENT["event_id"])
    assert item["read_at"] is None
    assert item["count"] == 1

    assert [i["kind"] for i in (await inbox(client, other))["items"]] == ["payment_failed"]
    r = await client.get(
        "/v1/me/notifications", headers=bearer(me), params={"cursor": "not-a-cursor"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_cursor")


async def test_mark_read_by_ids_ignores_other_peoples_and_then_all(
    kit: Kit, client: Client, db_conn: asyncpg.Connection
) -> None:
    me, other = await kit.person(), await kit.person()
    mine = [await notify(db_conn, user_id(me), "payment_succeeded", EVENT) for _ in range(3)]
    theirs = await notify(db_conn, user_id(other), "payment_succeeded", EVENT)

    r = await client.post(
        "/v1/me/notifications/read",
        headers=bearer(me),
        json={"ids": [str(mine[0]), str(theirs)]},
    )
    assert r.status_code == 204, r.text
    assert (await inbox(client, me))["unread_count"] == 2
    assert (await inbox(client, other))["unread_count"] == 1

    r = await client.post(
        "/v1/me/notifications/read",
        headers=bearer(me),
        json={"notification_ids": [str(mine[1])]},
    )
    assert r.status_code == 204, r.text
    assert (await inbox(client, me))["unread_count"] == 1

    r = await client.post("/v1/me/notifications/read", headers=bearer(me))
    assert r.status_code == 204, r.text
    body = await inbox(client, me)
    assert body["unread_count"] == 0
    assert all(i["read_at"] for i in body["items"])
    assert (await inbox(client, other))["unread_count"] == 1

    for everything in ({}, {"all": True}):
        await notify(db_conn, user_id(me), "payment_succeeded", EVENT)
        r = await client.post("/v1/me/notifications/read", headers=bearer(me), json=everything)
        assert r.status_code == 204, r.text
        assert (await inbox(client, me))["unread_count"] == 0

    for bad in ({"ids": []}, {"ids": ["nope"]}, {"everything": True}):
        r = await client.post("/v1/me/notifications/read", headers=bearer(me), json=bad)
        assert r.status_code in (400, 422), (bad, r.text)


async def test_messages_of_one_conversation_collapse_until_read(
    kit: Kit, client: Client, db_conn: asyncpg.Connection
) -> None:
    me = await kit.person()
    conversation = uuid.uuid4()
    for text in ("hi", "are you coming?", "see you {count} there"):
        data = {"conversation_id": conversation, "sender_name": "Bo", "preview": text}
        await notify(db_conn, user_id(me), "direct_message", data)
    [item] = (await inbox(client, me))["items"]
    assert item["count"] == 3
    assert item["body"] == "3 new messages. see you {count} there"
    # Each message is pushed (repush), through the one queued delivery or a new one.
    assert await db_conn.fetchval("SELECT count(*) FROM notification_deliveries") == 1

    await client.post("/v1/me/notifications/read", headers=bearer(me))
    data = {"conversation_id": conversation, "sender_name": "Bo", "preview": "hello again"}
    await notify(db_conn, user_id(me), "direct_message", data)
    items = (await inbox(client, me))["items"]
    assert [(i["count"], i["body"]) for i in items] == [(1, "hello again"), (3, item["body"])]


async def test_posts_collapse_and_are_not_pushed_again_once_delivered(
    kit: Kit, db_conn: asyncpg.Connection
) -> None:
    me = await kit.person()
    data = {"event_id": uuid.uuid4(), "event_title": "Hike", "author_name": "Cy", "preview": "a"}
    await notify(db_conn, user_id(me), "event_post", data)
    await db_conn.execute("DELETE FROM notification_deliveries")  # as if pushed already
    await notify(db_conn, user_id(me), "event_post", {**data, "preview": "b"})
    assert await db_conn.fetchval("SELECT count(*) FROM notification_deliveries") == 0
    body = await db_conn.fetchval("SELECT body FROM notifications")
    assert body == "2 new posts. Cy: b"


async def test_scheduled_kinds_are_written_once_per_key(
    kit: Kit, db_conn: asyncpg.Connection
) -> None:
    me = await kit.person()
    data = {**EVENT, "stage": "day", "starts_at_local": "Sat 7:30 PM"}
    assert await notify(db_conn, user_id(me), "event_reminder", data) is not None
    assert await notify(db_conn, user_id(me), "event_reminder", data) is None
    assert await notify(db_conn, user_id(me), "event_reminder", {**data, "stage": "soon"})
    assert await db_conn.fetchval("SELECT count(*) FROM notifications") == 2


def test_every_kind_has_copy() -> None:
    data = {
        **EVENT,
        "conversation_id": uuid.uuid4(),
        "match_reason": "You both love jazz.",
        "stage": "day",
        "starts_at_local": "Sat 7:30 PM",
        "author_name": "Cy",
        "sender_name": "Bo",
        "kudo_label": "great listener",
        "preview": "hello",
        "refund": True,
    }
    for kind in KINDS:
        spec = CATALOG[kind]
        assert spec.title(data) and spec.body(data), kind
        assert not (spec.collapse and spec.dedupe), kind
