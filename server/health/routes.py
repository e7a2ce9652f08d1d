"""GET /health (the process answers) and GET /ready (its database and broker answer)."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from litestar import get
from litestar.datastructures import State
from redis.asyncio import Redis
from redis.exceptions import RedisError

from db.queries import health as q
from server.errors import ApiError, problems

_CHECK_TIMEOUT = 2.0


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    database: str
    redis: str


@get("/health", tags=["health"], opt={"exclude_from_auth": True}, summary="Liveness")
async def health() -> Health:
    return Health(status="ok")


async def _database_ok(pool: asyncpg.Pool) -> bool:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT), pool.acquire() as conn:
            return await q.ping(conn)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False


async def _redis_ok(redis: Redis) -> bool:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT):
            return bool(await redis.ping())
    except (OSError, TimeoutError, RedisError):
        return False


@get(
    "/ready",
    tags=["health"],
    opt={"exclude_from_auth": True},
    summary="Readiness",
    responses=problems(s503="not_ready (the database or Redis does not answer)"),
)
async def ready(state: State) -> Readiness:
    database = "ok" if await _database_ok(state.db_pool) else "unavailable"
    redis_client: Redis | None = state.redis
    redis = "not_configured"
    if redis_client is not None:
        redis = "ok" if await _redis_ok(redis_client) else "unavailable"
    if "unavailable" in (database, redis):
        raise ApiError(503, "not_ready", f"database: {database}, redis: {redis}")
    return Readiness(status="ok", database=database, redis=redis)
