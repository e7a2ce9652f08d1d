"""The readiness probe's query."""

from __future__ import annotations

import asyncpg


async def ping(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT 1") == 1)
