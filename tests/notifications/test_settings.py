"""GET/PATCH /v1/me/notification-settings: every category, defaults until changed."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import asyncpg
from helpers import bearer
from litestar.testing import AsyncTestClient

from server.notifications.settings import CATEGORIES, DEFAULTS

Client = AsyncTestClient[Any]

EXPECTED_DEFAULTS = {
    "invitations": {"push_enabled": True, "sms_enabled": True},
    "payments": {"push_enabled": True, "sms_enabled": False},
    "event_updates": {"push_enabled": True, "sms_enabled": True},
    "event_reminders": {"push_enabled": True, "sms_enabled": False},
    "event_posts": {"push_enabled": True, "sms_enabled": False},
    "direct_messages": {"push_enabled": True, "sms_enabled": False},
    "kudos": {"push_enabled": True, "sms_enabled": False},
    "ratings": {"push_enabled": True, "sms_enabled": False},
}
PATH = "/v1/me/notification-settings"


async def stored(db_conn: asyncpg.Connection) -> int:
    count: int = await db_conn.fetchval("SELECT count(*) FROM user_notification_settings")
    return count


async def test_categories_match_the_schema(db_conn: asyncpg.Connection) -> None:
    check = await db_conn.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'user_notification_settings'::regclass AND contype = 'c'"
    )
    assert set(re.findall(r"'(\w+)'", check)) == set(CATEGORIES)
    assert set(DEFAULTS) == set(CATEGORIES)


async def test_anonymous_and_suspended(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    patch = {"categories": {"kudos": {"push_enabled": False}}}
    assert (await client.get(PATH)).status_code == 401
    assert (await client.patch(PATH, json=patch)).status_code == 401
    me = await sign_in()
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(me["user_id"])
    )
    for r in (
        await client.get(PATH, headers=bearer(me)),
        await client.patch(PATH, headers=bearer(me), json=patch),
    ):
        assert r.status_code == 403
        assert r.json()["code"] == "account_suspended"
    assert await stored(db_conn) == 0


async def test_new_users_get_the_defaults(client: Client, sign_in: Any) -> None:
    me = await sign_in()
    r = await client.get(PATH, headers=bearer(me))
    assert r.status_code == 200
    assert r.json() == {"categories": EXPECTED_DEFAULTS}
    assert list(r.json()["categories"]) == list(CATEGORIES)


async def test_patch_changes_only_what_is_sent(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    other = await sign_in()
    r = await client.patch(
        PATH,
        headers=bearer(me),
        json={"categories": {"kudos": {"push_enabled": False}, "payments": {"sms_enabled": True}}},
    )
    assert r.status_code == 200, r.text
    expected = {
        **EXPECTED_DEFAULTS,
        "kudos": {"push_enabled": False, "sms_enabled": False},
        "payments": {"push_enabled": True, "sms_enabled": True},
    }
    assert r.json() == {"categories": expected}

    # The other switch of a changed category keeps the first change.
    r = await client.patch(
        PATH, headers=bearer(me), json={"categories": {"kudos": {"sms_enabled": True}}}
    )
    expected["kudos"] = {"push_enabled": False, "sms_enabled": True}
    assert r.json() == {"categories": expected}
    assert (await client.get(PATH, headers=bearer(me))).json() == {"categories": expected}

    # Nothing sent, nothing changed.
    for body in ({"categories": {}}, {"categories": {"ratings": {}}}):
        r = await client.patch(PATH, headers=bearer(me), json=body)
        assert r.status_code == 200
        assert r.json()["categories"]["kudos"] == expected["kudos"]
        assert r.json()["categories"]["ratings"] == EXPECTED_DEFAULTS["ratings"]

    # Someone else's settings are untouched.
    assert (await client.get(PATH, headers=bearer(other))).json() == {
        "categories": EXPECTED_DEFAULTS
    }
    rows = await db_conn.fetch("SELECT DISTINCT user_id FROM user_notification_settings")
    assert [str(r["user_id"]) for r in rows] == [me["user_id"]]


async def test_concurrent_patches_keep_both_switches(client: Client, sign_in: Any) -> None:
    me = await sign_in()
    await asyncio.gather(
        client.patch(
            PATH,
            headers=bearer(me),
            json={"categories": {c: {"push_enabled": False} for c in CATEGORIES}},
        ),
        client.patch(
            PATH,
            headers=bearer(me),
            json={"categories": {c: {"sms_enabled": True} for c in reversed(CATEGORIES)}},
        ),
    )
    body = (await client.get(PATH, headers=bearer(me))).json()
    assert body == {
        "categories": {c: {"push_enabled": False, "sms_enabled": True} for c in CATEGORIES}
    }


async def test_bad_patches_write_nothing(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    for body in (
        {"categories": {"marketing": {"push_enabled": False}}},
        {"categories": {"kudos": {"push_enabled": None}}},
        {"categories": {"kudos": {"push_enabled": "no"}}},
        {"categories": {"kudos": {"email_enabled": False}}},
        {"categories": {"kudos": False}},
        {"categories": {"kudos": {"push_enabled": False}, "spam": {}}},
        {"kudos": {"push_enabled": False}},
        {},
    ):
        r = await client.patch(PATH, headers=bearer(me), json=body)
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_error", body
    assert await stored(db_conn) == 0
