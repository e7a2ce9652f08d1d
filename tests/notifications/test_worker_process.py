"""The push worker as production runs it (`python -m workers`), killed mid-delivery:
every committed notification still reaches its device, and repeats carry the
same notification_id (the app shows each once)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
from builders import Kit
from fakes.expo import FakeExpo
from helpers import JWT_SECRET, until
from litestar.testing import AsyncTestClient
from notifications.steps import user_id, with_token

from server.notifications.notify import notify_many
from server.settings import Settings

Client = AsyncTestClient[Any]
ROOT = Path(__file__).resolve().parents[2]


def start_worker(settings: Settings, expo: FakeExpo, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith(("PATH", "LANG", "HOME"))},
        "PYTHONPATH": str(ROOT),
        "MOMENTO_ENV": "test",
        "MOMENTO_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "JWT_SECRET": JWT_SECRET,
        "EXPO_API_BASE": expo.url,  # type: ignore[attr-defined]
        # Slow enough that the kill lands while batches are still going out.
        "PUSH_RATE_PER_SECOND": "200",
        "PUSH_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "workers"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def test_killed_worker_loses_nothing_and_repeats_only_known_ids(
    kit: Kit,
    client: Client,
    db_conn: asyncpg.Connection,
    expo: FakeExpo,
    settings: Settings,
) -> None:
    guests = [await kit.person() for _ in range(4)]
    tokens = {await with_token(client, g): user_id(g) for g in guests}
    data = {"event_id": guests[0]["user_id"], "event_title": "Supper Club"}
    async with db_conn.transaction():
        for _ in range(150):
            await notify_many(db_conn, [user_id(g) for g in guests], "payment_succeeded", data)
    expected = {str(r["id"]) for r in await db_conn.fetch("SELECT id FROM notifications")}
    assert len(expected) == 600

    log = settings.data_dir / "worker.log"
    first = start_worker(settings, expo, log)
    try:

        async def some_sent() -> bool:
            assert first.poll() is None, log.read_text()
            return len(expo.messages) >= 150

        await until(some_sent, 60, "the first worker sent nothing")
    finally:
        first.kill()
        first.wait(10)
    assert len(expo.messages) < 600, "killed too late to test anything"

    # The dead worker's leases would run out in two minutes; end them now.
    await db_conn.execute("UPDATE notification_deliveries SET available_at = now()")
    second = start_worker(settings, expo, log)
    try:

        async def outbox_empty() -> bool:
            assert second.poll() is None, log.read_text()
            left: int = await db_conn.fetchval("SELECT count(*) FROM notification_deliveries")
            return left == 0

        await until(outbox_empty, 60, "the second worker did not finish")
    finally:
        second.terminate()
        second.wait(10)

    with expo.lock:
        got = [(m.message["to"], m.message["data"]["notification_id"]) for m in expo.messages]
    assert {n for _, n in got} == expected  # nothing lost
    # Only what the killed worker had in flight may come twice, never more.
    assert max(Counter(got).values()) <= 2
    for token, notification_id in got:
        owner = await db_conn.fetchval(
            "SELECT user_id FROM notifications WHERE id = $1::uuid", notification_id
        )
        assert owner == tokens[token]  # each to its own user's device
