"""The frame path of `/v1/ws` (gateway/transport.py): frames written straight
onto the transport, and connections that outlive the ASGI call with no task of
their own while idle."""

from __future__ import annotations

import asyncio
import shlex
import uuid
from pathlib import Path

import pytest
from helpers import until
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from gateway.transport import PROTOCOL, text_frame
from tests.realtime.steps import Chat, Connect, Serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])
def test_a_text_frame_is_one_whole_rfc_6455_frame(size: int) -> None:
    # Each length encoding (7-bit, 16-bit, 64-bit) at its edges, read back by
    # websockets' own parser as a client reads it (server frames are unmasked).
    payload = ("é" * size).encode()[:size]
    reader = StreamReader()
    reader.feed_data(text_frame(payload))
    parser = Frame.parse(reader.read_exact, mask=False, max_size=None)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert (frame.opcode, frame.fin, bytes(frame.data)) == (Opcode.TEXT, True, payload)
    assert not reader.buffer  # nothing before or after the frame


def _gateway_tasks() -> set[asyncio.Task[object]]:
    """The tasks running the gateway's code (the server runs in the test's loop)."""
    gateway = str(ROOT / "gateway")
    tasks = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and code.co_filename.startswith(gateway):
            tasks.add(task)
    return tasks


async def test_idle_connections_have_no_task_and_still_get_everything(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve()
    process_wide = _gateway_tasks()  # the hub's heartbeat and the like
    me = await ws(live, chat.me, ping_interval=None)
    friend = await ws(live, chat.friend, ping_interval=None)
    await me.subscribe(chat.channel)
    await friend.subscribe(chat.channel)

    def idle() -> bool:
        return _gateway_tasks() <= process_wide

    # Once their frames are answered, neither connection has a task in the server.
    await until(idle, 5)
    for n in range(1, 4):
        ref = f"r{n}"
        await me.send(
            op="send", channel=chat.channel, content=f"#{n}", client_id=str(uuid.uuid4()), ref=ref
        )
        ack = await me.expect("ack")
        assert (ack["ref"], ack["seq"]) == (ref, n)
        for member in (me, friend):  # the sender hears its own message too
            message = await member.expect("message")
            assert (message["seq"], message["data"]["content"]) == (n, f"#{n}")
        await until(idle, 5)
    # A frame after a quiet spell starts a reader again.
    await friend.send(op="ping")
    assert await friend.recv() == {"type": "pong"}


async def test_frames_sent_before_ready_are_answered_after_it(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve()
    me = await ws(live, chat.me, ready=False)
    # The app may subscribe as soon as the socket opens, before `ready` arrives.
    await me.send(op="subscribe", channel=chat.channel, since=None, ref="early")
    await me.send(op="ping")
    assert (await me.expect("ready"))["user_id"] == chat.me["user_id"]
    assert (await me.expect("subscribed"))["ref"] == "early"
    assert await me.recv() == {"type": "pong"}


async def test_a_server_without_the_gateway_protocol_refuses_with_1011(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve(ws_protocol="websockets-sansio")
    me = await ws(live, chat.me, ready=False)
    assert await me.closed() == 1011


def test_the_procfile_serves_the_gateway_protocol() -> None:
    web = next(
        line.split(":", 1)[1]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    argv = shlex.split(web)
    assert argv[argv.index("--ws") + 1] == PROTOCOL
