"""Protection: bad and oversized frames, floods (4029), heartbeats, slow clients (4008)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.limits import SETTLE_EVERY
from tests.realtime.steps import Board, Chat, Connect, Serve, Socket, seqs

GENEROUS = {"ws_frames_per_connection_per_10s": 100_000, "ws_frames_per_user_per_minute": 100_000}


async def test_bad_frames_are_refused_and_the_connection_stays(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve()
    me = await ws(live, chat.me)
    for raw in ("not json", "[]", '{"op":"dance","ref":3}', '{"op":"send","ref":"s"}'):
        await me.ws.send(raw)
        error = await me.expect("error")
        assert error["code"] == "invalid_frame", raw
        assert error["detail"]
    assert error["ref"] == "s"  # echoed whenever it could be read
    await me.ws.send(b'{"op":"ping"}')
    assert (await me.expect("error"))["code"] == "invalid_frame"  # frames are text
    await me.send(op="ping")
    assert await me.recv() == {"type": "pong"}


async def test_frames_over_64_kib_are_refused(serve: Serve, ws: Connect, chat: Chat) -> None:
    live = await serve()
    me = await ws(live, chat.me)
    await me.subscribe(chat.channel)
    await me.send(op="send", channel=chat.channel, content="x" * (64 * 1024), ref=1)
    assert (await me.expect("error"))["code"] == "frame_too_large"
    # Just under the limit, the frame is read (and the content rules answer).
    await me.send(op="send", channel=chat.channel, content="x" * 60_000, ref=2)
    error = await me.expect("error")
    assert (error["code"], error["ref"]) == ("invalid_content", 2)
    await me.send(op="ping")
    assert await me.recv() == {"type": "pong"}


async def test_a_flooding_connection_is_closed_with_4029(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve(ws_frames_per_connection_per_10s=20)
    me, friend = await ws(live, chat.me), await ws(live, chat.friend)
    for _ in range(25):
        await me.send(op="ping")
    assert await me.closed() == 4029
    await friend.send(op="ping")
    assert await friend.recv() == {"type": "pong"}


async def test_a_user_flooding_from_several_connections_is_closed_with_4029(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve(ws_frames_per_user_per_minute=30)
    phone, tablet = await ws(live, chat.me), await ws(live, chat.me)
    for _ in range(15):
        await phone.send(op="ping")
        assert await phone.recv() == {"type": "pong"}
    for _ in range(20):
        await tablet.send(op="ping")
    assert await tablet.closed() == 4029


async def test_a_user_flooding_through_two_processes_is_closed_with_4029(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    # Two apps on one Redis are two processes; each settles its count in batches.
    limit = {"ws_frames_per_user_per_minute": 30}
    first, second = await serve(**limit), await serve(**limit)
    phone, tablet = await ws(first, chat.me), await ws(second, chat.me)
    for _ in range(15):
        await phone.send(op="ping")
        assert await phone.recv() == {"type": "pong"}
    # Refused at the latest SETTLE_EVERY frames per process past the limit.
    for _ in range(15 + 2 * SETTLE_EVERY):
        await tablet.send(op="ping")
    assert await tablet.closed() == 4029
    # The first process hears of it by its next settlement at the latest.
    for _ in range(SETTLE_EVERY):
        await phone.send(op="ping")
    assert await phone.closed() == 4029
    friend = await ws(second, chat.friend)
    await friend.send(op="ping")
    assert await friend.recv() == {"type": "pong"}


async def test_quiet_clients_are_pinged_and_silent_ones_closed(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve(ws_heartbeat_seconds=0.4)
    silent, answering = await ws(live, chat.me), await ws(live, chat.friend)
    started = time.monotonic()
    while time.monotonic() - started < 2.5:
        frame = await answering.recv()
        assert frame == {"type": "ping"}
        await answering.send(op="ping")
        assert await answering.recv() == {"type": "pong"}
    assert await silent.recv() == {"type": "ping"}
    assert await silent.closed() == 1011
    await answering.send(op="ping")
    assert await answering.recv() == {"type": "pong"}


async def test_a_client_that_stops_reading_is_closed_with_4008_and_nobody_waits(
    serve: Serve, ws: Connect, board: Board
) -> None:
    live = await serve(send_buffer=8192, ws_send_queue_size=16, **GENEROUS)
    host, writer = await ws(live, board.host), await ws(live, board.attendee)
    await host.subscribe(board.channel)
    # A phone on a bad network: a small receive buffer, and it stops reading.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(live.ws_url.split(":")[2].split("/")[0])))
    slow = Socket(
        await connect(
            live.ws_url,
            sock=sock,
            additional_headers={"Authorization": f"Bearer {board.other['access_token']}"},
            max_queue=1,
        )
    )
    await slow.expect("ready")
    await slow.subscribe(board.channel)
    total = 200
    received: list[dict[str, object]] = []

    async def read_fast() -> None:
        while len(received) < total:
            frame = await host.recv()
            if frame["type"] == "message":
                received.append(frame)

    reading = asyncio.create_task(read_fast())
    started = time.monotonic()
    for n in range(1, total + 1):
        # Incompressible, as permessage-deflate would shrink repeated text to nothing.
        content = base64.b64encode(os.urandom(1350)).decode()
        await writer.send(op="send", channel=board.channel, content=content, ref=n)
        assert (await writer.expect("ack"))["seq"] == n
    await asyncio.wait_for(reading, 10)
    assert seqs(received) == list(range(1, total + 1))  # type: ignore[arg-type]
    assert time.monotonic() - started < 10
    # The slow phone reads what reached it, in order, then finds the 4008.
    got = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            got.append(json.loads(await asyncio.wait_for(slow.ws.recv(), 10)))
    assert slow.ws.close_code == 4008
    assert 0 < len(got) < total
    assert seqs(got) == list(range(1, len(got) + 1))
