"""The push rate gate: at most `per_second` messages in any one second, over
every worker process together (Expo allows 600 per second per project).

Expo counts a message when its request arrives, which is some time after the
gate granted it and before the request returns. So the gate keeps a log of
the messages it granted, each entry dated from its grant, and `settle` (called
once the request has returned) re-dates the entry to that moment: a message
counts from its grant until a second after its request returned, a span that
holds its arrival, and a grant is made only when the entries of the last
second plus `n` stay within the cap. So no second-long window of arrivals,
aligned to the clock or not, holds more than the cap, as long as requests
return within a second of their grant (a longer one, the Expo client
retrying, still counts for the second after it returns, where its last
attempt arrived). A request that does not fit waits until enough of the
oldest entries leave the window; one larger than the cap is granted in
pieces.

`RedisRateGate` keeps the log in Redis (one Lua call per try, on Redis's own
clock, so processes agree on time); if Redis fails, that call goes through a
gate of the process's own, so delivery never stalls and one process alone
still keeps to the cap. `MemoryRateGate` is for a single process without
Redis.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Iterable
from typing import Protocol

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

WINDOW_MS = 1000


class Piece(msgspec.Struct, frozen=True):
    """One entry of a log: `shared` in Redis, or else in the process's own."""

    member: str
    count: int
    shared: bool


class Grant(msgspec.Struct, frozen=True):
    """What `acquire` granted: when (in seconds, on the gate's clock) the last
    piece was granted, and the log entries to hand back to `settle`."""

    at: float
    pieces: tuple[Piece, ...]


class PushRateGate(Protocol):
    async def acquire(self, n: int) -> Grant:
        """Wait until n more messages may go out."""
        ...

    async def settle(self, grant: Grant) -> None:
        """The request carrying the grant's messages has returned (or failed):
        count them until a second from now. Never raises."""
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
    """How long until enough of the oldest entries (time, count) leave the window."""
    excess = used + n - per_second
    for at, count in log:
        excess -= count
        if excess <= 0:
            return at + WINDOW_MS - now
    raise AssertionError("n is at most per_second, so the whole log always makes room")


class MemoryRateGate:
    """One process's gate (no lock: each check and change runs without an await)."""

    def __init__(self, per_second: int) -> None:
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self._per_second = per_second
        # member -> (dated at, ms; count), oldest first: entries are only ever
        # added or re-dated at the monotonic clock's now, at the end.
        self._log: dict[str, tuple[int, int]] = {}
        self._used = 0
        self._ids = itertools.count()

    async def acquire(self, n: int) -> Grant:
        granted, pieces = 0, list[Piece]()
        for count in _pieces(n, self._per_second):
            member = str(next(self._ids))
            granted = await self._take(member, count)
            pieces.append(Piece(member, count, shared=False))
        return Grant(granted / 1000, tuple(pieces))

    async def settle(self, grant: Grant) -> None:
        now = self._expire()
        for piece in grant.pieces:
            # Re-added if it already left the window: a request that took
            # over a second (Expo client retries) may have arrived just now.
            if self._log.pop(piece.member, None) is None:
                self._used += piece.count
            self._log[piece.member] = (now, piece.count)

    def _expire(self) -> int:
        now = time.monotonic_ns() // 1_000_000
        while self._log:
            member, (at, count) = next(iter(self._log.items()))
            if at > now - WINDOW_MS:
                break
            del self._log[member]
            self._used -= count
        return now

    async def _take(self, member: str, n: int) -> int:
        while True:
            now = self._expire()
            if self._used + n <= self._per_second:
                self._log[member] = (now, n)
                self._used += n
                return now
            wait = _wait_ms(self._log.values(), self._used, n, self._per_second, now)
            await asyncio.sleep(wait / 1000)


# KEYS[1]: sorted set of the last second's entries, member "<count>:<unique>",
# score = grant (or settle) time in ms on Redis's clock (13 digits: exact as
# a Lua number). ARGV: per_second, n, member, window ms. Returns
# {1, granted at ms} or {0, wait ms}.
_ACQUIRE = """
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
    redis.call('ZADD', KEYS[1], now, ARGV[3])
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

# Re-dates the members (ARGV[2..]) to now; re-adds those already gone, as
# MemoryRateGate.settle does. ARGV[1]: window ms.
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do
    redis.call('ZADD', KEYS[1], now, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[1]))
return now
"""


class RedisRateGate:
    """The gate shared by every process using the same Redis and key prefix."""

    def __init__(self, redis: Redis, prefix: str, per_second: int) -> None:
        self._per_second = per_second
        self._key = f"{prefix}push-rate"
        self._acquire = redis.register_script(_ACQUIRE)
        self._settle = redis.register_script(_SETTLE)
        self._local = MemoryRateGate(per_second)
        self._degraded = False

    async def acquire(self, n: int) -> Grant:
        granted, pieces = 0.0, list[Piece]()
        for count in _pieces(n, self._per_second):
            grant = await self._take(count)
            granted = grant.at
            pieces += grant.pieces
        return Grant(granted, tuple(pieces))

    async def settle(self, grant: Grant) -> None:
        local = tuple(p for p in grant.pieces if not p.shared)
        if local:
            await self._local.settle(Grant(grant.at, local))
        shared = [p.member for p in grant.pieces if p.shared]
        if not shared:
            return
        try:
            await self._settle(keys=[self._key], args=[WINDOW_MS, *shared])
        except (RedisError, OSError) as exc:
            # The entries leave the window a second after their grant instead.
            self._lost(exc)
            return
        self._back()

    async def _take(self, n: int) -> Grant:
        member = f"{n}:{secrets.token_hex(8)}"
        while True:
            try:
                ok, value = await self._acquire(
                    keys=[self._key],
                    args=[self._per_second, n, member, WINDOW_MS],
                )
            except (RedisError, OSError) as exc:
                self._lost(exc)
                return await self._local.acquire(n)
            self._back()
            if ok:
                return Grant(int(value) / 1000, (Piece(member, n, shared=True),))
            await asyncio.sleep(int(value) / 1000)

    def _lost(self, exc: Exception) -> None:
        """Said once per outage, not once per call."""
        if not self._degraded:
            self._degraded = True
            logger.error(
                "push rate gate: Redis unavailable, this process keeps to the cap alone",
                error=str(exc),
            )

    def _back(self) -> None:
        if self._degraded:
            self._degraded = False
            logger.info("push rate gate: Redis is back, the cap is shared again")
