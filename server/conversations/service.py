"""Direct conversation rules, shared by the REST routes and the WebSocket gateway.

A conversation joins two people who attended an event together (attendance
status 'attended' for the same event), one per pair. It exists for a
participant only while the other is visible to them (`user_visible_to`): a
block either way, or a suspended account, makes it 404 for both, with no
messages in or out.

Each message takes the conversation's next `seq` under the conversation row
lock, so seqs are gap-free and commit in order (one statement:
server/boards/sequenced.py). Read markers only move
forward; sending moves the sender's marker to their message, so
`unread_count` is `last_seq - last_read_seq`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from db.queries import conversations as q
from db.queries import profiles as profiles_q
from db.rows import NewItem
from server.conversations.schemas import Conversation, Message
from server.errors import ApiError
from server.messaging.checks import clamp_seq
from server.messaging.sequenced import append
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.profiles.service import public_profile, require_profile_id
from server.storage import Storage


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such conversation")


def _message(row: asyncpg.Record) -> Message:
    return msgspec.convert(dict(row), Message)


def _conversation(
    row: asyncpg.Record, other: profiles_q.PublicProfileRow, storage: Storage
) -> Conversation:
    last_message = None
    if row["message_id"] is not None:
        last_message = Message(
            id=row["message_id"],
            conversation_id=row["id"],
            seq=row["message_seq"],
            sender_profile_id=row["message_sender_profile_id"],
            content=row["message_content"],
            created_at=row["message_created_at"],
        )
    return Conversation(
        id=row["id"],
        other_profile=public_profile(other, storage),
        last_message=last_message,
        unread_count=max(row["last_seq"] - row["last_read_seq"], 0),
        last_seq=row["last_seq"],
        last_read_seq=row["last_read_seq"],
        other_last_read_seq=row["other_last_read_seq"],
        created_at=row["created_at"],
        last_activity_at=row["last_activity_at"],
    )


async def _views(
    conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID, rows: list[asyncpg.Record]
) -> list[Conversation]:
    profiles = await profiles_q.public_profiles(
        conn, user_id, [r["other_profile_id"] for r in rows]
    )
    # A profile hidden between the two queries (a block just now) drops its row.
    return [
        _conversation(r, profiles[r["other_profile_id"]], storage)
        for r in rows
        if r["other_profile_id"] in profiles
    ]


async def conversation_access(
    conn: asyncpg.Connection, user_id: uuid.UUID, conversation_id: uuid.UUID
) -> uuid.UUID | None:
    """The caller's profile id if they take part and may see the other; else None."""
    return await q.member(conn, user_id, conversation_id)


async def list_conversations(
    conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID, page: PageParams
) -> Page[Conversation]:
    await require_profile_id(conn, user_id)
    after = decode_cursor(page.cursor, tuple[datetime, uuid.UUID]) if page.cursor else None
    rows = await q.conversations(conn, user_id, after, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r["last_activity_at"], r["id"]))
    return Page(items=await _views(conn, storage, user_id, items), next_cursor=cursor)


async def start_conversation(
    conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID, profile_id: uuid.UUID
) -> tuple[Conversation, bool]:
    """The conversation with the person behind profile_id; (conversation, newly
    created). Only between people who attended an event together."""
    own_id = await require_profile_id(conn, user_id)
    if own_id == profile_id:
        raise ApiError(422, "cannot_message_self", "You cannot start a conversation with yourself")
    if await q.visible_profile_owner(conn, user_id, profile_id) is None:
        raise ApiError(404, "not_found", "No such profile")
    conversation_id = await q.pair_conversation(conn, own_id, profile_id)
    created = False
    if conversation_id is None:
        if not await q.attended_together(conn, own_id, profile_id):
            raise ApiError(
                403,
                "not_attended_together",
                "You can message people you attended an event with",
            )
        async with conn.transaction():
            try:
                conversation_id = await q.insert_conversation(conn, own_id, profile_id)
            except asyncpg.ForeignKeyViolationError:
                raise ApiError(404, "not_found", "No such profile") from None
            created = conversation_id is not None
            if conversation_id is None:  # a concurrent request made it first
                conversation_id = await q.pair_conversation(conn, own_id, profile_id)
    assert conversation_id is not None
    row = await q.conversation(conn, user_id, conversation_id)
    views = await _views(conn, storage, user_id, [row] if row is not None else [])
    if not views:  # a block landed meanwhile
        raise ApiError(404, "not_found", "No such profile")
    return views[0], created


