"""Social profile rules: the caller's own profile, public views, discover, likes."""

from __future__ import annotations

import uuid

import asyncpg

from db.queries import profiles as q
from server.errors import ApiError


async def require_profile_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID:
    """The caller's social profile id; 409 when they have not created one yet."""
    profile_id = await q.own_profile_id(conn, user_id)
    if profile_id is None:
        raise ApiError(
            409, "social_profile_required", "Create your profile first (PUT /v1/me/social-profile)"
        )
    return profile_id
