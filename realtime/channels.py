"""Channel names and what each kind of channel does, through the REST side's rules.

`event:<event_id>` is an event board (server/boards/service.py) and
`conversation:<conversation_id>` a conversation (server/conversations/service.py).
The gateway never reads or writes posts and messages itself: access, replay,
sending and read markers are the same functions the REST routes call.
"""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg
import msgspec

from server.boards import service as boards
from server.boards.schemas import Post
from server.conversations import service as conversations
from server.conversations.schemas import Message
from server.errors import ApiError

Kind = Literal["event", "conversation"]
# What a channel carries: the objects the REST lists return.
Item = Post | Message


class Channel(msgspec.Struct, frozen=True):
    kind: Kind
    id: uuid.UUID

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_channel(name: str) -> Channel | None:
    """The channel a client named, or None (user channels are never subscribable)."""
    kind, _, raw_id = name.partition(":")
    if kind not in ("event", "conversation"):
        return None
    try:
        channel_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    return Channel("event" if kind == "event" else "conversation", channel_id)


def user_channel(user_id: uuid.UUID) -> str:
    """Where a user's own notifications go (internal: never subscribable)."""
    return f"user:{user_id}"


async def access(
    conn: asyncpg.Connection, user_id: uuid.UUID, channel: Channel
) -> uuid.UUID | None:
    """The caller's social profile id on the channel, or None if they may not use it."""
    if channel.kind == "event":
        return await boards.board_access(conn, user_id, channel.id)
    return await conversations.conversation_access(conn, user_id, channel.id)


async def last_seq(conn: asyncpg.Connection, channel: Channel) -> int:
    if channel.kind == "event":
        return await boards.board_last_seq(conn, channel.id)
    return await conversations.conversation_last_seq(conn, channel.id)


async def items_since(
    conn: asyncpg.Connection, channel: Channel, since: int, limit: int
) -> list[Item]:
    """Items with seq > since in order, whoever wrote them (the gateway leaves
    out authors hidden from each reader as it writes)."""
    if channel.kind == "event":
        return list(await boards.posts_since(conn, channel.id, since, limit))
    return list(await conversations.messages_since(conn, channel.id, since, limit))


async def send(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    channel: Channel,
    content: str,
    client_id: uuid.UUID | None,
) -> tuple[Item, bool]:
    """Same as the REST POST for the channel: (item, newly stored). Raises its
    ApiError on refusal."""
    if channel.kind == "event":
        return await boards.create_post(conn, user_id, channel.id, content, client_id)
    return await conversations.create_message(conn, user_id, channel.id, content, client_id)


async def mark_read(
    conn: asyncpg.Connection, user_id: uuid.UUID, channel: Channel, seq: int
) -> int:
    """Same as the REST read marker; the stored last_read_seq. Boards have none."""
    if channel.kind == "event":
        raise ApiError(422, "invalid_channel", "Read markers exist only on conversations")
    return await conversations.mark_read(conn, user_id, channel.id, seq)
