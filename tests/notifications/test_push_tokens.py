"""PUT/DELETE /v1/me/push-tokens: Expo tokens, upserted, one per device, never someone else's."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import asyncpg
from helpers import bearer
from litestar.testing import AsyncTestClient
from notifications.steps import expo_token

Client = AsyncTestClient[Any]


async def tokens_in_db(db_conn: asyncpg.Connection) -> dict[str, tuple[str, str | None, bool]]:
    rows = await db_conn.fetch(
        "SELECT token, user_id, device_id, is_active FROM push_notification_tokens"
    )
    return {r["token"]: (str(r["user_id"]), r["device_id"], r["is_active"]) for r in rows}


async def test_anonymous_and_suspended(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    token = expo_token()
    body = {"token": token, "platform": "ios"}
    assert (await client.put("/v1/me/push-tokens", json=body)).status_code == 401
    assert (await client.delete(f"/v1/me/push-tokens/{quote(token)}")).status_code == 401
    me = await sign_in()
    assert (
        await client.put("/v1/me/push-tokens", headers=bearer(me), json=body)
    ).status_code == 201
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(me["user_id"])
    )
    for r in (
        await client.put(
            "/v1/me/push-tokens", headers=bearer(me), json={**body, "token": expo_token()}
        ),
        await client.delete(f"/v1/me/push-tokens/{quote(token)}", headers=bearer(me)),
    ):
        assert r.status_code == 403
        assert r.json()["code"] == "account_suspended"
    assert list(await tokens_in_db(db_conn)) == [token]


async def test_register_is_an_upsert_that_reactivates(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    token = "ExpoPushToken[abc-DEF_123]"
    first = await client.put(
        "/v1/me/push-tokens",
        headers=bearer(me),
        json={"token": token, "platform": "ios", "device_id": "phone-1"},
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["token"] == token
    assert body["platform"] == "ios"
    assert body["device_id"] == "phone-1"
    assert body["is_active"] is True
    assert set(body) == {"token", "platform", "device_id", "is_active", "created_at", "updated_at"}

    # Expo reported the device gone; the app registers the token again.
    await db_conn.execute("UPDATE push_notification_tokens SET is_active = false")
    again = await client.put(
        "/v1/me/push-tokens",
        headers=bearer(me),
        json={"token": token, "platform": "android", "device_id": "phone-1"},
    )
    assert again.status_code == 200
    assert again.json()["is_active"] is True
    assert again.json()["platform"] == "android"
    assert again.json()["created_at"] == body["created_at"]
    assert await tokens_in_db(db_conn) == {token: (me["user_id"], "phone-1", True)}


async def test_a_token_moves_to_whoever_registers_it(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    old_owner = await sign_in()
    new_owner = await sign_in()
    token = expo_token()
    await client.put(
        "/v1/me/push-tokens", headers=bearer(old_owner), json={"token": token, "platform": "ios"}
    )
    await db_conn.execute("UPDATE push_notification_tokens SET is_active = false")
    r = await client.put(
        "/v1/me/push-tokens",
        headers=bearer(new_owner),
        json={"token": token, "platform": "ios", "device_id": "d"},
    )
    assert r.status_code == 201
    assert r.json()["is_active"] is True
    assert await tokens_in_db(db_conn) == {token: (new_owner["user_id"], "d", True)}
    # The previous owner can no longer touch it.
    r = await client.delete(f"/v1/me/push-tokens/{quote(token)}", headers=bearer(old_owner))
    assert r.status_code == 404
    assert token in await tokens_in_db(db_conn)


async def test_one_token_per_device(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    other = await sign_in()
    old, new, tablet, others = expo_token(), expo_token(), expo_token(), expo_token()
    for who, token, device in (
        (me, old, "phone"),
        (me, tablet, "tablet"),
        (other, others, "phone"),  # device ids are per user
        (me, new, "phone"),
    ):
        r = await client.put(
            "/v1/me/push-tokens",
            headers=bearer(who),
            json={"token": token, "platform": "ios", "device_id": device},
        )
        assert r.status_code == 201
    assert await tokens_in_db(db_conn) == {
        new: (me["user_id"], "phone", True),
        tablet: (me["user_id"], "tablet", True),
        others: (other["user_id"], "phone", True),
    }


async def test_bad_tokens_are_refused(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    for token in (
        "",
        "abc",
        "ExponentPushToken[]",
        "ExponentPushToken[abc",
        "ExponentPushToken[a b]",
        "ExponentPushToken[abc]x",
        "FcmToken[abc]",
        "ExponentPushToken[" + "a" * 300 + "]",
    ):
        r = await client.put(
            "/v1/me/push-tokens", headers=bearer(me), json={"token": token, "platform": "ios"}
        )
        assert r.status_code == 422, token
        assert r.json()["code"] == "invalid_push_token", token
    for body in (
        {"token": expo_token(), "platform": "windows"},
        {"token": expo_token()},
        {"platform": "ios"},
        {"token": expo_token(), "platform": "ios", "device_id": ""},
        {"token": expo_token(), "platform": "ios", "user_id": me["user_id"]},
    ):
        r = await client.put("/v1/me/push-tokens", headers=bearer(me), json=body)
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_error", body
    assert await tokens_in_db(db_conn) == {}


async def test_delete_only_my_own_tokens(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    other = await sign_in()
    mine, theirs = expo_token(), expo_token()
    await client.put(
        "/v1/me/push-tokens", headers=bearer(me), json={"token": mine, "platform": "ios"}
    )
    await client.put(
        "/v1/me/push-tokens", headers=bearer(other), json={"token": theirs, "platform": "web"}
    )
    r = await client.delete(f"/v1/me/push-tokens/{quote(theirs)}", headers=bearer(me))
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert theirs not in r.text
    r = await client.delete(f"/v1/me/push-tokens/{quote(expo_token())}", headers=bearer(me))
    assert r.status_code == 404
    # Brackets unescaped work too.
    r = await client.delete(f"/v1/me/push-tokens/{mine}", headers=bearer(me))
    assert r.status_code == 204
    assert await tokens_in_db(db_conn) == {theirs: (other["user_id"], None, True)}
    r = await client.delete(f"/v1/me/push-tokens/{quote(mine)}", headers=bearer(me))
    assert r.status_code == 404