async def create_message(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    conversation_id: uuid.UUID,
    content: str,
    client_id: uuid.UUID | None,
) -> tuple[Message, bool]:
    """Store a message; (message, newly created). A retry with the same client_id
    returns the first message. Raises ApiError: 404 `not_found`, 422
    `invalid_content`, 409 `client_id_conflict` (the client_id was used elsewhere)."""
    row, created = await append(
        conn,
        conversation_id,
        "conversation_id",
        content,
        store=lambda text: q.append_message(conn, user_id, conversation_id, text, client_id),
        admit=_admitted,
    )
    return _message(row), created


async def store_messages(conn: asyncpg.Connection, items: Sequence[NewItem]) -> dict[int, Message]:
    """Messages in one statement (server/messaging/writer.py): {position in
    items: the stored message}; an item missing was not stored (create_message
    says why). Contents are cleaned already."""
    rows = await q.append_messages(conn, items)
    return {row["idx"] - 1: _message(row) for row in rows}


async def _admitted(row: asyncpg.Record) -> None:
    if row["member_profile_id"] is None:
        raise _not_found()


async def list_messages(
    conn: asyncpg.Connection, user_id: uuid.UUID, conversation_id: uuid.UUID, page: PageParams
) -> Page[Message]:
    if await q.member(conn, user_id, conversation_id) is None:
        raise _not_found()
    before = decode_cursor(page.cursor, int) if page.cursor else None
    rows = await q.messages_page(
        conn,
        conversation_id,
        clamp_seq(before) if before is not None else None,
        page.limit + 1,
    )
    items, cursor = make_page(rows, page.limit, key=lambda r: r["seq"])
    return Page(items=[_message(r) for r in items], next_cursor=cursor)


async def messages_since(
    conn: asyncpg.Connection, conversation_id: uuid.UUID, since: int, limit: int
) -> list[Message]:
    """Messages with seq > since, ascending, at most `limit`, for the WebSocket
    gateway (gateway/catch_up.py), which checked who may follow the
    conversation and hides authors from each reader as it writes."""
    rows = await q.messages_since(conn, conversation_id, clamp_seq(since), max(limit, 0))
    return [_message(r) for r in rows]


async def read_up_to(
    conn: asyncpg.Connection, user_id: uuid.UUID, conversation_id: uuid.UUID, seq: int
) -> tuple[uuid.UUID, int]:
    """Move the caller's read marker to `seq` (clamped to the last message, never
    backwards); (the caller's profile id, the stored marker). 404 ApiError when
    the conversation does not exist for the caller."""
    profile_id = await q.member(conn, user_id, conversation_id)
    if profile_id is None:
        raise _not_found()
    return profile_id, await q.mark_read(conn, conversation_id, profile_id, clamp_seq(seq))


async def mark_read(
    conn: asyncpg.Connection, user_id: uuid.UUID, conversation_id: uuid.UUID, seq: int
) -> int:
    """read_up_to for the gateway: the stored marker."""
    _, stored = await read_up_to(conn, user_id, conversation_id, seq)
    return stored


async def conversation_last_seq(conn: asyncpg.Connection, conversation_id: uuid.UUID) -> int:
    """The seq of the conversation's latest message (0: none yet, or no such conversation)."""
    return await q.last_seq(conn, conversation_id)
