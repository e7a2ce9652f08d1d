"""Small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

TEST_PHONE_PREFIX = "+1202555"
TEST_OTP_CODE = "123456"
JWT_SECRET = "test-secret-" + "x" * 40


# Random draws from 10,000 numbers collide often (50 people: ~12%), and a
# collision signs the same person in twice; a shuffled cycle never repeats
# within a test. Numbers below 1000 are left for tests that pick their own.
_UNUSED_SUFFIXES = itertools.cycle(random.sample(range(1_000, 10_000), 9_000))


def make_phone(n: int | None = None) -> str:
    """A US number under the test prefix: no SMS, fixed code."""
    suffix = n if n is not None else next(_UNUSED_SUFFIXES)
    return f"{TEST_PHONE_PREFIX}{suffix:04d}"


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    seconds: float = 10.0,
    what: str = "condition not met in time",
) -> None:
    """Wait for `condition` (plain or async) to hold; fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        met = condition()
        if inspect.isawaitable(met):
            met = await met
        if met:
            return
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def block(
    db_conn: asyncpg.Connection, blocker: dict[str, Any], blocked: dict[str, Any]
) -> None:
    """`blocker` blocks `blocked` (both sign-in results), straight in the database."""
    await db_conn.execute(
        "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)",
        uuid.UUID(blocker["user_id"]),
        uuid.UUID(blocked["user_id"]),
    )


async def gather(*calls: Any) -> list[Any]:
    return list(await asyncio.gather(*calls))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Recorder:
    """A fan-out listener that keeps every frame delivered on its channels."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()

    def deliver(self, channel: str, delivery: Any) -> None:
        self.frames.append(json.loads(delivery.frame))
        self._arrived.set()

    def resync(self, channel: str) -> None:
        pass

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        """The frames once there are `count`, then a moment more to catch extras."""
        async with asyncio.timeout(5):
            while len(self.frames) < count:
                self._arrived.clear()
                await self._arrived.wait()
        await asyncio.sleep(0.2)
        return self.frames


async def listen(client: AsyncTestClient[Any], channel: str) -> Recorder:
    """Listen on `channel` through the app's fan-out."""
    recorder = Recorder()
    await client.app.state.fanout.listen(channel, recorder)
    return recorder
