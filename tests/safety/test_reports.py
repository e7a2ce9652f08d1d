"""Reports: filed once per client_id, against anyone who exists, rate-limited."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from builders import make_event
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]


async def person(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> dict[str, Any]:
    tokens = await sign_in()
    tokens["profile_id"] = str(
        await db_conn.fetchval(
            "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
            "VALUES ($1, 'Ada', 'Woman', ARRAY['Man']) RETURNING id",
            uuid.UUID(tokens["user_id"]),
        )
    )
    return tokens


async def report_count(db_conn: asyncpg.Connection) -> int:
    count: int = await db_conn.fetchval("SELECT count(*) FROM reports")
    return count


async def test_anonymous_and_suspended(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn)
    body = {"reported_profile_id": bo["profile_id"], "category": "spam"}
    r = await client.post("/v1/reports", json=body)
    assert r.status_code == 401
    await db_conn.execute(
        "UPDATE users SET status = 'banned' WHERE id = $1", uuid.UUID(me["user_id"])
    )
    r = await client.post("/v1/reports", headers=bearer(me), json=body)
    assert r.status_code == 403
    assert r.json()["code"] == "account_suspended"
    assert await report_count(db_conn) == 0


async def test_report_is_filed(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn)
    event_id = await make_event(db_conn, bo["user_id"])
    r = await client.post(
        "/v1/reports",
        headers=bearer(me),
        json={
            "reported_profile_id": bo["profile_id"],
            "category": "harassment",
            "comments": "  Rude at the picnic  ",
            "event_id": event_id,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["reported_profile_id"] == bo["profile_id"]
    assert body["category"] == "harassment"
    assert body["comments"] == "Rude at the picnic"
    assert body["event_id"] == event_id
    assert body["status"] == "pending"
    assert set(body) == {
        "id",
        "reported_profile_id",
        "category",
        "comments",
        "event_id",
        "status",
        "created_at",
    }
    row = await db_conn.fetchrow("SELECT * FROM reports WHERE id = $1", uuid.UUID(body["id"]))
    assert str(row["reporter_user_id"]) == me["user_id"]
    assert str(row["reported_user_id"]) == bo["user_id"]

    minimal = await client.post(
        "/v1/reports",
        headers=bearer(me),
        json={"reported_profile_id": bo["profile_id"], "category": "no_show"},
    )
    assert minimal.status_code == 201
    assert minimal.json()["comments"] is None
    assert minimal.json()["event_id"] is None


async def test_reporting_works_across_blocks_and_suspensions(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn)
    cy = await person(client, sign_in, db_conn)
    await client.post("/v1/blocks", headers=bearer(me), json={"profile_id": bo["profile_id"]})
    await client.post("/v1/blocks", headers=bearer(cy), json={"profile_id": me["profile_id"]})
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(cy["user_id"])
    )
    for target in (bo, cy):
        r = await client.post(
            "/v1/reports",
            headers=bearer(me),
            json={"reported_profile_id": target["profile_id"], "category": "safety_concern"},
        )
        assert r.status_code == 201, r.text
    # Bo, blocked by me, can still report me.
    r = await client.post(
        "/v1/reports",
        headers=bearer(bo),
        json={"reported_profile_id": me["profile_id"], "category": "other"},
    )
    assert r.status_code == 201
    assert await report_count(db_conn) == 3


async def test_bad_reports_write_nothing(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn)
    ok = {"reported_profile_id": bo["profile_id"], "category": "spam"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**ok, "reported_profile_id": str(uuid.uuid4())}, 404, "not_found"),
        ({**ok, "reported_profile_id": me["profile_id"]}, 422, "cannot_report_self"),
        ({**ok, "event_id": str(uuid.uuid4())}, 404, "unknown_event"),
        ({**ok, "category": "rude"}, 422, "validation_error"),
        ({**ok, "category": None}, 422, "validation_error"),
        ({"reported_profile_id": bo["profile_id"]}, 422, "validation_error"),
        ({**ok, "comments": "x" * 5001}, 422, "validation_error"),
        ({**ok, "comments": "nul\u0000byte"}, 422, "validation_error"),
        ({**ok, "client_id": "not-a-uuid"}, 422, "validation_error"),
        ({**ok, "reported_user_id": bo["user_id"]}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = await client.post("/v1/reports", headers=bearer(me), json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), body
    assert await report_count(db_conn) == 0
    r = await client.post("/v1/reports", headers=bearer(me), json={**ok, "comments": "x" * 5000})
    assert r.status_code == 201


async def test_same_client_id_returns_the_first_report(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn)
    client_id = str(uuid.uuid4())
    body = {"reported_profile_id": bo["profile_id"], "category": "spam", "client_id": client_id}
    first = await client.post("/v1/reports", headers=bearer(me), json=body)
    again = await client.post(
        "/v1/reports", headers=bearer(me), json={**body, "comments": "changed my mind"}
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await report_count(db_conn) == 1

    # Another reporter may happen to pick the same client_id: a report of their own.
    cy = await person(client, sign_in, db_conn)
    theirs = await client.post("/v1/reports", headers=bearer(cy), json=body)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]
    assert await report_count(db_conn) == 2


async def test_concurrent_retries_make_one_report(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn)
    body = {
        "reported_profile_id": bo["profile_id"],
        "category": "fake_profile",
        "client_id": str(uuid.uuid4()),
    }
    results = await asyncio.gather(
        *(client.post("/v1/reports", headers=bearer(me), json=body) for _ in range(6))
    )
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.json()["id"] for r in results}) == 1
    assert await report_count(db_conn) == 1


async def test_reports_are_rate_limited_per_day(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await person(client, sign_in, db_conn)
    bo = await person(client, sign_in, db_conn)
    kept_id = str(uuid.uuid4())
    for i in range(20):
        body: dict[str, Any] = {"reported_profile_id": bo["profile_id"], "category": "spam"}
        if i == 0:
            body["client_id"] = kept_id
        r = await client.post("/v1/reports", headers=bearer(me), json=body)
        assert r.status_code == 201, i
    r = await client.post(
        "/v1/reports",
        headers=bearer(me),
        json={"reported_profile_id": bo["profile_id"], "category": "spam"},
    )
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
    assert await report_count(db_conn) == 20
    # A retry of a report already filed still gets its answer.
    r = await client.post(
        "/v1/reports",
        headers=bearer(me),
        json={"reported_profile_id": bo["profile_id"], "category": "spam", "client_id": kept_id},
    )
    assert r.status_code == 201
    # Someone else is not limited by my reports.
    other = await person(client, sign_in, db_conn)
    r = await client.post(
        "/v1/reports",
        headers=bearer(other),
        json={"reported_profile_id": bo["profile_id"], "category": "spam"},
    )
    assert r.status_code == 201
