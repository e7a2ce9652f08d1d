"""Support tickets: numbered from 1001, idempotent on client_id, only mine listed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from builders import make_event
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]


async def ticket_count(db_conn: asyncpg.Connection) -> int:
    count: int = await db_conn.fetchval("SELECT count(*) FROM support_tickets")
    return count


async def make_payment(db_conn: asyncpg.Connection, user_id: str) -> str:
    return str(
        await db_conn.fetchval(
            "INSERT INTO payments (user_id, amount_in_cents) VALUES ($1, 500) RETURNING id",
            uuid.UUID(user_id),
        )
    )


async def test_anonymous_and_suspended(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    body = {"category": "other", "body": "Help"}
    assert (await client.post("/v1/support-tickets", json=body)).status_code == 401
    assert (await client.get("/v1/me/support-tickets")).status_code == 401
    me = await sign_in()
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(me["user_id"])
    )
    for r in (
        await client.post("/v1/support-tickets", headers=bearer(me), json=body),
        await client.get("/v1/me/support-tickets", headers=bearer(me)),
    ):
        assert r.status_code == 403
        assert r.json()["code"] == "account_suspended"
    assert await ticket_count(db_conn) == 0


async def test_tickets_are_numbered_from_1001(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    await client.patch("/v1/me", headers=bearer(me), json={"email": "ada@example.com"})
    first = await client.post(
        "/v1/support-tickets",
        headers=bearer(me),
        json={"category": "technical_issue", "body": "The map is blank"},
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["ticket_number"] == 1001
    assert body["category"] == "technical_issue"
    assert body["body"] == "The map is blank"
    assert body["status"] == "new"
    assert body["reply_to_email"] == "ada@example.com"  # my account's email by default
    assert body["metadata"] == {}
    assert body["associated_event_id"] is None
    assert body["associated_payment_id"] is None
    assert body["submitter_user_id"] == me["user_id"]
    assert set(body) == {
        "id",
        "ticket_number",
        "submitter_user_id",
        "category",
        "body",
        "reply_to_email",
        "status",
        "associated_event_id",
        "associated_payment_id",
        "metadata",
        "created_at",
        "updated_at",
    }
    other = await sign_in()
    second = await client.post(
        "/v1/support-tickets",
        headers=bearer(other),
        json={
            "category": "account_issue",
            "body": "Hi",
            "reply_to_email": "bo@example.com",
            "metadata": {"app_version": "1.2.3", "os": "iOS 17.1", "nested": {"a": [1, 2]}},
        },
    )
    assert second.status_code == 201
    assert second.json()["ticket_number"] == 1002
    assert second.json()["reply_to_email"] == "bo@example.com"
    assert second.json()["metadata"] == {
        "app_version": "1.2.3",
        "os": "iOS 17.1",
        "nested": {"a": [1, 2]},
    }
    row = await db_conn.fetchrow(
        "SELECT submitter_user_id, metadata FROM support_tickets WHERE ticket_number = 1002"
    )
    assert str(row["submitter_user_id"]) == other["user_id"]
    assert row["metadata"]["os"] == "iOS 17.1"

    # No email on the account and none given: null.
    third = await client.post(
        "/v1/support-tickets",
        headers=bearer(other),
        json={"category": "other", "body": "x", "reply_to_email": None},
    )
    assert third.json()["reply_to_email"] is None
    assert third.json()["ticket_number"] == 1003


async def test_associated_event_and_payment(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    other = await sign_in()
    event_id = await make_event(db_conn, other["user_id"])
    mine = await make_payment(db_conn, me["user_id"])
    theirs = await make_payment(db_conn, other["user_id"])
    ok = await client.post(
        "/v1/support-tickets",
        headers=bearer(me),
        json={
            "category": "payment_question",
            "body": "Charged twice",
            "associated_event_id": event_id,
            "associated_payment_id": mine,
        },
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["associated_event_id"] == event_id
    assert ok.json()["associated_payment_id"] == mine

    for payment_id in (theirs, str(uuid.uuid4())):
        r = await client.post(
            "/v1/support-tickets",
            headers=bearer(me),
            json={"category": "payment_question", "body": "x", "associated_payment_id": payment_id},
        )
        assert r.status_code == 404
        assert r.json()["code"] == "unknown_payment"
    r = await client.post(
        "/v1/support-tickets",
        headers=bearer(me),
        json={"category": "other", "body": "x", "associated_event_id": str(uuid.uuid4())},
    )
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_event"
    assert await ticket_count(db_conn) == 1


async def test_bad_tickets_write_nothing(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    ok = {"category": "other", "body": "Help"}
    cases: list[dict[str, Any]] = [
        {**ok, "category": "complaint"},
        {"category": "other"},
        {**ok, "body": ""},
        {**ok, "body": "   \n "},
        {**ok, "body": "x" * 10_001},
        {**ok, "body": "nul\u0000"},
        {**ok, "reply_to_email": "not an email"},
        {**ok, "metadata": ["not", "an", "object"]},
        {**ok, "metadata": "text"},
        {**ok, "metadata": {"blob": "x" * 4100}},
        {**ok, "metadata": {"nul": "\u0000"}},
        {**ok, "client_id": "123"},
        {**ok, "status": "resolved"},
    ]
    for body in cases:
        r = await client.post("/v1/support-tickets", headers=bearer(me), json=body)
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_error", body
    assert await ticket_count(db_conn) == 0
    r = await client.post(
        "/v1/support-tickets", headers=bearer(me), json={**ok, "body": "x" * 10_000}
    )
    assert r.status_code == 201


async def test_same_client_id_returns_the_first_ticket(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    body = {"category": "safety", "body": "Someone followed me", "client_id": str(uuid.uuid4())}
    first = await client.post("/v1/support-tickets", headers=bearer(me), json=body)
    again = await client.post(
        "/v1/support-tickets", headers=bearer(me), json={**body, "body": "edited"}
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await ticket_count(db_conn) == 1

    # Concurrent retries of another ticket: one row, one answer.
    retried = {**body, "client_id": str(uuid.uuid4())}
    results = await asyncio.gather(
        *(client.post("/v1/support-tickets", headers=bearer(me), json=retried) for _ in range(6))
    )
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.json()["ticket_number"] for r in results}) == 1
    assert await ticket_count(db_conn) == 2


async def test_list_shows_only_mine_newest_first(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    other = await sign_in()
    mine = []
    for i in range(5):
        r = await client.post(
            "/v1/support-tickets", headers=bearer(me), json={"category": "other", "body": f"#{i}"}
        )
        mine.append(r.json()["ticket_number"])
        await client.post(
            "/v1/support-tickets", headers=bearer(other), json={"category": "other", "body": "o"}
        )
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/v1/me/support-tickets", headers=bearer(me), params=params)
        assert r.status_code == 200
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [t["ticket_number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(mine, reverse=True)

    fresh = await sign_in()
    r = await client.get("/v1/me/support-tickets", headers=bearer(fresh))
    assert r.json() == {"items": [], "next_cursor": None}
    r = await client.get("/v1/me/support-tickets", headers=bearer(me), params={"cursor": "@@"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_cursor"


async def test_tickets_are_rate_limited_per_day(client: Client, sign_in: Any) -> None:
    me = await sign_in()
    for _ in range(20):
        r = await client.post(
            "/v1/support-tickets", headers=bearer(me), json={"category": "other", "body": "x"}
        )
        assert r.status_code == 201
    r = await client.post(
        "/v1/support-tickets", headers=bearer(me), json={"category": "other", "body": "x"}
    )
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
