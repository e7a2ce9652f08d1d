"""The in-app inbox: GET /v1/me/notifications and POST /v1/me/notifications/read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from db.queries import inbox as q
from server.notifications.schemas import Notification, NotificationPage
from server.pagination import PageParams, decode_cursor, make_page


async def list_notifications(
    conn: asyncpg.Connection, user_id: uuid.UUID, page: PageParams
) -> NotificationPage:
    before = decode_cursor(page.cursor, tuple[datetime, uuid.UUID]) if page.cursor else None
    rows = await q.page(conn, user_id, before, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r["updated_at"], r["id"]))
    return NotificationPage(
        items=[msgspec.convert(dict(r), Notification) for r in items],
        next_cursor=cursor,
        unread_count=await q.unread_count(conn, user_id),
    )


async def mark_read(
    conn: asyncpg.Connection, user_id: uuid.UUID, ids: Sequence[uuid.UUID] | None
) -> None:
    """Mark some (or all) of the user's notifications read; ids not theirs are ignored."""
    await q.mark_read(conn, user_id, ids)
