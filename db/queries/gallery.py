"""Event gallery photos (event_photos)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

from db.rows import many, one

# The event_photos.status CHECK.
GalleryStatus = Literal["visible", "hidden_by_host", "pending_review"]


class GalleryPhotoRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    event_id: uuid.UUID
    uploader_user_id: uuid.UUID
    uploader_profile_id: uuid.UUID | None
    image_url: str
    thumbnail_url: str | None
    status: GalleryStatus
    created_at: datetime


_COLUMNS = """
    p.id, p.event_id, p.uploader_user_id,
    (SELECT sp.id FROM social_profiles sp WHERE sp.user_id = p.uploader_user_id)
        AS uploader_profile_id,
    p.image_url, p.thumbnail_url, p.status, p.created_at
"""


async def lock_upload_count(
    conn: asyncpg.Connection, event_id: uuid.UUID, user_id: uuid.UUID
) -> int:
    """The user's photos in the event, under their row's lock (uploads take turns)."""
    await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
    count: int = await conn.fetchval(
        "SELECT count(*) FROM event_photos WHERE event_id = $1 AND uploader_user_id = $2",
        event_id,
        user_id,
    )
    return count


async def insert_photo(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    user_id: uuid.UUID,
    image_key: str,
    thumbnail_key: str,
) -> GalleryPhotoRow:
    row = await conn.fetchrow(
        f"""
        WITH p AS (
            INSERT INTO event_photos (event_id, uploader_user_id, image_url, thumbnail_url)
            VALUES ($1, $2, $3, $4) RETURNING *
        )
        SELECT {_COLUMNS} FROM p
        """,
        event_id,
        user_id,
        image_key,
        thumbnail_key,
    )
    photo = one(GalleryPhotoRow, row)
    assert photo is not None
    return photo


# What viewer $1 sees of the event's photos: visible ones, their own, and (the
# host, $2) hidden ones; never photos of someone with a block either way.
_SEEN = """
    (p.status = 'visible' OR p.uploader_user_id = $1 OR $2::bool)
    AND NOT blocked_between($1, p.uploader_user_id)
"""


async def photos(
    conn: asyncpg.Connection,
    viewer_id: uuid.UUID,
    is_host: bool,
    event_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[GalleryPhotoRow]:
    """Newest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM event_photos p
        WHERE p.event_id = $3 AND {_SEEN}
          AND ($4::timestamptz IS NULL OR (p.created_at, p.id) < ($4, $5))
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT $6
        """,
        viewer_id,
        is_host,
        event_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return many(GalleryPhotoRow, rows)


async def photo(
    conn: asyncpg.Connection,
    viewer_id: uuid.UUID,
    is_host: bool,
    event_id: uuid.UUID,
    photo_id: uuid.UUID,
) -> GalleryPhotoRow | None:
    """One photo the viewer sees, locked for a change."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM event_photos p WHERE p.event_id = $3 AND p.id = $4 "
        f"AND {_SEEN} FOR UPDATE OF p",
        viewer_id,
        is_host,
        event_id,
        photo_id,
    )
    return one(GalleryPhotoRow, row)


async def set_status(conn: asyncpg.Connection, photo_id: uuid.UUID, status: GalleryStatus) -> None:
    await conn.execute("UPDATE event_photos SET status = $2 WHERE id = $1", photo_id, status)


async def delete_photo(conn: asyncpg.Connection, photo_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM event_photos WHERE id = $1", photo_id)
