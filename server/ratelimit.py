"""Fixed-window rate limits shared by every process (Redis), or one process (memory).

A window is a counter per (name, key) that lives `window_seconds`; a call past
`limit` is refused with the seconds until the window ends.
"""

from __future__ import annotations

import time
from typing import Protocol

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)


# A fixed window in one Lua call: add ARGV[1] to the counter at KEYS[1]; the
# first addition of a window sets it to end in ARGV[2] seconds. Returns
# {count, seconds left}.
WINDOW_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
end
return {count, ttl}
"""


class Verdict(msgspec.Struct, frozen=True):
    allowed: bool
    retry_after: int


class RateLimiter(Protocol):
    async def hit(self, name: str, key: str, *, limit: int, window_seconds: int) -> Verdict: ...


class RedisRateLimiter:
    """One Lua call per hit: the first hit of a window sets when it ends.

    If Redis is unreachable the hit is allowed and logged: a short broker
    outage must not lock everyone out of signing in.
    """

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._prefix = prefix
        self._script = redis.register_script(WINDOW_SCRIPT)

    async def hit(self, name: str, key: str, *, limit: int, window_seconds: int) -> Verdict:
        try:
            count, ttl = await self._script(
                keys=[f"{self._prefix}rl:{name}:{key}"], args=[1, window_seconds]
            )
        except (RedisError, OSError) as exc:
            logger.error("rate limiter unavailable, allowing", limit_name=name, error=str(exc))
            return Verdict(allowed=True, retry_after=0)
        if int(count) <= limit:
            return Verdict(allowed=True, retry_after=0)
        return Verdict(allowed=False, retry_after=max(1, int(ttl)))


class MemoryRateLimiter:
    """For a single process without Redis (the embedded default)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, name: str, key: str, *, limit: int, window_seconds: int) -> Verdict:
        now = time.monotonic()
        slot = f"{name}:{key}"
        ends, count = self._windows.get(slot, (0.0, 0))
        if now >= ends:
            ends, count = now + window_seconds, 0
            self._drop_expired(now)
        count += 1
        self._windows[slot] = (ends, count)
        if count <= limit:
            return Verdict(allowed=True, retry_after=0)
        return Verdict(allowed=False, retry_after=max(1, int(ends - now + 0.999)))

    def _drop_expired(self, now: float) -> None:
        if len(self._windows) > 10_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
