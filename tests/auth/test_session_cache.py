"""The per-process memory of valid sign-ins: it must never keep a revoked one alive.

What must hold: a sign-in ended anywhere (another process, plain SQL, an
admin) stops working as soon as PostgreSQL's notification arrives; one ended
by this process stops at once; and while the notification channel is down
nothing is remembered at all.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import jwt
import msgspec
import pytest
from helpers import TEST_OTP_CODE, bearer, make_phone, until
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.session_cache import SessionCache
from server.settings import Settings

Client = AsyncTestClient[Any]


@pytest.fixture
async def cached(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(msgspec.structs.replace(settings, session_cache_seconds=30))
    async with AsyncTestClient(app=app) as client:
        await until(lambda: sessions_of(client).listening)
        yield client


def sessions_of(client: Client) -> SessionCache:
    cache: SessionCache = client.app.state.auth.sessions
    return cache


async def sign_in_with(client: Client) -> dict[str, Any]:
    phone = make_phone()
    await client.post("/v1/auth/otp", json={"phone_number": phone})
    r = await client.post("/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE})
    body: dict[str, Any] = r.json()
    return body


async def status_after_change(client: Client, tokens: dict[str, Any]) -> int:
    """Poll until the app reacts (the NOTIFY travels asynchronously); the final status.
    The deadline is generous so a loaded machine doesn't fail the test."""
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        r = await client.get("/v1/me", headers=bearer(tokens))
        if r.status_code != 200:
            return r.status_code
        await asyncio.sleep(0.02)
    return 200


async def test_valid_sign_ins_are_remembered(cached: Client) -> None:
    tokens = await sign_in_with(cached)
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code == 200
    assert sessions_of(cached).remembers(uuid.UUID(tokens["user_id"]), uuid.UUID(_sid(tokens)))


def _sid(tokens: dict[str, Any]) -> str:
    sid: str = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    return sid


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE users SET status = 'suspended' WHERE id = $1",
        "UPDATE auth_sessions SET revoked_at = now() WHERE user_id = $1",
        "DELETE FROM auth_sessions WHERE user_id = $1",
        "DELETE FROM users WHERE id = $1",
    ],
)
async def test_changes_made_elsewhere_end_the_sign_in(
    cached: Client, db_conn: asyncpg.Connection, change: str
) -> None:
    tokens = await sign_in_with(cached)
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code == 200
    await db_conn.execute(change, uuid.UUID(tokens["user_id"]))  # another process, or psql
    assert await status_after_change(cached, tokens) in (401, 403)
    # And it stays ended.
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code in (401, 403)


async def test_changes_made_here_take_effect_at_once(cached: Client) -> None:
    tokens = await sign_in_with(cached)
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code == 200
    r = await cached.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200
    reuse = await cached.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    # No waiting for the notification: this process forgot the session itself.
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code == 401

    other = await sign_in_with(cached)
    assert (await cached.get("/v1/me", headers=bearer(other))).status_code == 200
    out = await cached.post("/v1/auth/logout", json={"refresh_token": other["refresh_token"]})
    assert out.status_code == 204
    assert (await cached.get("/v1/me", headers=bearer(other))).status_code == 401


async def test_nothing_is_remembered_while_the_channel_is_down(
    cached: Client, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in_with(cached)
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code == 200
    cache = sessions_of(cached)
    await db_conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    )
    await until(lambda: not cache.listening)
    # Changed while nobody listens: the app must ask the database, not its memory.
    await db_conn.execute(
        "UPDATE users SET status = 'banned' WHERE id = $1", uuid.UUID(tokens["user_id"])
    )
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code == 403
    # The listener comes back by itself, with an empty memory.
    await until(lambda: cache.listening)
    await db_conn.execute(
        "UPDATE users SET status = 'active' WHERE id = $1", uuid.UUID(tokens["user_id"])
    )
    assert (await cached.get("/v1/me", headers=bearer(tokens))).status_code == 200
