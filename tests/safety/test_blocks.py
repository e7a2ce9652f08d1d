"""Blocks: a hard stop between two people, whoever blocked whom."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]


async def person(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, first_name: str | None = "Ada"
) -> dict[str, Any]:
    """A signed-in user with a social profile (unless first_name is None): tokens + profile_id."""
    tokens = await sign_in()
    if first_name is not None:
        tokens["profile_id"] = str(
            await db_conn.fetchval(
                "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
                "VALUES ($1, $2, 'Woman', ARRAY['Man','Woman']) RETURNING id",
                uuid.UUID(tokens["user_id"]),
                first_name,
            )
        )
    return tokens


async def blocks_in_db(db_conn: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await db_conn.fetch("SELECT blocker_user_id, blocked_user_id FROM blocked_users")
    return [(str(r[0]), str(r[1])) for r in rows]


async def visible(
    db_conn: asyncpg.Connection, viewer: dict[str, Any], target: dict[str, Any]
) -> bool:
    found: bool = await db_conn.fetchval(
        "SELECT user_visible_to($1, $2)", uuid.UUID(viewer["user_id"]), uuid.UUID(target["user_id"])
    )
    return found


async def test_anonymous_is_401(client: Client) -> None:
    some_id = str(uuid.uuid4())
    for method, path in (
        ("POST", "/v1/blocks"),
        ("DELETE", f"/v1/blocks/{some_id}"),
        ("GET", "/v1/blocks"),
    ):
        r = await client.request(method, path, json={"profile_id": some_id})
        assert r.status_code == 401, (method, path)
        assert r.json()["code"] == "unauthorized"


async def test_suspended_user_gets_403_and_blocks_nothing(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    other = await person(client, sign_in, db_conn, "Bo")
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(me["user_id"])
    )
    for method, path in (
        ("POST", "/v1/blocks"),
        ("DELETE", f"/v1/blocks/{other['profile_id']}"),
        ("GET", "/v1/blocks"),
    ):
        r = await client.request(
            method, path, headers=bearer(me), json={"profile_id": other["profile_id"]}
        )
        assert r.status_code == 403, (method, path)
        assert r.json()["code"] == "account_suspended"
    assert await blocks_in_db(db_conn) == []


async def test_block_is_idempotent_listed_and_undone(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn, "Bo")

    first = await client.post(
        "/v1/blocks", headers=bearer(me), json={"profile_id": bo["profile_id"]}
    )
    assert first.status_code == 201, first.text
    assert first.json()["profile_id"] == bo["profile_id"]
    again = await client.post(
        "/v1/blocks", headers=bearer(me), json={"profile_id": bo["profile_id"]}
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await blocks_in_db(db_conn) == [(me["user_id"], bo["user_id"])]

    listed = await client.get("/v1/blocks", headers=bearer(me))
    assert listed.status_code == 200
    assert listed.json() == {
        "items": [
            {
                "profile_id": bo["profile_id"],
                "first_name": "Bo",
                "created_at": first.json()["created_at"],
            }
        ],
        "next_cursor": None,
    }
    # Bo's own list does not show who blocked Bo.
    assert (await client.get("/v1/blocks", headers=bearer(bo))).json()["items"] == []

    r = await client.delete(f"/v1/blocks/{bo['profile_id']}", headers=bearer(me))
    assert r.status_code == 204
    assert await blocks_in_db(db_conn) == []
    assert (await client.get("/v1/blocks", headers=bearer(me))).json()["items"] == []
    # Unblocking again (or someone never blocked) is fine.
    r = await client.delete(f"/v1/blocks/{bo['profile_id']}", headers=bearer(me))
    assert r.status_code == 204


async def test_unblocking_does_not_undo_the_other_sides_block(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn, "Bo")
    await client.post("/v1/blocks", headers=bearer(bo), json={"profile_id": me["profile_id"]})
    r = await client.delete(f"/v1/blocks/{bo['profile_id']}", headers=bearer(me))
    assert r.status_code == 204
    assert await blocks_in_db(db_conn) == [(bo["user_id"], me["user_id"])]


async def test_bad_block_requests(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    unknown = str(uuid.uuid4())
    r = await client.post("/v1/blocks", headers=bearer(me), json={"profile_id": unknown})
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    r = await client.delete(f"/v1/blocks/{unknown}", headers=bearer(me))
    assert r.status_code == 404
    r = await client.post("/v1/blocks", headers=bearer(me), json={"profile_id": me["profile_id"]})
    assert r.status_code == 422
    assert r.json()["code"] == "cannot_block_self"
    for body in ({}, {"profile_id": "nope"}, {"profile_id": None}, {"profile_id": unknown, "x": 1}):
        r = await client.post("/v1/blocks", headers=bearer(me), json=body)
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_error"
    r = await client.post(
        "/v1/blocks",
        headers={**bearer(me), "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422
    assert r.json()["code"] == "malformed_json"
    r = await client.delete("/v1/blocks/not-a-uuid", headers=bearer(me))
    assert r.status_code in (404, 422)
    assert await blocks_in_db(db_conn) == []


async def test_host_only_user_can_block(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    host = await person(client, sign_in, db_conn, first_name=None)
    bo = await person(client, sign_in, db_conn, "Bo")
    r = await client.post("/v1/blocks", headers=bearer(host), json={"profile_id": bo["profile_id"]})
    assert r.status_code == 201, r.text
    assert not await visible(db_conn, host, bo)
    assert not await visible(db_conn, bo, host)
    items = (await client.get("/v1/blocks", headers=bearer(host))).json()["items"]
    assert [i["profile_id"] for i in items] == [bo["profile_id"]]


async def test_blocking_works_whatever_stands_between(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    """Already blocked by them, or they are suspended: still 201, nothing revealed."""
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn, "Bo")
    cy = await person(client, sign_in, db_conn, "Cy")
    r = await client.post("/v1/blocks", headers=bearer(bo), json={"profile_id": me["profile_id"]})
    assert r.status_code == 201
    r = await client.post("/v1/blocks", headers=bearer(me), json={"profile_id": bo["profile_id"]})
    assert r.status_code == 201
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(cy["user_id"])
    )
    r = await client.post("/v1/blocks", headers=bearer(me), json={"profile_id": cy["profile_id"]})
    assert r.status_code == 201
    assert sorted(await blocks_in_db(db_conn)) == sorted(
        [
            (bo["user_id"], me["user_id"]),
            (me["user_id"], bo["user_id"]),
            (me["user_id"], cy["user_id"]),
        ]
    )


async def test_block_hides_both_sides_from_each_other(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn, "Bo")
    assert await visible(db_conn, me, bo)
    assert (
        await client.get(f"/v1/profiles/{bo['profile_id']}", headers=bearer(me))
    ).status_code == 200

    await client.post("/v1/blocks", headers=bearer(me), json={"profile_id": bo["profile_id"]})
    assert not await visible(db_conn, me, bo)
    assert not await visible(db_conn, bo, me)
    for viewer, target in ((me, bo), (bo, me)):
        r = await client.get(f"/v1/profiles/{target['profile_id']}", headers=bearer(viewer))
        assert r.status_code == 404
        assert r.json()["code"] == "not_found"

    await client.delete(f"/v1/blocks/{bo['profile_id']}", headers=bearer(me))
    assert await visible(db_conn, me, bo)
    assert await visible(db_conn, bo, me)
    assert (
        await client.get(f"/v1/profiles/{me['profile_id']}", headers=bearer(bo))
    ).status_code == 200


async def test_block_drops_likes_both_ways(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn, "Bo")
    cy = await person(client, sign_in, db_conn, "Cy")
    set_likes = "UPDATE social_profiles SET liked_profiles = $2::uuid[] WHERE id = $1"
    await db_conn.execute(
        set_likes,
        uuid.UUID(me["profile_id"]),
        [uuid.UUID(bo["profile_id"]), uuid.UUID(cy["profile_id"])],
    )
    await db_conn.execute(
        set_likes,
        uuid.UUID(bo["profile_id"]),
        [uuid.UUID(cy["profile_id"]), uuid.UUID(me["profile_id"])],
    )
    r = await client.post("/v1/blocks", headers=bearer(bo), json={"profile_id": me["profile_id"]})
    assert r.status_code == 201
    likes = {
        str(r["id"]): [str(x) for x in r["liked_profiles"]]
        for r in await db_conn.fetch("SELECT id, liked_profiles FROM social_profiles")
    }
    assert likes[me["profile_id"]] == [cy["profile_id"]]
    assert likes[bo["profile_id"]] == [cy["profile_id"]]


async def test_concurrent_blocks_make_one(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn, "Bo")
    results = await asyncio.gather(
        *(
            client.post("/v1/blocks", headers=bearer(me), json={"profile_id": bo["profile_id"]})
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in results) == [200, 200, 200, 200, 201]
    assert len({r.json()["created_at"] for r in results}) == 1
    assert await blocks_in_db(db_conn) == [(me["user_id"], bo["user_id"])]


async def test_block_list_pages_newest_first(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    others = [await person(client, sign_in, db_conn, f"P{i}") for i in range(5)]
    for other in others:
        r = await client.post(
            "/v1/blocks", headers=bearer(me), json={"profile_id": other["profile_id"]}
        )
        assert r.status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/blocks", headers=bearer(me), params=params)).json()
        assert len(page["items"]) <= 2
        seen += [i["profile_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [o["profile_id"] for o in reversed(others)]

    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "garbage!"}):
        r = await client.get("/v1/blocks", headers=bearer(me), params=params)
        assert r.status_code == 422, params
    r = await client.get("/v1/blocks", headers=bearer(me), params={"cursor": "garbage!"})
    assert r.json()["code"] == "invalid_cursor"
