"""Notifications of new board posts and direct messages.

Storing a post or message queues it in `notification_sources` by trigger
(db/migrations/0012_item_notifications.sql), so the send path pays no round
trip for notifications; the push worker calls `notify_new_items` before each
delivery round, which notifies them through `notify_many` in the transaction
that takes them off the queue.
"""

from __future__ import annotations

import uuid

import asyncpg

from db.queries import audience as q
from server.notifications.catalog import preview
from server.notifications.notify import notify, notify_many

# Items turned into notifications per transaction.
ITEMS_PER_ROUND = 200


async def notify_new_items(conn: asyncpg.Connection, limit: int = ITEMS_PER_ROUND) -> int:
    """Notify up to `limit` queued items; how many were taken off the queue."""
    async with conn.transaction():
        taken = await q.take_sources(conn, limit)
        for source in taken:
            if source["kind"] == "event_post":
                await _post(conn, source["item_id"])
            else:
                await _message(conn, source["item_id"])
    return len(taken)


async def _post(conn: asyncpg.Connection, post_id: uuid.UUID) -> None:
    notice = await q.post_notice(conn, post_id)
    if notice is None:
        return  # deleted before anyone was told
    data = {
        "event_id": notice["event_id"],
        "post_id": post_id,
        "event_title": notice["event_title"],
        "author_name": notice["author_name"],
        "preview": preview(notice["content"]),
    }
    await notify_many(conn, notice["user_ids"], "event_post", data)


async def _message(conn: asyncpg.Connection, message_id: uuid.UUID) -> None:
    notice = await q.message_notice(conn, message_id)
    if notice is None:
        return
    data = {
        "conversation_id": notice["conversation_id"],
        "message_id": message_id,
        "sender_name": notice["sender_name"],
        "preview": preview(notice["content"]),
    }
    await notify(conn, notice["user_id"], "direct_message", data)
