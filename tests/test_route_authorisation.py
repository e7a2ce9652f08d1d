"""Every route of the OpenAPI document refuses who must not get through.

Per-domain tests check the finer rules (another user, a block, staff roles);
this one makes sure no route, present or future, forgets the basics: without
a token 401, as a suspended or banned user 403 `account_suspended`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import pytest
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]

PUBLIC = {
    "/health",
    "/ready",
    "/v1/auth/otp",
    "/v1/auth/verify",
    "/v1/auth/refresh",
    "/v1/auth/logout",
    "/v1/waitlist",
    "/v1/webhooks/stripe",
}


async def operations(client: Client) -> list[tuple[str, str]]:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    found = [
        (method.upper(), re.sub(r"\{\w+\}", str(uuid.uuid4()), path))
        for path, item in paths.items()
        if path not in PUBLIC
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(found) > 40  # the document really lists the app's routes
    return found


async def test_every_route_needs_a_token(client: Client) -> None:
    for method, url in await operations(client):
        r = await client.request(method, url, json={})
        assert r.status_code == 401, (method, url, r.status_code)
        assert r.json()["code"] == "unauthorized"


@pytest.mark.parametrize("status", ["suspended", "banned"])
async def test_suspended_and_banned_users_are_stopped_everywhere(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, status: str
) -> None:
    tokens = await sign_in()
    await db_conn.execute(
        "UPDATE users SET status = $2 WHERE id = $1", uuid.UUID(tokens["user_id"]), status
    )
    for method, url in await operations(client):
        r = await client.request(method, url, headers=bearer(tokens), json={})
        assert r.status_code == 403, (method, url, r.status_code)
        assert r.json()["code"] == "account_suspended"
