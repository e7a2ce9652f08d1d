"""Who has a live connection, and which channels they watch, across processes.

In Redis each user has one hash, `<prefix>presence:<user_id>`, with a field
per (process, channel) the user has open there: `<process>|<channel>` (the
channel "" meaning "connected"), whose value is the time it stops counting.
Every process rewrites its fields on each heartbeat, so when a process dies
its fields simply run out; the key's own TTL removes the hash once every
field is stale. Without Redis the same is kept in this process's memory.

`is_watching(source, user_id, channel)` is what the push worker asks before
pushing about a conversation the user has open.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

CONNECTED = ""


def presence_key(key_prefix: str, user_id: uuid.UUID) -> str:
    return f"{key_prefix}presence:{user_id}"


class Presence:
    """This process's connections (the whole truth without Redis)."""

    def __init__(self) -> None:
        self._open: dict[uuid.UUID, Counter[str]] = {}

    async def add(self, user_id: uuid.UUID, channel: str = CONNECTED) -> None:
        counts = self._open.setdefault(user_id, Counter())
        counts[channel] += 1
        if counts[channel] == 1:
            await self._opened(user_id, channel)

    async def remove(self, user_id: uuid.UUID, channel: str = CONNECTED) -> None:
        counts = self._open.get(user_id)
        if counts is None or counts[channel] <= 0:
            return
        counts[channel] -= 1
        if counts[channel] == 0:
            del counts[channel]
            if not counts:
                del self._open[user_id]
            await self._closed(user_id, channel)

    async def refresh(self) -> None:
        """Called on every heartbeat: nothing to renew in memory."""

    async def clear(self) -> None:
        """Forget this process's connections (it is stopping)."""
        self._open.clear()

    async def is_watching(self, user_id: uuid.UUID, channel: str) -> bool:
        return channel in self._open.get(user_id, ())

    async def _opened(self, user_id: uuid.UUID, channel: str) -> None:
        """The first local connection of the user opened the channel."""

    async def _closed(self, user_id: uuid.UUID, channel: str) -> None:
        """The last local connection of the user left the channel."""


class RedisPresence(Presence):
    def __init__(self, redis: Redis, key_prefix: str, ttl_seconds: float) -> None:
        super().__init__()
        self._redis = redis
        self._prefix = key_prefix
        self._ttl = ttl_seconds
        self._process = uuid.uuid4().hex

    def _field(self, channel: str) -> str:
        return f"{self._process}|{channel}"

    async def _opened(self, user_id: uuid.UUID, channel: str) -> None:
        key = presence_key(self._prefix, user_id)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, self._field(channel), time.time() + self._ttl)
                pipe.expire(key, int(self._ttl) + 1)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # The next heartbeat writes it again.
            logger.warning("presence: cannot record", error=str(exc))

    async def _closed(self, user_id: uuid.UUID, channel: str) -> None:
        try:
            await self._redis.hdel(presence_key(self._prefix, user_id), self._field(channel))
        except (RedisError, OSError) as exc:
            logger.warning("presence: cannot remove", error=str(exc))

    async def refresh(self) -> None:
        if not self._open:
            return
        until = time.time() + self._ttl
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, counts in self._open.items():
                    key = presence_key(self._prefix, user_id)
                    pipe.hset(key, mapping={self._field(c): until for c in counts})
                    pipe.expire(key, int(self._ttl) + 1)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.warning("presence: cannot refresh", error=str(exc))

    async def clear(self) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, counts in self._open.items():
                    pipe.hdel(presence_key(self._prefix, user_id), *map(self._field, counts))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.warning("presence: cannot clear", error=str(exc))
        await super().clear()

    async def is_watching(self, user_id: uuid.UUID, channel: str) -> bool:
        return await _watching_in_redis(self._redis, self._prefix, user_id, channel)


async def _watching_in_redis(
    redis: Redis, key_prefix: str, user_id: uuid.UUID, channel: str
) -> bool:
    try:
        fields = await redis.hgetall(presence_key(key_prefix, user_id))
    except (RedisError, OSError) as exc:
        # Unknown: answer "not watching", so a push is sent rather than lost.
        logger.warning("presence: cannot read", error=str(exc))
        return False
    suffix = f"|{channel}"
    now = time.time()
    return any(
        _text(field).endswith(suffix) and float(until) > now for field, until in fields.items()
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def is_watching(
    source: Redis | Presence, user_id: uuid.UUID, channel: str, key_prefix: str = ""
) -> bool:
    """Whether the user has a live connection subscribed to `channel` (CONNECTED:
    any live connection). `source` is the Redis the web processes use (with
    their REDIS_KEY_PREFIX), or, in a single process without Redis, the app's
    `app.state.presence`."""
    if isinstance(source, Presence):
        return await source.is_watching(user_id, channel)
    return await _watching_in_redis(source, key_prefix, user_id, channel)
