"""Group commit: the posts and messages of this process, many per round trip.

Every send whose content is clean (the WebSocket `send` op and the REST POSTs
alike, through messaging.send) is handed to the process's one Writer, which
stores what has gathered in one statement per kind (db/queries: append_posts,
append_messages): one round trip and one transaction for up to MAX_BATCH
items, each item's membership and `client_id` checked on its own, seqs per
channel gap-free and in commit order.

There is no timer. A batch is whatever arrived while the previous ones were
in flight, FLUSHES of them at once: a lone send is stored at once, as before,
and batches grow only when sends arrive faster than PostgreSQL answers,
which is when one commit per item would queue them anyway.

Each sender waits for its batch's commit and is answered with the stored item,
or with None when the batch did not store it (not a member, a retry of a
stored item, a client_id another process just used): messaging.send then
takes the one-item path, which gives the exact answer. A failure of the
statement itself (the connection lost, a timeout) fails every item in it with
that error, and none of them is stored. Once a batch's senders are answered,
its new items are published in one Redis round trip.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Sequence

import asyncpg
import structlog

from db.rows import NewItem
from realtime.channels import Channel
from realtime.fanout import Fanout
from server.boards import service as boards
from server.boards.schemas import Post
from server.conversations import service as conversations
from server.conversations.schemas import Message
from server.request_connection import acquire
from server.storage import Storage

logger = structlog.get_logger(__name__)

# What a channel carries: the objects the REST lists return.
Item = Post | Message

# At most this many items per statement: a statement of 100 posts takes about
# as long to plan as to run, and no sender waits behind more than one such.
MAX_BATCH = 100
# Batches in flight at once (the writer's connections): while one waits for
# its commit the next is on its way, so a send waits for at most one batch.
FLUSHES = 2
STOP_SECONDS = 5.0


class _Pending:
    __slots__ = ("channel", "future", "item")

    def __init__(self, channel: Channel, item: NewItem, future: asyncio.Future[Item | None]):
        self.channel = channel
        self.item = item
        self.future = future


class Writer:
    """Stores and publishes this process's posts and messages."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        fanout: Fanout,
        storage: Storage,
        acquire_timeout: float,
        *,
        max_batch: int = MAX_BATCH,
        flushes: int = FLUSHES,
    ) -> None:
        # The writer's own connections (FLUSHES of them): a REST request holds
        # its connection while it waits here, so a shared pool could run dry.
        self.pool = pool
        self.fanout = fanout
        # Posts carry URLs of stored files (the host's logo).
        self.storage = storage
        self._acquire_timeout = acquire_timeout
        self._max_batch = max_batch
        self._flushes = flushes
        self._pending: deque[_Pending] = deque()
        self._running: set[asyncio.Task[None]] = set()

    async def store(
        self, user_id: uuid.UUID, channel: Channel, content: str, client_id: uuid.UUID | None
    ) -> Item | None:
        """Store a post or message (cleaned content) in the next batch; the stored
        item once committed (published right after), or None if the batch did not
        store it. Raises what failed the batch."""
        future: asyncio.Future[Item | None] = asyncio.get_running_loop().create_future()
        self._pending.append(
            _Pending(channel, NewItem(user_id, channel.id, content, client_id), future)
        )
        if len(self._running) < self._flushes:
            task = asyncio.create_task(self._flush_loop())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return await future

    async def stop(self) -> None:
        """Let the batches in flight finish (bounded), then fail what is left."""
        if self._running:
            await asyncio.wait(tuple(self._running), timeout=STOP_SECONDS)
        for task in tuple(self._running):
            task.cancel()
        while self._pending:
            future = self._pending.popleft().future
            if not future.done():
                future.set_exception(RuntimeError("the server is stopping"))

    async def _flush_loop(self) -> None:
        while self._pending:
            batch: list[_Pending] = []
            while self._pending and len(batch) < self._max_batch:
                pending = self._pending.popleft()
                if not pending.future.done():  # not a sender that gave up
                    batch.append(pending)
            if batch:
                await self._flush(batch)

    async def _flush(self, batch: list[_Pending]) -> None:
        stored: list[tuple[Channel, Item]] = []
        try:
            conn = await acquire(self.pool, self._acquire_timeout)
            try:
                for kind in ("event", "conversation"):
                    group = _distinct([p for p in batch if p.channel.kind == kind])
                    if group:
                        stored += await self._store(conn, kind, group)
            finally:
                await self.pool.release(conn)
        except BaseException as exc:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            logger.warning("group commit failed", items=len(batch), error=repr(exc))
        finally:
            for pending in batch:  # duplicates of a client_id in the batch
                if not pending.future.done():
                    pending.future.set_result(None)
        if stored:
            # One turn of the loop first: the senders woken above queue their
            # acks before the in-process fan-out can queue their own live copies.
            await asyncio.sleep(0)
            await self.fanout.publish_many([(c.name, item.seq, item) for c, item in stored])

    async def _store(
        self, conn: asyncpg.Connection, kind: str, group: Sequence[_Pending]
    ) -> list[tuple[Channel, Item]]:
        items = [p.item for p in group]
        results: dict[int, Post] | dict[int, Message]
        try:
            if kind == "event":
                results = await boards.store_posts(conn, self.storage, items)
            else:
                results = await conversations.store_messages(conn, items)
        except asyncpg.UniqueViolationError:
            # A client_id committed by another process since the statement began:
            # each item on its own (the one-item path finds that first copy).
            results = {}
        stored: list[tuple[Channel, Item]] = []
        for index, pending in enumerate(group):
            item = results.get(index)
            if item is not None:
                stored.append((pending.channel, item))
            if not pending.future.done():
                pending.future.set_result(item)
        return stored


def _distinct(group: list[_Pending]) -> list[_Pending]:
    """The group without second sends of one (author, client_id): those wait for
    the one-item path, which finds the first once it is stored."""
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    kept: list[_Pending] = []
    for pending in group:
        item = pending.item
        if item.client_id is not None:
            key = (item.user_id, item.client_id)
            if key in seen:
                continue
            seen.add(key)
        kept.append(pending)
    return kept
