"""Social links and the silent shares of them with people met."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from db.rows import many, one


class LinkRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    platform: str
    url: str
    is_public_on_host_profile: bool
    created_at: datetime


_LINK_COLUMNS = "id, platform, url, is_public_on_host_profile, created_at"


async def lock_link_count(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    """The user's link count, under their row's lock: concurrent adds take turns."""
    await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
    count: int = await conn.fetchval(
        "SELECT count(*) FROM user_social_links WHERE user_id = $1", user_id
    )
    return count


async def has_host_profile(conn: asyncpg.Connection, user_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM host_profiles WHERE user_id = $1)", user_id
    )
    return found


async def insert_link(
    conn: asyncpg.Connection, user_id: uuid.UUID, platform: str, url: str, public: bool
) -> LinkRow:
    row = await conn.fetchrow(
        "INSERT INTO user_social_links (user_id, platform, url, is_public_on_host_profile) "
        f"VALUES ($1, $2, $3, $4) RETURNING {_LINK_COLUMNS}",
        user_id,
        platform,
        url,
        public,
    )
    link = one(LinkRow, row)
    assert link is not None
    return link


async def my_links(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[LinkRow]:
    rows = await conn.fetch(
        f"SELECT {_LINK_COLUMNS} FROM user_social_links WHERE user_id = $1 ORDER BY created_at, id",
        user_id,
    )
    return many(LinkRow, rows)


async def my_link(
    conn: asyncpg.Connection, user_id: uuid.UUID, link_id: uuid.UUID, *, lock: bool = False
) -> LinkRow | None:
    row = await conn.fetchrow(
        f"SELECT {_LINK_COLUMNS} FROM user_social_links WHERE id = $2 AND user_id = $1"
        + (" FOR UPDATE" if lock else ""),
        user_id,
        link_id,
    )
    return one(LinkRow, row)


# What PATCH /v1/me/social-links/{id} may change.
LINK_COLUMNS = ("platform", "url", "is_public_on_host_profile")


async def update_link(
    conn: asyncpg.Connection, link_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    names = [name for name in LINK_COLUMNS if name in changes]
    if not names:
        return
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE user_social_links SET {sets} WHERE id = $1",
        link_id,
        *(changes[name] for name in names),
    )


async def delete_link(conn: asyncpg.Connection, user_id: uuid.UUID, link_id: uuid.UUID) -> bool:
    """Its shares go with it (ON DELETE CASCADE)."""
    status: str = await conn.execute(
        "DELETE FROM user_social_links WHERE id = $2 AND user_id = $1", user_id, link_id
    )
    return status != "DELETE 0"


class ShareRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    receiver_profile_id: uuid.UUID
    social_link_id: uuid.UUID
    created_at: datetime


_SHARE_COLUMNS = "id, receiver_profile_id, social_link_id, created_at"


async def share(
    conn: asyncpg.Connection, sharer: uuid.UUID, receiver: uuid.UUID, link_id: uuid.UUID
) -> tuple[ShareRow, bool]:
    """The share, and whether it is new (each link once per receiver)."""
    args = (sharer, receiver, link_id)
    row = await conn.fetchrow(
        "INSERT INTO social_connections (sharer_profile_id, receiver_profile_id, social_link_id) "
        "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING "
        f"RETURNING {_SHARE_COLUMNS}",
        *args,
    )
    if row is not None:
        return ShareRow(**row), True
    # A new statement sees a concurrent first share that committed a moment ago.
    row = await conn.fetchrow(
        f"SELECT {_SHARE_COLUMNS} FROM social_connections WHERE sharer_profile_id = $1 "
        "AND receiver_profile_id = $2 AND social_link_id = $3",
        *args,
    )
    assert row is not None
    return ShareRow(**row), False


class SharedWithMeRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    sharer_profile_id: uuid.UUID
    social_link_id: uuid.UUID
    platform: str
    url: str
    created_at: datetime


async def shared_with_me(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[SharedWithMeRow]:
    """Links shared with the user, newest first; none across a block either way."""
    rows = await conn.fetch(
        """
        SELECT s.id, s.sharer_profile_id, s.social_link_id, l.platform, l.url, s.created_at
        FROM social_connections s
        JOIN social_profiles me ON me.id = s.receiver_profile_id AND me.user_id = $1
        JOIN user_social_links l ON l.id = s.social_link_id
        WHERE NOT blocked_between($1, l.user_id)
          AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2, $3))
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT $4
        """,
        user_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return many(SharedWithMeRow, rows)
