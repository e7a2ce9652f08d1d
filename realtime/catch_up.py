"""Catching up from the database once per channel and position for the whole process.

When live delivery may have missed items (Redis came back, or an item did not
arrive in time behind a later one), each connection on the channel reads what
it missed. Those connections usually stand at the same `seq`, so the process
reads each (channel, seq) once and hands the same items to all of them: after
a Redis restart that is one read per channel in use, not one per connection
(10,000 connections would otherwise queue 20,000 queries on the pool while
their live items pile up). Items are read for no one in particular; each
connection's writer leaves out authors its reader may not see
(realtime/visibility.py), as it does for live items.

A caller only joins a read that has not started yet, so every read's
snapshot is taken after every request it answers: whatever a caller missed
before asking was committed by then.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from prometheus_client import Counter

from realtime import channels
from realtime.channels import Channel

READS = Counter(
    "momento_ws_catch_up_reads_total",
    "Database reads of missed items for live WebSocket channels (shared by the "
    "connections of a process that need the same ones)",
)

# (the channel's last seq, the items after the asked seq; None: more than the
# replay limit).
Caught = tuple[int, list[channels.Item] | None]


class CatchUp:
    def __init__(self, pool: asyncpg.Pool, replay_limit: int) -> None:
        self._pool = pool
        self._limit = replay_limit
        # Reads asked for but not started: later askers for the same key join them.
        self._waiting: dict[tuple[str, int], asyncio.Task[Caught]] = {}

    async def after(self, channel: Channel, since: int) -> Caught:
        """The channel's last seq and its items with seq > since."""
        key = (channel.name, since)
        read = self._waiting.get(key)
        if read is None:
            read = asyncio.create_task(self._read(key, channel, since))
            self._waiting[key] = read
        # One caller going away (its connection closed) must not cancel the others' read.
        return await asyncio.shield(read)

    async def _read(self, key: tuple[str, int], channel: Channel, since: int) -> Caught:
        del self._waiting[key]
        READS.inc()
        async with self._pool.acquire() as conn:
            return await read_after(conn, None, channel, since, self._limit)


async def read_after(
    conn: asyncpg.Connection,
    viewer: uuid.UUID | None,
    channel: Channel,
    since: int | None,
    limit: int,
) -> Caught:
    """The channel's last seq and its items with seq > since ([] when `since` is
    None or not behind; None past `limit`), without authors hidden from the
    viewer if one is given."""
    latest = await channels.last_seq(conn, channel)
    if since is None or since >= latest:
        return latest, []
    if latest - since > limit:
        return latest, None
    return latest, await channels.items_since(conn, viewer, channel, since, limit)
