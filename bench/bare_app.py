"""The ceiling for `bench/rest.py`: bare Litestar + asyncpg, one query per request.

`GET /v1/me` takes the user id from the `x-user-id` header (no token, no
middleware, no dependency injection) and runs the same SELECT as
`db.queries.users.get_account` on a pool of the same size, with jsonb decoded
by msgspec as the real pool does. `GET /ping` runs no query: the bench uses it
to show that its load generator can go faster than the bare handler.

Run by bench/rest.py as
`uvicorn bare_app:create_app --factory --app-dir bench`, configured by
BENCH_DATABASE_URL, BENCH_POOL_MIN and BENCH_POOL_MAX.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Request, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

ACCOUNT_SQL = """
    SELECT u.id, u.phone_number, u.email, u.last_name, u.birth_date, u.is_verified, u.status,
           u.active_role, u.user_number, u.min_lead_time_days, u.availability_preferences,
           u.distance_preference, u.price_sensitivity, u.home_latitude, u.home_longitude,
           u.created_at, u.updated_at,
           to_jsonb(sp) AS social_profile,
           to_jsonb(hp) AS host_profile
    FROM users u
    LEFT JOIN social_profiles sp ON sp.user_id = u.id
    LEFT JOIN host_profiles hp ON hp.user_id = u.id
    WHERE u.id = $1
"""


def _json_dumps(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=_json_dumps, decoder=msgspec.json.decode, schema="pg_catalog"
        )


@contextlib.asynccontextmanager
async def _pool(app: Litestar) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_DATABASE_URL"],
        min_size=int(os.environ.get("BENCH_POOL_MIN", "2")),
        max_size=int(os.environ.get("BENCH_POOL_MAX", "10")),
        init=_init_connection,
    )
    try:
        yield
    finally:
        await app.state.pool.close()


@get("/v1/me")
async def me(request: Request[Any, Any, Any], state: State) -> dict[str, Any]:
    user_id = uuid.UUID(request.headers["x-user-id"])
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow(ACCOUNT_SQL, user_id)
    if row is None:
        raise NotFoundException()
    return dict(row)


@get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[me, ping], lifespan=[_pool], debug=False)
