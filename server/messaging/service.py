"""What each kind of channel does, for the REST routes and the WebSocket gateway alike.

An `event` channel is an event board (server/boards/service.py), a
`conversation` channel a conversation (server/conversations/service.py).
`send` is the one way a post or message is stored and then published; the
gateway never reads or writes posts and messages but through these functions.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from realtime.channels import Channel
from server.boards import service as boards
from server.conversations import service as conversations
from server.errors import ApiError
from server.messaging.checks import Member, clean_content
from server.messaging.writer import Item as Item  # the gateway's name for it
from server.messaging.writer import Writer
from server.storage import Storage

# Told the stored item (new or a retry's) before it is published: the gateway
# acks its sender there, so the ack comes before the sender's own live copy.
Acknowledge = Callable[[Item], Awaitable[None]]


async def send(
    db: asyncpg.Connection | asyncpg.Pool,
    writer: Writer,
    user_id: uuid.UUID,
    channel: Channel,
    content: str,
    client_id: uuid.UUID | None,
    acknowledge: Acknowledge | None = None,
) -> tuple[Item, bool]:
    """Store a post or message, then publish it if it is new (a retry with the same
    client_id is not published twice); (item, newly stored). Raises the channel's
    ApiError on refusal. Clean content goes to the process's group commit
    (server/messaging/writer.py); what it does not store, and content to refuse,
    takes the one-item path on `db`: the caller's connection, or a pool that
    lends one for the store alone (the gateway: a slow ack or publish holds no
    connection)."""
    try:
        text: str | None = clean_content(content)
    except ApiError:
        text = None  # refused below, after the caller's standing, as the rules order it
    if text is not None:
        stored = await writer.store(user_id, channel, text, client_id)
        if stored is not None:
            if acknowledge is not None:
                await acknowledge(stored)
            return stored, True  # the writer publishes it
    item: Item
    async with _lend(db) as conn:
        if channel.kind == "event":
            item, created = await boards.create_post(
                conn, writer.storage, user_id, channel.id, content, client_id
            )
        else:
            item, created = await conversations.create_message(
                conn, user_id, channel.id, content, client_id
            )
    if acknowledge is not None:
        await acknowledge(item)
    if created:
        await writer.fanout.publish(channel.name, item.seq, item)
    return item, created


def _lend(
    db: asyncpg.Connection | asyncpg.Pool,
) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
    if isinstance(db, asyncpg.Pool):
        return db.acquire()  # type: ignore[no-any-return]
    return contextlib.nullcontext(db)


async def access(conn: asyncpg.Connection, user_id: uuid.UUID, channel: Channel) -> Member | None:
    """Who the caller is on the channel, or None if they may not use it."""
    if channel.kind == "event":
        return await boards.board_access(conn, user_id, channel.id)
    profile_id = await conversations.conversation_access(conn, user_id, channel.id)
    return Member(profile_id=profile_id) if profile_id is not None else None


async def last_seq(conn: asyncpg.Connection, channel: Channel) -> int:
    if channel.kind == "event":
        return await boards.board_last_seq(conn, channel.id)
    return await conversations.conversation_last_seq(conn, channel.id)


async def items_since(
    conn: asyncpg.Connection, storage: Storage, channel: Channel, since: int, limit: int
) -> list[Item]:
    """Items with seq > since in order, whoever wrote them (the gateway leaves
    out authors hidden from each reader as it writes)."""
    if channel.kind == "event":
        return list(await boards.posts_since(conn, storage, channel.id, since, limit))
    return list(await conversations.messages_since(conn, channel.id, since, limit))


async def mark_read(
    conn: asyncpg.Connection, user_id: uuid.UUID, channel: Channel, seq: int
) -> int:
    """Same as the REST read marker; the stored last_read_seq. Boards have none."""
    if channel.kind == "event":
        raise ApiError(422, "invalid_channel", "Read markers exist only on conversations")
    return await conversations.mark_read(conn, user_id, channel.id, seq)
