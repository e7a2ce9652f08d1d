"""Social profiles: the caller's own, public views, discover, likes."""

from __future__ import annotations

import uuid

import asyncpg


async def own_profile_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    profile_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM social_profiles WHERE user_id = $1", user_id
    )
    return profile_id
