"""Profile photos (a person's camera roll) and host photos.

`image_url` / `thumbnail_url` columns hold storage KEYS; the API turns them
into URLs. Reads that show one person's photos to another take the viewer and
go through `user_visible_to`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

# ── Profile photos ──────────────────────────────────────────────────────────

PROFILE_PHOTO_COLUMNS = "id, profile_id, image_url, thumbnail_url, is_in_app_photo, created_at"


async def lock_profile_photo_count(conn: asyncpg.Connection, profile_id: uuid.UUID) -> int:
    """How many photos the profile has, holding the profile's row lock until the
    transaction ends, so concurrent uploads cannot both pass the limit."""
    count: int = await conn.fetchval(
        """
        SELECT count(p.id)
        FROM (SELECT id FROM social_profiles WHERE id = $1 FOR UPDATE) sp
        LEFT JOIN profile_photos p ON p.profile_id = sp.id
        """,
        profile_id,
    )
    return count


async def count_profile_photos(conn: asyncpg.Connection, profile_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM profile_photos WHERE profile_id = $1", profile_id
    )
    return count


async def insert_profile_photo(
    conn: asyncpg.Connection,
    profile_id: uuid.UUID,
    image_key: str,
    thumbnail_key: str | None,
    is_in_app_photo: bool,
) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        f"""
        INSERT INTO profile_photos (profile_id, image_url, thumbnail_url, is_in_app_photo)
        VALUES ($1, $2, $3, $4)
        RETURNING {PROFILE_PHOTO_COLUMNS}
        """,
        profile_id,
        image_key,
        thumbnail_key,
        is_in_app_photo,
    )
    return row


async def list_profile_photos(
    conn: asyncpg.Connection,
    profile_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The owner's photos, newest first, after the (created_at, id) cursor key."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {PROFILE_PHOTO_COLUMNS}
        FROM profile_photos
        WHERE profile_id = $1
          AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,
        profile_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def delete_profile_photo(
    conn: asyncpg.Connection, profile_id: uuid.UUID, photo_id: uuid.UUID
) -> asyncpg.Record | None:
    """Delete one of the profile's photos; the keys of its files to delete, or None
    when it is not theirs. A file a Memory Book snapshot shows is kept (its key
    comes back NULL): the people met then keep the face they saw."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        DELETE FROM profile_photos p WHERE p.id = $1 AND p.profile_id = $2
        RETURNING CASE WHEN EXISTS (
                   SELECT 1 FROM connections c
                   WHERE c.connected_profile_id = p.profile_id
                     AND c.connected_profile_snapshot_face_card_url = p.image_url)
               THEN NULL ELSE p.image_url END AS image_url,
               p.thumbnail_url
        """,
        photo_id,
        profile_id,
    )
    return row


async def profile_photo_summary(
    conn: asyncpg.Connection, profile_id: uuid.UUID, *, viewer_id: uuid.UUID
) -> asyncpg.Record | None:
    """`photo_key`, `face_card_key` (None when unset) and `is_authentic` (an in-app
    photo under 12 months old) of a profile the viewer may see; None otherwise."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT cp.image_url AS photo_key, fp.image_url AS face_card_key,
               EXISTS (
                   SELECT 1 FROM profile_photos p
                   WHERE p.profile_id = sp.id AND p.is_in_app_photo
                     AND p.created_at > now() - interval '12 months'
               ) AS is_authentic
        FROM social_profiles sp
        LEFT JOIN profile_photos cp ON cp.id = sp.current_photo_id
        LEFT JOIN profile_photos fp ON fp.id = sp.current_face_card_photo_id
        WHERE sp.id = $1 AND user_visible_to($2, sp.user_id)
        """,
        profile_id,
        viewer_id,
    )
    return row


# ── Host photos ─────────────────────────────────────────────────────────────

HOST_PHOTO_COLUMNS = "id, host_id, image_url, photo_type, caption, created_at"


async def lock_host_photo_count(conn: asyncpg.Connection, host_id: uuid.UUID) -> int:
    """Like lock_profile_photo_count, for a host profile."""
    count: int = await conn.fetchval(
        """
        SELECT count(p.id)
        FROM (SELECT id FROM host_profiles WHERE id = $1 FOR UPDATE) h
        LEFT JOIN host_photos p ON p.host_id = h.id
        """,
        host_id,
    )
    return count


async def count_host_photos(conn: asyncpg.Connection, host_id: uuid.UUID) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM host_photos WHERE host_id = $1", host_id)
    return count


async def insert_host_photo(
    conn: asyncpg.Connection,
    host_id: uuid.UUID,
    image_key: str,
    photo_type: str,
    caption: str | None,
) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        f"""
        INSERT INTO host_photos (host_id, image_url, photo_type, caption)
        VALUES ($1, $2, $3, $4)
        RETURNING {HOST_PHOTO_COLUMNS}
        """,
        host_id,
        image_key,
        photo_type,
        caption,
    )
    return row


async def delete_host_photo(
    conn: asyncpg.Connection, host_id: uuid.UUID, photo_id: uuid.UUID
) -> str | None:
    """Delete one of the host's photos; its key, or None when it is not theirs."""
    key: str | None = await conn.fetchval(
        "DELETE FROM host_photos WHERE id = $1 AND host_id = $2 RETURNING image_url",
        photo_id,
        host_id,
    )
    return key


async def list_host_photos(
    conn: asyncpg.Connection, host_id: uuid.UUID, *, viewer_id: uuid.UUID
) -> list[asyncpg.Record]:
    """A host's photos, newest first, if the viewer may see the host (else none)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT p.id, p.host_id, p.image_url, p.photo_type, p.caption, p.created_at
        FROM host_photos p
        JOIN host_profiles h ON h.id = p.host_id
        WHERE p.host_id = $1 AND user_visible_to($2, h.user_id)
        ORDER BY p.created_at DESC, p.id DESC
        """,
        host_id,
        viewer_id,
    )
    return rows


# ── Files of a whole account (for deleting the account) ────────────────────


async def photo_keys_of_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[str]:
    """Every stored key of the files that go with the user's account."""
    keys: list[str] = await conn.fetchval(
        """
        SELECT coalesce(array_agg(DISTINCT k), '{}') FROM (
            SELECT unnest(ARRAY[p.image_url, p.thumbnail_url]) AS k
            FROM profile_photos p JOIN social_profiles sp ON sp.id = p.profile_id
            WHERE sp.user_id = $1
            UNION ALL
            SELECT hp.image_url FROM host_photos hp JOIN host_profiles h ON h.id = hp.host_id
            WHERE h.user_id = $1
            UNION ALL
            -- Gallery photos they uploaded, and every photo of the events they host
            -- (those events go with the host's account).
            SELECT unnest(ARRAY[ep.image_url, ep.thumbnail_url]) FROM event_photos ep
            WHERE ep.uploader_user_id = $1
               OR ep.event_id IN (SELECT e.id FROM events e JOIN host_profiles h
                                  ON h.id = e.host_id WHERE h.user_id = $1)
        ) keys WHERE k IS NOT NULL
        """,
        user_id,
    )
    return keys
