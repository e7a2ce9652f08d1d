"""A web process holds one LISTEN connection (db/listen.py), and what it hears
reaches both the sign-in cache and the WebSocket hub, before and after the
connection is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import jwt
import msgspec
import pytest
from helpers import TEST_OTP_CODE, bearer, block, make_phone, until
from litestar.testing import AsyncTestClient

from db.listen import Notifications
from gateway.hub import Hub
from server.app import create_app
from server.auth.session_cache import SessionCache
from server.settings import Settings

Client = AsyncTestClient[Any]
Person = dict[str, Any]


@pytest.fixture
async def web(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(msgspec.structs.replace(settings, session_cache_seconds=30))
    async with AsyncTestClient(app=app) as client:
        await until(lambda: notifications(client).up)
        yield client


def notifications(client: Client) -> Notifications:
    found: Notifications = client.app.state.notifications
    return found


def sessions(client: Client) -> SessionCache:
    cache: SessionCache = client.app.state.auth.sessions
    return cache


def hub(client: Client) -> Hub:
    found: Hub = client.app.state.realtime
    return found


async def listeners(db_conn: asyncpg.Connection) -> list[int]:
    """The backends of this test's database that LISTEN (their last statement)."""
    rows = await db_conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
    )
    return [r["pid"] for r in rows]


async def person(client: Client, db_conn: asyncpg.Connection) -> Person:
    """Signed in over HTTP, with a social profile."""
    phone = make_phone()
    await client.post("/v1/auth/otp", json={"phone_number": phone})
    r = await client.post("/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE})
    tokens: Person = r.json()
    tokens["profile_id"] = await db_conn.fetchval(
        "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
        "VALUES ($1, 'Ada', 'Woman', ARRAY['Man','Woman']) RETURNING id",
        uuid.UUID(tokens["user_id"]),
    )
    return tokens


async def remembered(client: Client, reader: Person, author: Person) -> None:
    """The cache remembers the reader's sign-in, the hub what the reader may see of the author."""
    assert (await client.get("/v1/me", headers=bearer(reader))).status_code == 200
    me = uuid.UUID(reader["user_id"])
    # The app runs in the test client's own event loop (another thread).
    visibility = hub(client).visibility
    await asyncio.to_thread(
        client.blocking_portal.call, visibility.may_see, me, author["profile_id"]
    )
    assert hub(client).visibility.remembers(me, uuid.UUID(author["user_id"]))
    assert sessions(client).remembers(me, _session(reader))


def _session(tokens: Person) -> uuid.UUID:
    sid: str = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    return uuid.UUID(sid)


async def both_hear(client: Client, db_conn: asyncpg.Connection, a: Person, b: Person) -> None:
    """A block reaches the hub; a suspension reaches the cache and the hub."""
    await remembered(client, a, b)
    await block(db_conn, a, b)
    me, other = uuid.UUID(a["user_id"]), uuid.UUID(b["user_id"])
    await until(lambda: not hub(client).visibility.remembers(me, other), what="block unheard")

    await remembered(client, a, b)  # that they may not see each other, this time
    await db_conn.execute("UPDATE users SET status = 'suspended' WHERE id = $1", me)
    await until(lambda: not sessions(client).remembers(me, _session(a)), what="cache deaf")
    await until(lambda: not hub(client).visibility.remembers(me, other), what="hub deaf")


async def test_one_listen_connection_feeds_the_cache_and_the_hub(
    web: Client, db_conn: asyncpg.Connection
) -> None:
    assert len(await listeners(db_conn)) == 1
    a, b = await person(web, db_conn), await person(web, db_conn)
    await both_hear(web, db_conn, a, b)
    assert len(await listeners(db_conn)) == 1


async def test_a_lost_listen_connection_comes_back(
    web: Client, db_conn: asyncpg.Connection
) -> None:
    a, b = await person(web, db_conn), await person(web, db_conn)
    await remembered(web, a, b)
    [old] = await listeners(db_conn)
    await db_conn.execute("SELECT pg_terminate_backend($1)", old)

    async def back() -> bool:
        now = await listeners(db_conn)
        return len(now) == 1 and now[0] != old and notifications(web).up

    await until(back, what="the LISTEN connection did not come back")
    # What was remembered before the loss may have missed changes: forgotten.
    me = uuid.UUID(a["user_id"])
    assert not sessions(web).remembers(me, _session(a))
    assert not hub(web).visibility.remembers(me, uuid.UUID(b["user_id"]))
    # And it hears again (new people: these two already have a block).
    await both_hear(web, db_conn, await person(web, db_conn), await person(web, db_conn))
