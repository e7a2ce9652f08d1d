"""The push rate gate: the cap holds over every process, where Expo counts
(at a request's arrival), and is reached."""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from workers.push.rate import MemoryRateGate, PushRateGate, RedisRateGate, build_rate_gate

CAP = 200
SECONDS = 3


@pytest.fixture
async def redis_pair(redis_url: str) -> AsyncIterator[tuple[Redis, Redis]]:
    """Two clients, as two worker processes would have."""
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    yield first, second
    await first.aclose()
    await second.aclose()


Sent = tuple[int, int]  # (when, ms on the gate's clock; messages)
Clock = Callable[[], Awaitable[int]]  # the gate's clock, in ms


async def drive(gate: PushRateGate, seconds: float, grants: list[Sent], seed: int) -> None:
    """Ask for batches of 1..60 back to back for `seconds`, recording each grant."""
    draw = random.Random(seed)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        n = draw.randint(1, 60)
        grant = await gate.acquire(n)
        grants.append((round(grant.at * 1000), n))


async def send_like_expo(
    gate: PushRateGate, clock: Clock, seconds: float, arrivals: list[Sent], seed: int
) -> None:
    """Send batches of 1..60 back to back for `seconds` as the push sender
    does: each request is in flight 0..200 ms after its grant and arrives at
    some point of that span; settle once it has returned."""
    draw = random.Random(seed)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        n = draw.randint(1, 60)
        grant = await gate.acquire(n)
        try:
            in_flight = draw.uniform(0, 0.2)
            before = draw.uniform(0, in_flight)
            await asyncio.sleep(before)
            arrivals.append((await clock(), n))
            await asyncio.sleep(in_flight - before)
        finally:
            await gate.settle(grant)


async def memory_clock() -> int:
    return time.monotonic_ns() // 1_000_000


def redis_clock(redis: Redis) -> Clock:
    async def now() -> int:
        seconds, micros = await redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    return now


