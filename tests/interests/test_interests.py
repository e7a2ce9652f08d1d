"""GET /v1/interests (catalog search) and PUT /v1/me/interests (replace mine),
with the job that tells the matching side a user's interests changed."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import asyncpg
import msgspec
from helpers import bearer
from litestar.testing import AsyncTestClient

from db.pool import connect
from jobs.contract import USER_VECTORS_CHANGED, enqueue_user_vectors_changed
from server.app import create_app
from server.settings import Settings

Client = AsyncTestClient[Any]


async def _make_profile(db_conn: asyncpg.Connection, tokens: dict[str, Any]) -> uuid.UUID:
    profile_id: uuid.UUID = await db_conn.fetchval(
        "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
        "VALUES ($1, 'Ada', 'Woman', ARRAY['Man']) RETURNING id",
        uuid.UUID(tokens["user_id"]),
    )
    return profile_id


async def _ids(db_conn: asyncpg.Connection, *names: str) -> list[int]:
    rows = await db_conn.fetch("SELECT id, name FROM interests WHERE name = ANY($1)", list(names))
    by_name = {r["name"]: r["id"] for r in rows}
    assert set(by_name) == set(names)
    return [by_name[n] for n in names]


async def _all_pages(client: Client, tokens: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        r = await client.get("/v1/interests", headers=bearer(tokens), params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= int(params.get("limit", 20))
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination never ended")


async def _jobs(db_conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db_conn.fetch(
        "SELECT entrypoint, dedupe_key, payload, status FROM pgqueuer ORDER BY id"
    )


# ─────────────────────────────── catalog ───────────────────────────────


async def test_catalog_has_hundreds_of_distinct_title_case_interests(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    items = await _all_pages(client, tokens, limit=100)
    names = [i["name"] for i in items]
    assert len(names) >= 300
    assert len({n.lower() for n in names}) == len(names)
    assert len({i["id"] for i in items}) == len(items)
    # The whole catalog, alphabetically (case-insensitive), nothing internal.
    assert names == sorted(names, key=str.lower)
    assert await db_conn.fetchval("SELECT count(*) FROM interests") == len(items)
    assert all(set(i) == {"id", "name"} for i in items)
    for name in names:
        assert name == name.strip() and "  " not in name, name
        for word in re.split(r"[ -]", name):
            assert word[0].isupper() or word[0].isdigit() or word == "&", name
    for expected in ("Hiking", "Vintage Film", "Board Games"):
        assert expected in names


async def test_catalog_pages_without_gaps_or_repeats(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    whole = await _all_pages(client, tokens, limit=100)
    paged = await _all_pages(client, tokens, limit=7)
    assert paged == whole
    first = await client.get("/v1/interests", headers=bearer(tokens))
    assert len(first.json()["items"]) == 20  # default page size
    assert first.json()["next_cursor"] is not None


async def test_search_lists_prefix_matches_first_then_others(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    everything = [r["name"] for r in await db_conn.fetch("SELECT name FROM interests")]
    starts = sorted((n for n in everything if n.lower().startswith("ball")), key=str.lower)
    contains = sorted(
        (n for n in everything if "ball" in n.lower() and not n.lower().startswith("ball")),
        key=str.lower,
    )
    assert starts and contains  # the catalog has both kinds (Ballet; Basketball)
    found = [i["name"] for i in await _all_pages(client, tokens, q="ball", limit=100)]
    assert found == starts + contains
    # Trimmed and case-insensitive; paging keeps the same order across the boundary.
    assert [i["name"] for i in await _all_pages(client, tokens, q="  bALL ", limit=2)] == found

    r = await client.get("/v1/interests", headers=bearer(tokens), params={"q": "hik"})
    assert r.json()["items"][0]["name"] == "Hiking"
    r = await client.get("/v1/interests", headers=bearer(tokens), params={"q": "zzzzqqq"})
    assert r.json() == {"items": [], "next_cursor": None}


async def test_search_treats_like_wildcards_as_plain_text(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    await db_conn.execute(
        "INSERT INTO interests (name) VALUES "
        r"('100% Cotton'), ('100 Percent Fun'), ('Snake_Case'), ('Snakeycase'), ('Back\Slash'), "
        "('Backyard Slash')"
    )
    tokens = await sign_in()

    async def names(q: str) -> list[str]:
        return [i["name"] for i in await _all_pages(client, tokens, q=q, limit=100)]

    assert await names("%") == ["100% Cotton"]
    assert await names("0% c") == ["100% Cotton"]
    assert await names("_") == ["Snake_Case"]
    assert await names("snake_") == ["Snake_Case"]
    assert await names("\\") == ["Back\\Slash"]
    assert await names("k\\s") == ["Back\\Slash"]


async def test_search_rejects_bad_parameters(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    bad: list[tuple[dict[str, Any], str]] = [
        ({"q": "x" * 51}, "validation_error"),
        ({"limit": 0}, "validation_error"),
        ({"limit": 101}, "validation_error"),
        ({"limit": "many"}, "validation_error"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "eyJhIjoxfQ"}, "invalid_cursor"),  # valid base64 JSON, wrong shape
    ]
    for params, code in bad:
        r = await client.get("/v1/interests", headers=bearer(tokens), params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["code"] == code, params
    # A blank query is no filter: the app's emptied search box shows the catalog.
    blank = await client.get("/v1/interests", headers=bearer(tokens), params={"q": "   "})
    plain = await client.get("/v1/interests", headers=bearer(tokens))
    assert blank.status_code == 200
    assert blank.json() == plain.json()
    assert (
        await client.get("/v1/interests", headers=bearer(tokens), params={"q": "x" * 50})
    ).status_code == 200


async def test_bad_page_parameters_do_not_use_up_database_connections(
    client: Client, sign_in: Any, settings: Settings
) -> None:
    tokens = await sign_in()
    for _ in range(settings.database_pool_max + 5):
        r = await client.get("/v1/interests", headers=bearer(tokens), params={"limit": 0})
        assert r.status_code == 422
    r = await asyncio.wait_for(client.get("/v1/interests", headers=bearer(tokens)), 10)
    assert r.status_code == 200
    pool = client.app.state.db_pool
    assert pool.get_idle_size() == pool.get_size()  # every connection went back


# ─────────────────────────────── my interests ───────────────────────────────


async def test_put_replaces_my_interests(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me, other = await sign_in(), await sign_in()
    my_profile = await _make_profile(db_conn, me)
    other_profile = await _make_profile(db_conn, other)
    hiking, film, games, chess = await _ids(
        db_conn, "Hiking", "Vintage Film", "Board Games", "Chess"
    )
    r = await client.put("/v1/me/interests", headers=bearer(other), json={"interest_ids": [chess]})
    assert r.status_code == 200

    r = await client.put(
        "/v1/me/interests", headers=bearer(me), json={"interest_ids": [hiking, film, games]}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "items": [
            {"id": games, "name": "Board Games"},
            {"id": hiking, "name": "Hiking"},
            {"id": film, "name": "Vintage Film"},
        ]
    }

    # Replace, not add; repeated ids count once.
    r = await client.put(
        "/v1/me/interests", headers=bearer(me), json={"interest_ids": [chess, film, chess, film]}
    )
    assert r.status_code == 200
    assert [i["name"] for i in r.json()["items"]] == ["Chess", "Vintage Film"]
    stored = await db_conn.fetch(
        "SELECT interest_id FROM profile_interests WHERE profile_id = $1 ORDER BY 1", my_profile
    )
    assert [s["interest_id"] for s in stored] == sorted([chess, film])

    r = await client.put("/v1/me/interests", headers=bearer(me), json={"interest_ids": []})
    assert r.status_code == 200
    assert r.json() == {"items": []}
    assert (
        await db_conn.fetchval(
            "SELECT count(*) FROM profile_interests WHERE profile_id = $1", my_profile
        )
        == 0
    )
    # Someone else's interests are untouched.
    others = await db_conn.fetch(
        "SELECT interest_id FROM profile_interests WHERE profile_id = $1", other_profile
    )
    assert [o["interest_id"] for o in others] == [chess]

    thirty = [r["id"] for r in await db_conn.fetch("SELECT id FROM interests ORDER BY id LIMIT 30")]
    r = await client.put("/v1/me/interests", headers=bearer(me), json={"interest_ids": thirty})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 30


async def test_put_needs_a_social_profile(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    (hiking,) = await _ids(db_conn, "Hiking")
    r = await client.put(
        "/v1/me/interests", headers=bearer(tokens), json={"interest_ids": [hiking]}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "social_profile_required"
    assert await db_conn.fetchval("SELECT count(*) FROM profile_interests") == 0
    assert await _jobs(db_conn) == []


async def test_unknown_interest_changes_nothing_and_queues_nothing(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    profile_id = await _make_profile(db_conn, tokens)
    hiking, chess = await _ids(db_conn, "Hiking", "Chess")
    await db_conn.execute(
        "INSERT INTO profile_interests (profile_id, interest_id) VALUES ($1, $2)",
        profile_id,
        hiking,
    )
    missing = await db_conn.fetchval("SELECT max(id) + 1000 FROM interests")
    r = await client.put(
        "/v1/me/interests",
        headers=bearer(tokens),
        json={"interest_ids": [chess, missing, missing + 1]},
    )
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "unknown_interest"
    assert str(missing) in body["detail"] and str(missing + 1) in body["detail"]
    assert str(chess) not in body["detail"]
    stored = await db_conn.fetch(
        "SELECT interest_id FROM profile_interests WHERE profile_id = $1", profile_id
    )
    assert [s["interest_id"] for s in stored] == [hiking]
    assert await _jobs(db_conn) == []  # the job belongs to the rolled-back transaction


async def test_put_rejects_bad_bodies(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    profile_id = await _make_profile(db_conn, tokens)
    (hiking,) = await _ids(db_conn, "Hiking")
    bad: list[tuple[Any, str]] = [
        ({"interest_ids": list(range(1, 32))}, "validation_error"),  # 31 > 30
        ({"interest_ids": ["hiking"]}, "validation_error"),
        ({"interest_ids": [hiking, 1.5]}, "validation_error"),
        ({"interest_ids": [0]}, "validation_error"),
        ({"interest_ids": [-1]}, "validation_error"),
        ({"interest_ids": [2**31]}, "validation_error"),
        ({"interest_ids": None}, "validation_error"),
        ({"interest_ids": hiking}, "validation_error"),
        ({}, "validation_error"),
        ({"interest_ids": [hiking], "extra": 1}, "validation_error"),
        ([hiking], "validation_error"),
    ]
    for body, code in bad:
        r = await client.put("/v1/me/interests", headers=bearer(tokens), json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, body
    r = await client.put(
        "/v1/me/interests",
        headers={**bearer(tokens), "Content-Type": "application/json"},
        content=b'{"interest_ids": [1,',
    )
    assert r.status_code == 422
    assert r.json()["code"] == "malformed_json"
    assert (
        await db_conn.fetchval(
            "SELECT count(*) FROM profile_interests WHERE profile_id = $1", profile_id
        )
        == 0
    )
    assert await _jobs(db_conn) == []


async def test_routes_need_an_active_signed_in_user(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    r = await client.get("/v1/interests")
    assert r.status_code == 401
    r = await client.put("/v1/me/interests", json={"interest_ids": []})
    assert r.status_code == 401

    tokens = await sign_in()
    await _make_profile(db_conn, tokens)
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(tokens["user_id"])
    )
    r = await client.get("/v1/interests", headers=bearer(tokens))
    assert r.status_code == 403
    assert r.json()["code"] == "account_suspended"
    r = await client.put("/v1/me/interests", headers=bearer(tokens), json={"interest_ids": []})
    assert r.status_code == 403
    assert r.json()["code"] == "account_suspended"


# ─────────────────────────────── the job hook ───────────────────────────────


async def test_a_change_queues_one_recompute_job_per_user(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me, other = await sign_in(), await sign_in()
    await _make_profile(db_conn, me)
    await _make_profile(db_conn, other)
    hiking, chess = await _ids(db_conn, "Hiking", "Chess")

    r = await client.put("/v1/me/interests", headers=bearer(me), json={"interest_ids": [hiking]})
    assert r.status_code == 200
    jobs = await _jobs(db_conn)
    assert len(jobs) == 1
    assert jobs[0]["entrypoint"] == USER_VECTORS_CHANGED
    assert jobs[0]["status"] == "queued"
    assert msgspec.json.decode(jobs[0]["payload"]) == {"user_id": me["user_id"]}

    # A burst of edits by the same user leaves one queued job; an unchanged set none.
    for ids in ([hiking, chess], [chess], [chess]):
        r = await client.put("/v1/me/interests", headers=bearer(me), json={"interest_ids": ids})
        assert r.status_code == 200
    assert len(await _jobs(db_conn)) == 1

    # Another user gets their own job.
    r = await client.put("/v1/me/interests", headers=bearer(other), json={"interest_ids": [chess]})
    assert r.status_code == 200
    payloads = [msgspec.json.decode(j["payload"]) for j in await _jobs(db_conn)]
    assert payloads == [{"user_id": me["user_id"]}, {"user_id": other["user_id"]}]

    # While my job is running (it may have read the old interests), a change
    # queues a fresh one behind it.
    await db_conn.execute(
        "UPDATE pgqueuer SET status = 'picked' WHERE payload = $1",
        msgspec.json.encode({"user_id": me["user_id"]}),
    )
    r = await client.put("/v1/me/interests", headers=bearer(me), json={"interest_ids": [hiking]})
    assert r.status_code == 200
    mine = [
        j["status"]
        for j in await _jobs(db_conn)
        if msgspec.json.decode(j["payload"]) == {"user_id": me["user_id"]}
    ]
    assert mine == ["picked", "queued"]


async def test_a_queued_job_waits_for_the_change_that_reuses_it(
    database_url: str, sign_in: Any, client: Client, db_conn: asyncpg.Connection
) -> None:
    """The deduplicated job cannot be claimed before the transaction that relies on it
    commits, so it always runs on the latest interests."""
    tokens = await sign_in()
    await _make_profile(db_conn, tokens)
    (hiking,) = await _ids(db_conn, "Hiking")
    r = await client.put(
        "/v1/me/interests", headers=bearer(tokens), json={"interest_ids": [hiking]}
    )
    assert r.status_code == 200
    claim = "SELECT id FROM pgqueuer WHERE status = 'queued' FOR UPDATE SKIP LOCKED"

    editor = await connect(database_url)
    try:
        tx = editor.transaction()
        await tx.start()
        await enqueue_user_vectors_changed(editor, uuid.UUID(tokens["user_id"]))
        async with db_conn.transaction():
            assert await db_conn.fetch(claim) == []  # a worker skips it meanwhile
        await tx.commit()
    finally:
        await editor.close()
    async with db_conn.transaction():
        assert len(await db_conn.fetch(claim)) == 1
    assert len(await _jobs(db_conn)) == 1


async def test_the_worker_runs_the_registered_job(
    settings: Settings, sign_in: Any, client: Client, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    await _make_profile(db_conn, tokens)
    (hiking,) = await _ids(db_conn, "Hiking")
    r = await client.put(
        "/v1/me/interests", headers=bearer(tokens), json={"interest_ids": [hiking]}
    )
    assert r.status_code == 200
    assert len(await _jobs(db_conn)) == 1

    app = create_app(msgspec.structs.replace(settings, run_workers_in_web=True))
    async with AsyncTestClient(app=app) as worker_app:
        assert (await worker_app.get("/health")).status_code == 200
        for _ in range(100):
            done = await db_conn.fetch(
                "SELECT status FROM pgqueuer_log WHERE entrypoint = $1 "
                "AND status NOT IN ('queued', 'picked')",
                USER_VECTORS_CHANGED,
            )
            if done:
                break
            await asyncio.sleep(0.1)
    assert [d["status"] for d in done] == ["successful"]
    assert await _jobs(db_conn) == []
    # The job computed the person's interest vector.
    assert (
        await db_conn.fetchval(
            "SELECT vector_type FROM user_interest_vectors WHERE user_id = $1",
            uuid.UUID(tokens["user_id"]),
        )
        == "positive_v1"
    )
