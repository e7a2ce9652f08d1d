"""POST /v1/waitlist: any country, no sign-in, idempotent."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]


async def test_join_then_join_again(client: Client, db_conn: asyncpg.Connection) -> None:
    first = await client.post("/v1/waitlist", json={"phone_number": "+44 7911 123456"})
    assert first.status_code == 201
    assert first.json() == {"phone_number": "+447911123456"}
    again = await client.post("/v1/waitlist", json={"phone_number": "+447911123456"})
    assert again.status_code == 200
    assert await db_conn.fetchval("SELECT count(*) FROM waitlist_users") == 1


async def test_us_numbers_may_join_too(client: Client) -> None:
    r = await client.post("/v1/waitlist", json={"phone_number": "(202) 555-0143"})
    assert r.status_code == 201
    assert r.json()["phone_number"] == "+12025550143"


async def test_invalid_numbers(client: Client, db_conn: asyncpg.Connection) -> None:
    for body in ({"phone_number": "123"}, {"phone_number": ""}, {}, {"phone_number": 5}):
        r = await client.post("/v1/waitlist", json=body)
        assert r.status_code == 422, body
    assert (await client.post("/v1/waitlist", json={"phone_number": "123"})).json()[
        "code"
    ] == "invalid_phone"
    assert await db_conn.fetchval("SELECT count(*) FROM waitlist_users") == 0


async def test_waitlist_is_rate_limited_per_ip(client: Client, settings: Any) -> None:
    for i in range(settings.waitlist_per_ip_per_hour):
        r = await client.post("/v1/waitlist", json={"phone_number": f"+4479111{i:05d}"})
        assert r.status_code in (200, 201)
    limited = await client.post("/v1/waitlist", json={"phone_number": "+447911199999"})
    assert limited.status_code == 429
    assert "retry-after" in limited.headers