def assert_within_cap(grants: list[Sent], cap: int) -> None:
    grants = sorted(grants)
    # Any one-second window: the one ending at each grant is the fullest there.
    for end, _ in grants:
        in_window = sum(n for at, n in grants if end - 1000 < at <= end)
        assert in_window <= cap, f"{in_window} messages in the second before {end} ms"
    per_second = Counter[int]()
    for at, n in grants:
        per_second[at // 1000] += n
    assert max(per_second.values()) <= cap


async def test_two_processes_together_keep_to_the_cap_and_reach_it(
    redis_pair: tuple[Redis, Redis],
) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    gates = [RedisRateGate(redis, prefix, CAP) for redis in redis_pair]
    grants: list[Sent] = []

    # Three concurrent senders per process.
    await asyncio.gather(
        *(drive(gate, SECONDS, grants, seed) for seed, gate in enumerate(gates * 3))
    )

    assert_within_cap(grants, CAP)
    # Not a speed check: the gate must not hold back what the cap allows.
    assert sum(n for _, n in grants) >= 0.8 * CAP * SECONDS


async def test_one_process_without_redis_keeps_to_the_cap_and_reaches_it() -> None:
    gate = build_rate_gate(None, "unused:", CAP)
    assert isinstance(gate, MemoryRateGate)
    grants: list[Sent] = []

    await asyncio.gather(*(drive(gate, SECONDS, grants, seed) for seed in range(3)))

    assert_within_cap(grants, CAP)
    assert sum(n for _, n in grants) >= 0.8 * CAP * SECONDS


async def test_a_request_larger_than_the_cap_goes_out_in_pieces(
    redis_pair: tuple[Redis, Redis],
) -> None:
    redis = redis_pair[0]
    gate = RedisRateGate(redis, f"test:{uuid.uuid4().hex}:", 20)
    seconds, micros = await redis.time()

    # Would wait forever if asked for in one piece; the timeout only guards the suite.
    grant = await asyncio.wait_for(gate.acquire(30), 10)

    # 20 now, the other 10 once the first 20 have left the window (ms rounding aside).
    assert grant.at - (seconds + micros / 1e6) >= 0.999


async def test_without_redis_too_a_large_request_goes_out_in_pieces() -> None:
    gate = MemoryRateGate(20)
    start = time.monotonic()

    grant = await asyncio.wait_for(gate.acquire(30), 10)

    assert grant.at - start >= 0.999


async def test_without_redis_a_process_keeps_to_the_cap_alone(
    logs: list[dict[str, Any]],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    unreachable = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    gate = build_rate_gate(unreachable, "unused:", 10)
    grants: list[Sent] = []
    try:
        for _ in range(5):
            grant = await asyncio.wait_for(gate.acquire(4), 10)
            await gate.settle(grant)
            grants.append((round(grant.at * 1000), 4))
    finally:
        await unreachable.aclose()

    assert_within_cap(grants, 10)
    assert len(grants) == 5
    # Said once per outage, not once per call.
    assert [log["log_level"] for log in logs] == ["error"]


async def test_two_processes_keep_to_the_cap_where_expo_counts_it(
    redis_pair: tuple[Redis, Redis],
) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    gates = [RedisRateGate(redis, prefix, CAP) for redis in redis_pair]
    arrivals: list[Sent] = []

    # Three concurrent senders per process, all timed on Redis's clock.
    await asyncio.gather(
        *(
            send_like_expo(gate, redis_clock(redis), SECONDS, arrivals, seed)
            for seed, (gate, redis) in enumerate(list(zip(gates, redis_pair, strict=True)) * 3)
        )
    )

    assert_within_cap(arrivals, CAP)
    # Each message now holds its place until a second after its request
    # returned (100 ms more on average): lenient, not a speed check.
    assert sum(n for _, n in arrivals) >= 0.6 * CAP * SECONDS


async def test_one_process_without_redis_keeps_to_the_cap_where_expo_counts_it() -> None:
    gate = MemoryRateGate(CAP)
    arrivals: list[Sent] = []

    await asyncio.gather(
        *(send_like_expo(gate, memory_clock, SECONDS, arrivals, seed) for seed in range(3))
    )

    assert_within_cap(arrivals, CAP)
    assert sum(n for _, n in arrivals) >= 0.6 * CAP * SECONDS


async def test_every_piece_of_a_large_request_counts_until_a_second_after_it_returned(
    redis_pair: tuple[Redis, Redis],
) -> None:
    redis = redis_pair[0]
    prefix = f"test:{uuid.uuid4().hex}:"
    sender, other = RedisRateGate(redis, prefix, 20), RedisRateGate(redis_pair[1], prefix, 20)
    clock = redis_clock(redis)

    grant = await asyncio.wait_for(sender.acquire(30), 10)
    returned = await clock()  # the request to Expo returned
    await sender.settle(grant)
    # All 30 count from the return on, the first 20 again although their
    # grant left the window: another process gets nothing for a second.
    after = await asyncio.wait_for(other.acquire(1), 10)

    assert len(grant.pieces) == 2
    assert round(after.at * 1000) - returned >= 1000


async def test_without_redis_too_every_piece_counts_until_a_second_after_it_returned() -> None:
    gate = MemoryRateGate(20)

    grant = await asyncio.wait_for(gate.acquire(30), 10)
    returned = await memory_clock()
    await gate.settle(grant)
    after = await asyncio.wait_for(gate.acquire(1), 10)

    assert round(after.at * 1000) - returned >= 1000


async def test_settling_while_redis_is_down_never_fails_the_sender(
    redis_pair: tuple[Redis, Redis], logs: list[dict[str, Any]]
) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    up = RedisRateGate(redis_pair[0], prefix, CAP)
    grants = [await up.acquire(4), await up.acquire(4)]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Redis goes away between the grants and the requests' return.
    unreachable = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    gate = RedisRateGate(unreachable, prefix, CAP)
    try:
        for grant in grants:
            await gate.settle(grant)
    finally:
        await unreachable.aclose()

    # Said once per outage, not once per call.
    assert [log["log_level"] for log in logs] == ["error"]
