"""Events (the events issue adds the rest)."""

from __future__ import annotations

import uuid

import asyncpg


async def event_exists(conn: asyncpg.Connection, event_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM events WHERE id = $1)", event_id
    )
    return found
