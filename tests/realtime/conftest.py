"""Realtime fixtures: real servers, real WebSocket clients, and the people,
boards and conversations they talk about.

The gateway is tested over real sockets (uvicorn in the test's own event
loop), since frame limits, backpressure and close codes are what it is about.
People, events and conversations are made through the REST API of the
`client` app (same database; tokens work on every server).
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import uvicorn
from builders import Kit
from helpers import bearer, free_port
from websockets.asyncio.client import connect

from gateway.transport import FrameProtocol
from server.app import create_app
from server.settings import Settings
from tests.realtime.steps import (
    Board,
    Chat,
    Connect,
    Live,
    Person,
    Process,
    RedisServer,
    Serve,
    Socket,
    SpawnProcess,
    make_chat,
    server_env,
)


@pytest.fixture
async def serve(settings: Settings) -> AsyncIterator[Serve]:
    """Start a server: `await serve(send_buffer=bytes, ws_replay_limit=3, ...)`, any
    keyword beyond the first two replacing that Settings field (the gateway's limits);
    `without_redis=True` for the single-process setup (in-memory fan-out);
    `ws_protocol` is uvicorn's `ws` option (the gateway's FrameProtocol by default).
    `send_buffer` caps the kernel's send buffer of accepted sockets, so a client
    that stops reading is felt after kilobytes rather than megabytes."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def _serve(
        send_buffer: int | None = None,
        without_redis: bool = False,
        ws_protocol: Any = FrameProtocol,
        **overrides: Any,
    ) -> Live:
        if without_redis:
            overrides["redis_url"] = None
        app = create_app(msgspec.structs.replace(settings, **overrides))
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if send_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, ws=ws_protocol)
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        running.append((server, task))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        return Live(app, server, sock.getsockname()[1])

    yield _serve
    for server, task in running:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def spawn(settings: Settings) -> Iterator[SpawnProcess]:
    """Start real server processes on the test database: `spawn(redis_url=...)`."""
    started: list[Process] = []

    def _spawn(redis_url: str | None = None) -> Process:
        env = server_env(settings, REDIS_URL=redis_url or settings.redis_url or "")
        port = free_port()
        process = Process(env, port, settings.data_dir / f"server-{port}.log")
        started.append(process)
        return process

    yield _spawn
    for process in started:
        process.kill()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def ws() -> AsyncIterator[Connect]:
    """Open a client: `await ws(live, tokens)` signs in by header and reads `ready`;
    `await ws(live, None)` opens it unauthenticated."""
    opened: list[Socket] = []

    async def _connect(
        server: Live | Process | str, tokens: Person | None, ready: bool = True, **options: Any
    ) -> Socket:
        url = server if isinstance(server, str) else server.ws_url
        headers = bearer(tokens) if tokens is not None else None
        client = Socket(await connect(url, additional_headers=headers, **options))
        opened.append(client)
        if tokens is not None and ready:
            frame = await client.expect("ready")
            assert frame["user_id"] == tokens["user_id"]
        return client

    yield _connect
    for client in opened:
        await client.close()


@pytest.fixture
async def board(kit: Kit) -> Board:
    host = await kit.host()
    attendee, other, invitee, stranger = [
        await kit.person(name) for name in ("Attendee", "Other", "Invitee", "Stranger")
    ]
    event = await kit.published(host)
    await kit.invite(event, attendee, "confirmed")
    await kit.invite(event, other, "confirmed")
    await kit.invite(event, invitee, "sent")
    return Board(
        f"event:{event['id']}", uuid.UUID(event["id"]), host, attendee, other, invitee, stranger
    )


@pytest.fixture
async def chat(kit: Kit) -> Chat:
    return await make_chat(kit)
