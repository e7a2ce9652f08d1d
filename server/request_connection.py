"""One pooled connection per HTTP request, given back when the request ends.

The auth check takes it first (so the handler's `conn` is the same
connection: one checkout per request), or the `conn` dependency takes it on
first use. It goes back to the pool when the response starts (the
`before_send` hook in server/request_context.py), or at the latest in
`BearerAuthMiddleware`'s `finally`. So nothing may use `conn` once the
handler has returned (no background tasks on it). Not a generator dependency: Litestar does not
clean those up when a sibling dependency fails (a bad `?limit=` would leak a
connection).
"""

from __future__ import annotations

import asyncio

import asyncpg
from litestar.types import Scope

from server.errors import database_unavailable

_KEY = "momento_db_connection"


async def request_connection(scope: Scope, pool: asyncpg.Pool) -> asyncpg.Connection:
    """The request's connection; waits at most DATABASE_ACQUIRE_TIMEOUT_SECONDS
    for one (then 503 `database_busy`), 503 `database_unavailable` when the
    database cannot be reached."""
    state = scope.setdefault("state", {})
    conn: asyncpg.Connection | None = state.get(_KEY)
    if conn is None:
        timeout = scope["litestar_app"].state.settings.database_acquire_timeout_seconds
        conn = state[_KEY] = await acquire(pool, timeout)
    return conn


async def acquire(pool: asyncpg.Pool, wait_seconds: float) -> asyncpg.Connection:
    """A connection from the pool within `wait_seconds`, else 503
    `database_busy`; 503 `database_unavailable` when the database cannot be
    reached. Give it back with pool.release."""
    try:
        # asyncio.timeout, not acquire(timeout=): asyncpg would run the wait in
        # a task of its own (asyncio.wait_for), a task per request.
        async with asyncio.timeout(wait_seconds):
            conn: asyncpg.Connection = await pool.acquire()
    except TimeoutError:
        raise database_unavailable("database_busy") from None
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as exc:
        raise database_unavailable() from exc
    return conn


async def release_request_connection(scope: Scope, pool: asyncpg.Pool) -> None:
    conn = scope.get("state", {}).pop(_KEY, None)
    if conn is not None:
        await pool.release(conn)
