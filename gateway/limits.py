"""The per-user frame limit, shared by every process, without a Redis call per frame.

Each process counts a user's frames in memory and settles them with Redis (one
INCRBY on the user's fixed window, under the key `server/ratelimit.py` would
use) every `SETTLE_EVERY` frames, and before refusing anyone. Between
settlements a process judges by the last total Redis gave it plus its own
unsettled frames. So through one process a user is refused exactly at the
limit, and through P processes at the latest P x SETTLE_EVERY frames past it
(each lets through fewer than SETTLE_EVERY frames it has not settled). A
user's unsettled frames are settled when their last connection to the process
leaves (reconnecting does not reset anything), and frames left unsettled at
the end of a window count in the next one (fewer than SETTLE_EVERY, erring
towards refusing). Like every rate limit here, it allows when Redis is
unreachable.

Without Redis (one process) the count is simply local.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.ratelimit import WINDOW_SCRIPT

logger = structlog.get_logger(__name__)

SETTLE_EVERY = 10
# `frames_per_user_per_minute`: a window is a minute.
WINDOW_SECONDS = 60


class _Count:
    __slots__ = ("ends", "known", "pending")

    def __init__(self) -> None:
        # The window's total as last settled, and when that window ends.
        self.known = 0
        self.ends = 0.0
        # Frames of this process not settled yet.
        self.pending = 0


class FrameBudget:
    """`limit` frames per user per `window_seconds`, over every process."""

    def __init__(
        self, redis: Redis | None, key_prefix: str, limit: int, window_seconds: int
    ) -> None:
        self._limit = limit
        self._window = window_seconds
        self._key = f"{key_prefix}rl:ws-frames:"
        self._script = redis.register_script(WINDOW_SCRIPT) if redis is not None else None
        self._counts: dict[uuid.UUID, _Count] = {}
        self._settling: set[asyncio.Task[None]] = set()

    async def spend(self, user_id: uuid.UUID) -> bool:
        """Count one frame of the user's; False when they are past the limit."""
        count = self._counts.get(user_id)
        if count is None:
            count = self._counts[user_id] = _Count()
        count.pending += 1
        if (
            self._script is None
            or count.pending >= SETTLE_EVERY
            or self._total(count) > self._limit
        ):
            await self._settle(user_id, count)
        return self._total(count) <= self._limit

    def forget(self, user_id: uuid.UUID) -> None:
        """The user's last connection to this process left: settle what is left."""
        count = self._counts.pop(user_id, None)
        if count is not None and count.pending and self._script is not None:
            task = asyncio.create_task(self._settle(user_id, count))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    def _total(self, count: _Count) -> int:
        known = count.known if time.monotonic() < count.ends else 0
        return known + count.pending

    async def _settle(self, user_id: uuid.UUID, count: _Count) -> None:
        added, count.pending = count.pending, 0
        if self._script is None:
            now = time.monotonic()
            if now >= count.ends:
                count.known, count.ends = 0, now + self._window
            count.known += added
            return
        try:
            total, ttl = await self._script(
                keys=[f"{self._key}{user_id}"], args=[added, self._window]
            )
        except (RedisError, OSError) as exc:
            logger.error("frame limit unavailable, allowing", error=str(exc))
            return
        count.known, count.ends = int(total), time.monotonic() + int(ttl)
