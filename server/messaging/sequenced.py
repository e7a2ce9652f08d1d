"""Appending to a channel with a per-channel `seq`: what board posts and
conversation messages share (REST and WebSocket alike)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from server.errors import ApiError
from server.messaging.checks import clean_content, client_id_conflict

# Runs the channel's one statement (db/queries: append_post, append_message)
# with the cleaned content, or None to only read the caller's standing.
Store = Callable[[str | None], Awaitable[asyncpg.Record]]
# Raises the channel's refusal for the caller's standing in a stored row.
Admit = Callable[[asyncpg.Record], Awaitable[object]]


async def append(
    conn: asyncpg.Connection,
    channel_id: uuid.UUID,
    channel_column: str,
    content: str,
    store: Store,
    admit: Admit,
) -> tuple[asyncpg.Record, bool]:
    """Store an item with the channel's next seq, idempotently on client_id, in one
    round trip; (the item's row, newly created). A retry with the same client_id
    returns the first item; one used on another channel is 409
    `client_id_conflict`. Refusals keep their order: the caller's standing first,
    then 422 `invalid_content`."""
    try:
        text = clean_content(content)
    except ApiError:
        await admit(await store(None))
        raise
    try:
        row = await _attempt(conn, store, text)
    except asyncpg.UniqueViolationError:
        # The same client_id committed after this statement's snapshot was taken
        # (a retry racing the first try, or reused on another channel): the
        # second run sees it.
        try:
            row = await _attempt(conn, store, text)
        except asyncpg.UniqueViolationError:
            raise client_id_conflict() from None
    await admit(row)
    if row[channel_column] != channel_id:
        raise client_id_conflict()
    created: bool = row["created"]
    return row, created


async def _attempt(conn: asyncpg.Connection, store: Store, text: str) -> asyncpg.Record:
    if conn.is_in_transaction():
        # A savepoint: a failed try must leave the caller's transaction usable.
        async with conn.transaction():
            return await store(text)
    return await store(text)
