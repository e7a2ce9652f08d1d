"""The Memory Book: one `connections` row per person met, owned by the person
who met them, with a snapshot of the other person taken when they first met."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from db.rows import many, one

# Every ordered pair of people who attended event $1, each with a snapshot of
# the other taken now: first name, the face card's storage key (else the main
# photo's), and whether their profile was Authentic (an in-app photo under 12
# months old). A pair that met before keeps its entry untouched; a pair with a
# block either way gets none.
_RECORD_MEETINGS = """
WITH people AS (
    SELECT sp.id AS profile_id, sp.user_id, sp.first_name,
           coalesce(fp.image_url, cp.image_url) AS photo_key,
           EXISTS (SELECT 1 FROM profile_photos p
                   WHERE p.profile_id = sp.id AND p.is_in_app_photo
                     AND p.created_at > now() - interval '12 months') AS is_authentic
    FROM attendance a
    JOIN social_profiles sp ON sp.id = a.profile_id
    LEFT JOIN profile_photos fp ON fp.id = sp.current_face_card_photo_id
    LEFT JOIN profile_photos cp ON cp.id = sp.current_photo_id
    WHERE a.event_id = $1 AND a.status = 'attended'
)
INSERT INTO connections (user_profile_id, connected_profile_id, event_id,
                         connected_profile_snapshot_name,
                         connected_profile_snapshot_face_card_url, was_photo_authentic)
SELECT me.profile_id, other.profile_id, $1, other.first_name, other.photo_key,
       other.is_authentic
FROM people me
JOIN people other ON other.profile_id <> me.profile_id
WHERE NOT EXISTS (SELECT 1 FROM blocked_users b
                  WHERE (b.blocker_user_id = me.user_id AND b.blocked_user_id = other.user_id)
                     OR (b.blocker_user_id = other.user_id AND b.blocked_user_id = me.user_id))
ON CONFLICT (user_profile_id, connected_profile_id) DO NOTHING
"""


async def record_meetings(conn: asyncpg.Connection, event_id: uuid.UUID) -> int:
    """Memory Book entries for the event's attendees (see _RECORD_MEETINGS); safe to
    repeat. Returns how many entries are new."""
    status: str = await conn.execute(_RECORD_MEETINGS, event_id)
    return int(status.rsplit(" ", 1)[1])


class ConnectionRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    connected_profile_id: uuid.UUID
    event_id: uuid.UUID | None
    connected_profile_snapshot_name: str | None
    # A storage key; the service turns it into a URL.
    connected_profile_snapshot_face_card_url: str | None
    was_photo_authentic: bool
    is_favorite: bool
    wants_to_connect_again: bool
    does_not_want_to_connect_again: bool
    private_notes: str | None
    shared_event_count: int
    created_at: datetime
    updated_at: datetime


# The owner's ($1, users.id) entries whose other person has no block either way
# with them: a block hides an entry from both books, an unblock brings it back.
_MINE = """
    FROM connections c
    JOIN social_profiles me ON me.id = c.user_profile_id AND me.user_id = $1
    JOIN social_profiles other ON other.id = c.connected_profile_id
    WHERE NOT blocked_between(me.user_id, other.user_id)
"""
_COLUMNS = """
    c.id, c.connected_profile_id, c.event_id, c.connected_profile_snapshot_name,
    c.connected_profile_snapshot_face_card_url, c.was_photo_authentic, c.is_favorite,
    c.wants_to_connect_again, c.does_not_want_to_connect_again, c.private_notes,
    (SELECT count(*) FROM attendance x JOIN attendance y
        ON y.event_id = x.event_id AND y.profile_id = c.connected_profile_id
        AND y.status = 'attended'
     WHERE x.profile_id = c.user_profile_id AND x.status = 'attended')::int
        AS shared_event_count,
    c.created_at, c.updated_at
"""


async def my_connections(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    favorite: bool | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ConnectionRow]:
    """Newest first; `favorite` filters on is_favorite when set."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} {_MINE}
          AND ($2::bool IS NULL OR c.is_favorite = $2)
          AND ($3::timestamptz IS NULL OR (c.created_at, c.id) < ($3, $4))
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT $5
        """,
        user_id,
        favorite,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return many(ConnectionRow, rows)


async def my_connection(
    conn: asyncpg.Connection, user_id: uuid.UUID, connection_id: uuid.UUID
) -> ConnectionRow | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} {_MINE} AND c.id = $2", user_id, connection_id)
    return one(ConnectionRow, row)


async def lock_my_connection(
    conn: asyncpg.Connection, user_id: uuid.UUID, connection_id: uuid.UUID
) -> bool:
    found = await conn.fetchval(
        f"SELECT c.id {_MINE} AND c.id = $2 FOR UPDATE OF c", user_id, connection_id
    )
    return found is not None


# The owner's own columns: what PATCH /v1/connections/{id} may change.
OWNER_COLUMNS = (
    "is_favorite",
    "wants_to_connect_again",
    "does_not_want_to_connect_again",
    "private_notes",
)


async def update_connection(
    conn: asyncpg.Connection, connection_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    names = [name for name in OWNER_COLUMNS if name in changes]
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE connections SET {sets}, updated_at = now() WHERE id = $1",
        connection_id,
        *(changes[name] for name in names),
    )


async def in_memory_book(
    conn: asyncpg.Connection, owner_profile_id: uuid.UUID, other_profile_id: uuid.UUID
) -> bool:
    """The owner has an entry for the other person."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM connections "
        "WHERE user_profile_id = $1 AND connected_profile_id = $2)",
        owner_profile_id,
        other_profile_id,
    )
    return found
