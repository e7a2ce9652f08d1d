"""The push rate gate: the cap holds over every process, and is reached."""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
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


Grant = tuple[int, int]  # (granted at, ms on the gate's clock; messages)


async def drive(gate: PushRateGate, seconds: float, grants: list[Grant], seed: int) -> None:
    """Ask for batches of 1..60 back to back for `seconds`, recording each grant."""
    draw = random.Random(seed)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        n = draw.randint(1, 60)
        granted = await gate.acquire(n)
        grants.append((round(granted * 1000), n))


def assert_within_cap(grants: list[Grant], cap: int) -> None:
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
    grants: list[Grant] = []

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
    grants: list[Grant] = []

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
    last_piece = await asyncio.wait_for(gate.acquire(30), 10)

    # 20 now, the other 10 once the first 20 have left the window (ms rounding aside).
    assert last_piece - (seconds + micros / 1e6) >= 0.999


async def test_without_redis_too_a_large_request_goes_out_in_pieces() -> None:
    gate = MemoryRateGate(20)
    start = time.monotonic()

    last_piece = await asyncio.wait_for(gate.acquire(30), 10)

    assert last_piece - start >= 0.999


async def test_without_redis_a_process_keeps_to_the_cap_alone(
    logs: list[dict[str, Any]],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    unreachable = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    gate = build_rate_gate(unreachable, "unused:", 10)
    grants: list[Grant] = []
    try:
        for _ in range(5):
            granted = await asyncio.wait_for(gate.acquire(4), 10)
            grants.append((round(granted * 1000), 4))
    finally:
        await unreachable.aclose()

    assert_within_cap(grants, 10)
    assert len(grants) == 5
    # Said once per outage, not once per call.
    assert [log["log_level"] for log in logs] == ["error"]
