"""Catching up after the Redis link comes back: every connection gets what it
missed, with one database read per channel for the whole process, and no one
gets an author they may not see."""

from __future__ import annotations

import uuid

import asyncpg
from helpers import block
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from server.boards import service as boards
from server.settings import Settings
from tests.realtime.steps import Board, Connect, Serve, Socket


def catch_up_reads() -> float:
    return REGISTRY.get_sample_value("momento_ws_history_reads_total") or 0.0


async def test_after_the_redis_link_is_lost_a_channel_is_read_once_for_everyone(
    serve: Serve, ws: Connect, board: Board, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    live = await serve()
    await block(db_conn, board.other, board.attendee)
    readers: list[Socket] = []
    for person in (board.host, board.host, board.attendee, board.attendee):
        readers.append(await ws(live, person))
    blocked = [await ws(live, board.other) for _ in range(3)]
    for client in (*readers, *blocked):
        await client.subscribe(board.channel)
    # Stored but never published (its process died after the commit): only a
    # catch-up can bring it.
    post, _ = await boards.create_post(
        db_conn,
        live.app.state.storage,
        uuid.UUID(board.attendee["user_id"]),
        board.event_id,
        "Missed",
        None,
    )
    before = catch_up_reads()

    assert settings.redis_url
    admin = Redis.from_url(settings.redis_url)
    try:
        assert await admin.client_kill_filter(_type="pubsub") >= 1
    finally:
        await admin.aclose()

    for client in readers:
        frame = await client.expect("message")
        assert (frame["seq"], frame["data"]["content"]) == (post.seq, "Missed")
    for client in blocked:  # the read is shared; the block still holds
        await client.nothing()
    assert catch_up_reads() - before == 1
