"""The in-app inbox (`notifications`) and the outbox rows that deliver it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

# Wakes the push workers when a notification to deliver is committed.
WAKE_CHANNEL = "momento_notifications"

COLUMNS = (
    "id, kind, category, title, body, data, collapsed_count AS count, "
    "created_at, updated_at, read_at"
)


class Note(NamedTuple):
    """What every copy of one notification holds."""

    kind: str
    category: str
    title: str
    body: str
    data: Mapping[str, Any]


async def insert(
    conn: asyncpg.Connection,
    user_ids: Sequence[uuid.UUID],
    note: Note,
    dedupe_key: str | None,
) -> list[uuid.UUID]:
    """One notification per user, each queued for delivery; users who already
    have the `dedupe_key` get nothing new. Returns the ids written."""
    rows = await conn.fetch(
        """
        WITH made AS (
            INSERT INTO notifications (user_id, kind, category, title, body, data, dedupe_key)
            SELECT u, $2, $3, $4, $5, $6, $7 FROM unnest($1::uuid[]) AS u
            ON CONFLICT (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
            RETURNING id
        ), queued AS (
            INSERT INTO notification_deliveries (notification_id) SELECT id FROM made
        )
        SELECT id, pg_notify($8, '') FROM made
        """,
        list(user_ids),
        *note,
        dedupe_key,
        WAKE_CHANNEL,
    )
    return [r["id"] for r in rows]


async def insert_collapsing(
    conn: asyncpg.Connection,
    user_ids: Sequence[uuid.UUID],
    note: Note,
    *,
    summary: str,
    collapse_key: str,
    repush: bool,
) -> list[uuid.UUID]:
    """Like `insert`, but a user's unread notification with the same
    `collapse_key` is updated instead (body from `summary`, `{count}` filled
    in) and queued again only if `repush`. Returns the ids written or updated."""
    rows = await conn.fetch(
        """
        WITH made AS (
            INSERT INTO notifications AS n
                (user_id, kind, category, title, body, data, collapse_key)
            SELECT u, $2, $3, $4, $5, $6, $7 FROM unnest($1::uuid[]) AS u
            ON CONFLICT (user_id, collapse_key) WHERE read_at IS NULL AND collapse_key IS NOT NULL
            DO UPDATE SET title = EXCLUDED.title,
                          -- Only the first: the template's own, not one in quoted content.
                          body = regexp_replace($8, '[{]count[}]', (n.collapsed_count + 1)::text),
                          data = EXCLUDED.data,
                          collapsed_count = n.collapsed_count + 1,
                          updated_at = now()
            RETURNING id, n.collapsed_count > 1 AS collapsed
        ), queued AS (
            INSERT INTO notification_deliveries (notification_id)
            SELECT id FROM made WHERE NOT collapsed OR $9
            ON CONFLICT (notification_id) DO NOTHING
        )
        SELECT id, pg_notify($10, '') FROM made
        """,
        list(user_ids),
        *note,
        collapse_key,
        summary,
        repush,
        WAKE_CHANNEL,
    )
    return [r["id"] for r in rows]


async def page(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The user's notifications, latest change first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {COLUMNS} FROM notifications
        WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (updated_at, id) < ($2, $3))
        ORDER BY updated_at DESC, id DESC
        LIMIT $4
        """,
        user_id,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return rows


async def unread_count(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", user_id
    )
    return count


async def mark_read(
    conn: asyncpg.Connection, user_id: uuid.UUID, ids: Sequence[uuid.UUID] | None
) -> int:
    """Mark the user's notifications read (those of `ids`, or all when None)."""
    status: str = await conn.execute(
        """
        UPDATE notifications SET read_at = now()
        WHERE user_id = $1 AND read_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2))
        """,
        user_id,
        list(ids) if ids is not None else None,
    )
    return int(status.split()[-1])
