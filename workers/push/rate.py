"""The push rate gate: at most `per_second` messages in any one second, over
every worker process together (Expo allows 600 per second per project).

The gate keeps a log of the grants of the last second and grants `n` only
when the log's total plus `n` stays within the cap, so no second-long window
of grant times, aligned to the clock or not, holds more than the cap. A
request that does not fit waits until enough of the oldest grants leave the
window; one larger than the cap is granted in pieces.

`RedisRateGate` keeps the log in Redis (one Lua call per try, on Redis's own
clock, so processes agree on time); if Redis fails, that call goes through a
gate of the process's own, so delivery never stalls and one process alone
still keeps to the cap. `MemoryRateGate` is for a single process without
Redis.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Iterable
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

WINDOW_MS = 1000


class PushRateGate(Protocol):
    async def acquire(self, n: int) -> float:
        """Wait until n more messages may go out. Returns when (in seconds, on
        the gate's clock) the last piece was granted; callers may ignore it."""
        ...


def build_rate_gate(redis: Redis | None, prefix: str, per_second: int) -> PushRateGate:
    if redis is None:
        return MemoryRateGate(per_second)
    return RedisRateGate(redis, prefix, per_second)


def _pieces(n: int, per_second: int) -> list[int]:
    if n < 1:
        raise ValueError("acquire at least one message")
    whole, rest = divmod(n, per_second)
    return [per_second] * whole + ([rest] if rest else [])


def _wait_ms(log: Iterable[tuple[int, int]], used: int, n: int, per_second: int, now: int) -> int:
    """How long until enough of the oldest grants (time, count) leave the window."""
    excess = used + n - per_second
    for at, count in log:
        excess -= count
        if excess <= 0:
            return at + WINDOW_MS - now
    raise AssertionError("n is at most per_second, so the whole log always makes room")


class MemoryRateGate:
    """One process's gate (no lock: the check and the grant run without an await)."""

    def __init__(self, per_second: int) -> None:
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self._per_second = per_second
        self._log: deque[tuple[int, int]] = deque()  # (granted at, ms; count)
        self._used = 0

    async def acquire(self, n: int) -> float:
        granted = 0
        for piece in _pieces(n, self._per_second):
            granted = await self._take(piece)
        return granted / 1000

    async def _take(self, n: int) -> int:
        while True:
            now = time.monotonic_ns() // 1_000_000
            while self._log and self._log[0][0] <= now - WINDOW_MS:
                self._used -= self._log.popleft()[1]
            if self._used + n <= self._per_second:
                self._log.append((now, n))
                self._used += n
                return now
            await asyncio.sleep(_wait_ms(self._log, self._used, n, self._per_second, now) / 1000)


# KEYS[1]: sorted set of the last second's grants, member "<count>:<unique>",
# score = grant time in ms on Redis's clock (13 digits: exact as a Lua number).
# ARGV: per_second, n, unique. Returns {1, granted at ms} or {0, wait ms}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local cap = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local grants = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #grants, 2 do
    used = used + tonumber(string.match(grants[i], '^(%d+):'))
end
if used + n <= cap then
    redis.call('ZADD', KEYS[1], now, n .. ':' .. ARGV[3])
    redis.call('PEXPIRE', KEYS[1], 2 * window)
    return {1, now}
end
local excess = used + n - cap
for i = 1, #grants, 2 do
    excess = excess - tonumber(string.match(grants[i], '^(%d+):'))
    if excess <= 0 then
        return {0, tonumber(grants[i + 1]) + window - now}
    end
end
return {0, window}
"""


class RedisRateGate:
    """The gate shared by every process using the same Redis and key prefix."""

    def __init__(self, redis: Redis, prefix: str, per_second: int) -> None:
        self._per_second = per_second
        self._key = f"{prefix}push-rate"
        self._script = redis.register_script(_SCRIPT)
        self._local = MemoryRateGate(per_second)
        self._degraded = False

    async def acquire(self, n: int) -> float:
        granted = 0.0
        for piece in _pieces(n, self._per_second):
            granted = await self._take(piece)
        return granted

    async def _take(self, n: int) -> float:
        while True:
            try:
                ok, value = await self._script(
                    keys=[self._key],
                    args=[self._per_second, n, secrets.token_hex(8), WINDOW_MS],
                )
            except (RedisError, OSError) as exc:
                if not self._degraded:
                    self._degraded = True
                    logger.error(
                        "push rate gate: Redis unavailable, this process keeps to the cap alone",
                        error=str(exc),
                    )
                return await self._local.acquire(n)
            if self._degraded:
                self._degraded = False
                logger.info("push rate gate: Redis is back, the cap is shared again")
            if ok:
                return int(value) / 1000
            await asyncio.sleep(int(value) / 1000)
