"""Reads of stored items for live channels, once per channel and position for the process.

A subscription replays what came after `since`, and when live delivery may
have missed items (Redis came back, or an item did not arrive in time behind
a later one) the connection catches up from where it stands. Connections of
a process asking at once usually ask for the same (channel, seq): after a
Redis restart every connection on a channel stands at the same seq, and
after a rolling restart the clients of the stopped process resubscribe with
the `since` they reached. So each (channel, seq) is read once and the same
items go to all of them: one read per channel in use instead of two queries
per connection. Items are read for no one in particular; each connection's
writer leaves out authors its reader may not see (gateway/visibility.py),
as it does for live items, and who may use the channel at all was checked
when subscribing.

A caller only joins a read that has not started yet, so every read's
snapshot is taken after every request it answers: whatever a caller missed
before asking (and, for a subscription, before it started listening) was
committed by then.
"""

from __future__ import annotations

import asyncio

import asyncpg
from prometheus_client import Counter

from realtime.channels import Channel
from server.messaging import service as messaging
from server.storage import Storage

READS = Counter(
    "momento_ws_history_reads_total",
    "Database reads of stored items for WebSocket subscriptions and catch-ups "
    "(each shared by the connections of a process that ask for the same ones)",
)

# (the channel's last seq, the items after the asked seq: [] when nothing was
# asked for or nothing is newer, None when more than the replay limit).
Caught = tuple[int, list[messaging.Item] | None]


class CatchUp:
    def __init__(self, pool: asyncpg.Pool, replay_limit: int, storage: Storage) -> None:
        self._pool = pool
        self._storage = storage
        self._limit = replay_limit
        # Reads asked for but not started: later askers for the same key join them.
        self._waiting: dict[tuple[str, int | None], asyncio.Task[Caught]] = {}

    async def after(self, channel: Channel, since: int | None) -> Caught:
        """The channel's last seq and its items with seq > since (none for None)."""
        key = (channel.name, since)
        read = self._waiting.get(key)
        if read is None:
            read = asyncio.create_task(self._read(key, channel, since))
            self._waiting[key] = read
        # One caller going away (its connection closed) must not cancel the others' read.
        return await asyncio.shield(read)

    async def _read(
        self, key: tuple[str, int | None], channel: Channel, since: int | None
    ) -> Caught:
        del self._waiting[key]
        READS.inc()
        async with self._pool.acquire() as conn:
            latest = await messaging.last_seq(conn, channel)
            if since is None or since >= latest:
                return latest, []
            if latest - since > self._limit:
                return latest, None
            items = await messaging.items_since(conn, self._storage, channel, since, self._limit)
            return latest, items
