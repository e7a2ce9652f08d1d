"""Fan-out benchmark: Momento's WebSocket gateway against Django Channels and plain `websockets`.

    .venv/bin/python bench/fanout.py [--clients 1000] [--room-sizes 10,100] [--idle 10000]

It starts a Redis of its own (redis-server in a temp dir on a free port), a
throwaway embedded PostgreSQL, and three servers with two processes each on
127.0.0.1: Momento (`uvicorn server.app:create_app`), a Django Channels app on
channels_redis (bench/peers/channels_app.py) and a plain `websockets`
broadcast server (bench/peers/ws_server.py), all on the same Redis. Momento's
users sign in over HTTP; their events and confirmed invitations are written
in SQL. For each server, a load generator in a separate process (raw
WebSocket frames over asyncio sockets) first holds `--idle` idle connections
and reads the servers' RSS, then connects `--clients` clients in rooms of
each size, each room spread over both processes, and publishes at increasing
rates, the members of a room taking turns; every message carries its publish
time and step, and every other member records when it arrives and its
per-room sequence (Momento's `seq`; the peers relay the publisher's).
Everything it starts is stopped and deleted on exit, Ctrl-C included. How to
read the tables: bench/README.md, "Fan-out".
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import datetime
import functools
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import msgspec
from rest import (
    HOST,
    JWT_SECRET,
    TEST_OTP_CODE,
    TEST_PHONE_PREFIX,
    Server,
    _machine_ticks,
    _on_sigterm,
    _tree,
    _tree_ticks,
    cpu_model,
    free_port,
    git_revision,
    machine_busy,
    run_main,
    sign_in_users,
    start_postgres,
    started,
    uvicorn_options,
)

from gateway.transport import PROTOCOL

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path(__file__).resolve().parent / "peers"
US = 1_000_000
IDLE_WARNING = 15.0  # percent of the machine busy before we start
P99_LIMIT_MS = 200.0
# A failed or dropped handshake is dialled again this many times in all, waiting
# CONNECT_RETRY_SECONDS, then twice that, ... between rounds.
CONNECT_ATTEMPTS = 4
CONNECT_RETRY_SECONDS = 0.5
# Goals (issue 15): deliveries/s against the peers (the ceiling's by room size),
# and memory per idle connection.
GOAL_OVER_CHANNELS = 4.0
GOAL_UNDER_CEILING = {10: 2.0, 100: 1.5}
GOAL_UNDER_CEILING_OTHERWISE = 2.0
GOAL_KB_PER_CONNECTION = 20.0
# The gateway's frame limits for the bench: its senders publish up to ~26 frames/s
# each at the top rates, past the production limits (100 per 10 s per connection,
# 600 per minute per user), which would close them with 4029; the bench measures
# delivery, and tests/realtime/test_protection.py the limits.
BENCH_FRAME_LIMITS = {
    "WS_FRAMES_PER_CONNECTION_PER_10S": "1000000",
    "WS_FRAMES_PER_USER_PER_MINUTE": "1000000",
}
# Momento's WebSocket options as the Procfile's `web` process runs it in production.
PROCFILE_WS_OPTIONS = [
    "--ws",
    PROTOCOL,
    "--ws-per-message-deflate",
    "false",
    "--ws-max-size",
    "1048576",
]
ZERO_MASK = b"\x00\x00\x00\x00"  # a legal mask key: the server still unmasks every frame
SERVERS = ("momento", "channels", "websockets")
LABELS = {
    "momento": "Momento (`send` op)",
    "momento-rest": "Momento (REST POST)",
    "channels": "Django Channels + channels_redis",
    "websockets": "plain websockets + Redis (ceiling)",
}


# --------------------------------------------------------------------------
# What the orchestrator hands the load generator, and what comes back
# --------------------------------------------------------------------------


class Member(msgspec.Struct, frozen=True, array_like=True):
    port: int
    path: str  # WebSocket path
    token: str | None  # Momento: bearer token of the upgrade request
    channel: str | None  # Momento: the channel to subscribe to


class RoomSpec(msgspec.Struct, frozen=True):
    name: str  # "event:<id>" (Momento) or "room:<n>"
    members: list[Member]  # they take turns publishing
    post_path: str | None = None  # Momento REST: /v1/events/<id>/posts


class Pids(msgspec.Struct, frozen=True):
    servers: list[int]
    redis: int | None
    postgres: int | None


class FanoutSpec(msgspec.Struct, frozen=True):
    mode: str  # "send" (Momento `send` op), "rest" (Momento REST POST) or "peer"
    rooms: list[RoomSpec]
    rates: list[float]  # deliveries/s to try, ascending
    refine: int  # bisections between the last rate that passed and the first that failed
    warmup: float
    duration: float
    drain: float
    payload: int
    senders: int  # members of each room who take turns publishing
    connect_concurrency: int
    pids: Pids
    soak: bool = False  # every rate is tried, passing or not (`--soak`)


class IdleSpec(msgspec.Struct, frozen=True):
    members: list[Member]
    warm: int
    settle: float
    connect_concurrency: int
    pids: Pids
    momento: bool
    # `--heap`: where the servers write tracemalloc snapshots (bench/heap/).
    heap_dir: str | None = None


class Cpu(msgspec.Struct, frozen=True):
    server: float  # percent of one core, both server processes
    redis: float
    postgres: float
    loadgen: float
    other: float  # everything else on the machine, percent of one core
    machine: float  # percent of all cores


class Step(msgspec.Struct, frozen=True):
    target: float  # deliveries/s asked for
    stored_per_s: float  # messages stored (Momento: acked) or sent (peers) in the window
    delivered_per_s: float  # deliveries arriving in the window, per second
    # Latency percentiles over every delivery owed; None: that share never arrived.
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    missing: int  # deliveries of the window's messages not in by the end of the drain
    refused: int  # sends refused or unanswered in the window
    cpu: Cpu
    passed: bool
    rss_mb: float = 0.0  # both server processes, at the end of the window


class FanoutResult(msgspec.Struct, frozen=True):
    steps: list[Step]
    expected: int  # deliveries owed over the whole run
    lost: int
    duplicates: int
    unexpected: int  # sequences no publish accounts for
    refused: int
    closed: int  # connections the server closed or dropped
    frame_bytes: float | None  # mean size of a delivered message frame
    connect_s: float
    first_error: str | None
    clients: int = 0
    unconnected: int = 0  # clients still failing after CONNECT_ATTEMPTS (no steps run)
    connect_retries: int = 0  # dials repeated after a failed or dropped handshake


class IdleResult(msgspec.Struct, frozen=True):
    connections: int
    failed: int
    dropped: int  # closed by the server while idle
    rss_before_kb: int
    rss_after_kb: int
    connect_s: float
    first_error: str | None

    @property
    def kb_per_connection(self) -> float:
        if not self.connections:
            return float("nan")
        return (self.rss_after_kb - self.rss_before_kb) / self.connections


# --------------------------------------------------------------------------
# Load generator (its own process: `fanout.py _loadgen`, spec on stdin)
# --------------------------------------------------------------------------


class Data(msgspec.Struct):
    content: str | None = None


class Frame(msgspec.Struct):
    type: str = ""
    seq: int | None = None
    ref: Any = None
    last_seq: int | None = None
    code: Any = None
    detail: Any = None
    data: Data | None = None


class Posted(msgspec.Struct):
    seq: int


FRAMES = msgspec.json.Decoder(Frame)
POSTED = msgspec.json.Decoder(Posted)
ENCODE = msgspec.json.Encoder().encode


def rss_kb(pids: Iterable[int]) -> int:
    """Resident memory of the processes and all their descendants."""
    total = 0
    for root in pids:
        for pid in _tree(root):
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
    return total


class Watch:
    """CPU used by the servers, Redis, PostgreSQL, this process and the machine."""

    def __init__(self, pids: Pids) -> None:
        self.groups = {
            "server": set().union(*(_tree(p) for p in pids.servers)),
            "redis": {pids.redis} if pids.redis else set(),
            "postgres": _tree(pids.postgres) if pids.postgres else set(),
        }
        self.start = {name: _tree_ticks(group) for name, group in self.groups.items()}
        self.own = self._own_seconds()
        self.machine = _machine_ticks()
        self.time = time.perf_counter()

    @staticmethod
    def _own_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def stop(self) -> Cpu:
        elapsed = time.perf_counter() - self.time
        hz = os.sysconf("SC_CLK_TCK")

        def used(start: dict[int, int]) -> float:
            end = _tree_ticks(set(start))
            return 100.0 * sum(end[p] - start[p] for p in start if p in end) / hz / elapsed

        busy, total = _machine_ticks()
        machine = 100.0 * (busy - self.machine[0]) / max(1, total - self.machine[1])
        server, redis, postgres = (used(self.start[n]) for n in ("server", "redis", "postgres"))
        loadgen = 100.0 * (self._own_seconds() - self.own) / elapsed
        mine = server + redis + postgres + loadgen
        return Cpu(
            server=server,
            redis=redis,
            postgres=postgres,
            loadgen=loadgen,
            other=max(0.0, machine * (os.cpu_count() or 1) - mine),
            machine=machine,
        )


class Room:
    def __init__(self, spec: RoomSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.conns: list[WsConn] = []  # in member order: conns[k].index == k
        self.next_sender = 0
        # (seq, sender) of every stored (Momento: acked) or sent (peers) message.
        self.stored: list[tuple[int, int]] = []
        self.pending: dict[str, tuple[int, int]] = {}  # Momento: ref -> (step tag, sender)
        self.refs = 0
        self.http: HttpConn | None = None


class Gen:
    """Shared state of one load generator run."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.latencies: dict[int, list[float]] = collections.defaultdict(list)
        self.stored: collections.Counter[int] = collections.Counter()  # step -> acked/sent
        self.unresolved: collections.Counter[int] = collections.Counter()
        self.refused: collections.Counter[int] = collections.Counter()
        self.window = (0.0, 0.0)
        self.arrivals = 0
        self.duplicates = 0
        self.unexpected = 0
        self.closed = 0
        self.frame_bytes = 0
        self.frames = 0
        self.first_error: str | None = None
        self.stopping = False
        # While clients connect, a dropped one is dialled again, not counted as closed.
        self.connecting = False
        self.connect_retries = 0

    def error(self, why: str) -> None:
        if self.first_error is None:
            self.first_error = why

    def on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.error(str(context.get("exception") or context["message"]))

    def stored_one(self, room: Room, tag: int, seq: int, sender: int) -> None:
        room.stored.append((seq, sender))
        self.stored[tag] += 1
        self.unresolved[tag] -= 1

    def refused_one(self, tag: int, why: str) -> None:
        self.refused[tag] += 1
        self.unresolved[tag] -= 1
        self.error(why)

    def delivered(self, conn: WsConn, frame: Frame, now: float, size: int) -> None:
        seq = frame.seq
        content = frame.data.content if frame.data else None
        if seq is None or not content:
            return
        tag, sent_us, sender, _ = content.split(" ", 3)
        if int(sender) == conn.index:
            return  # its own message coming back
        i = seq - conn.base
        seen = conn.seen
        if i < 0:
            self.unexpected += 1
            return
        if i >= len(seen):
            seen.extend(bytes(i - len(seen) + 1024))
        if seen[i]:
            self.duplicates += 1
            return
        seen[i] = 1
        self.frame_bytes += size
        self.frames += 1
        if self.window[0] <= now < self.window[1]:
            self.arrivals += 1
        if tag != "-1":
            self.latencies[int(tag)].append(now - int(sent_us) / US)


class WsConn(asyncio.Protocol):
    """One client: a bare RFC 6455 client that parses only what the bench needs."""

    def __init__(
        self, gen: Gen, member: Member, momento: bool, room: Room | None, index: int
    ) -> None:
        self.gen = gen
        self.member = member
        self.momento = momento
        self.room = room
        self.index = index  # in its room
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.fragments = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = gen.loop.create_future()
        self.base = 1  # first sequence this client may receive
        self.seen = bytearray()  # seen[seq - base]: 1 once delivered
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        auth = f"Authorization: Bearer {self.member.token}\r\n" if self.member.token else ""
        self.transport.write(
            f"GET {self.member.path} HTTP/1.1\r\nHost: {HOST}:{self.member.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{auth}\r\n".encode()
        )

    def send_text(self, data: bytes) -> None:
        n = len(data)
        if n < 126:
            head = bytes((0x81, 0x80 | n))
        elif n < 65536:
            head = bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x81, 0xFF)) + n.to_bytes(8, "big")
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(head + ZERO_MASK + data)

    def _control(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + ZERO_MASK + payload)

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            if status.split(b" ", 2)[1:2] != [b"101"]:
                self._fail(f"handshake refused: {status.decode(errors='replace')}")
                return
            del buf[: end + 4]
            self.open = True
            if not self.momento:
                self.ready.set_result(None)
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > n:
                break
            payload = bytes(buf[pos + head : end])
            pos = end
            opcode = b0 & 0x0F
            if opcode in (0x0, 0x1) and not b0 & 0x80:  # a fragment: keep until the last
                self.fragments += payload
                continue
            if opcode == 0x0:
                payload, self.fragments = bytes(self.fragments + payload), bytearray()
                opcode = 0x1
            if opcode == 0x1:
                self.on_text(payload, now)
            elif opcode == 0x8:
                self.on_close(payload)
                return
            elif opcode == 0x9:
                self._control(0xA, payload)
        del buf[:pos]

    def on_text(self, payload: bytes, now: float) -> None:
        try:
            frame = FRAMES.decode(payload)
        except msgspec.DecodeError:
            return  # e.g. a notification whose data is not an object
        kind = frame.type
        if kind == "message":
            self.gen.delivered(self, frame, now, len(payload))
        elif kind == "ack":
            room = self.room
            sent = room.pending.pop(str(frame.ref), None) if room else None
            if room is not None and sent is not None and frame.seq is not None:
                self.gen.stored_one(room, sent[0], frame.seq, sent[1])
        elif kind == "ping":  # the gateway's heartbeat on a quiet connection
            self.send_text(b'{"op":"ping"}')
        elif kind == "ready":
            if self.member.channel is None:
                self.ready.set_result(None)
            else:
                self.send_text(
                    ENCODE(
                        {
                            "op": "subscribe",
                            "channel": self.member.channel,
                            "since": None,
                            "ref": "s",
                        }
                    )
                )
        elif kind == "subscribed":
            self.base = (frame.last_seq or 0) + 1
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "error":
            why = f"error frame: {frame.code} {frame.detail}"
            if not self.ready.done():
                self._fail(why)
                return
            room = self.room
            sent = room.pending.pop(str(frame.ref), None) if room else None
            if sent is not None:
                self.gen.refused_one(sent[0], why)
            else:
                self.gen.error(why)

    def on_close(self, payload: bytes) -> None:
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        why = f"closed by the server: {code} {payload[2:].decode(errors='replace')}"
        if not self.closing and not self.gen.connecting:
            self.gen.closed += 1
            self.gen.error(why)
        self.closing = True
        self._control(0x8, payload[:2])
        self._fail(why)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost: {exc!r}"))
        elif not self.closing and not self.gen.stopping:
            self.closing = True
            if self.gen.connecting:
                return  # connect_all dials this member again
            self.gen.closed += 1
            self.gen.error(f"connection dropped: {exc!r}")

    def close(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self._control(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()


class HttpConn(asyncio.Protocol):
    """A keep-alive HTTP/1.1 connection posting to one room, one request at a time,
    each with the token of the member whose turn it is."""

    def __init__(self, gen: Gen, room: Room, port: int) -> None:
        self.gen = gen
        self.room = room
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.queue: collections.deque[tuple[bytes, int, int]] = collections.deque()
        self.sent: tuple[int, int] | None = None  # (tag, sender) of the request in flight
        self.buf = bytearray()
        self.need: int | None = None
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def post(self, content: str, tag: int, sender: int) -> None:
        body = ENCODE({"content": content, "client_id": str(uuid.uuid4())})
        head = (
            f"POST {self.room.spec.post_path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {self.room.spec.members[sender].token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.queue.append((head.encode() + body, tag, sender))
        if self.sent is None:
            self._next()

    def _next(self) -> None:
        if not self.queue or self.transport is None or self.transport.is_closing():
            return
        request, tag, sender = self.queue.popleft()
        self.sent = (tag, sender)
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            if self.need is None:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buf[:end]).lower()
                self.status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                line_end = head.find(b"\r\n", at + 2)
                length = 0
                if at >= 0:
                    length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
                self.need = end + 4 + length
                self.body_at = end + 4
            if len(buf) < self.need:
                return
            body = bytes(buf[self.body_at : self.need])
            del buf[: self.need]
            self.need = None
            sent, self.sent = self.sent, None
            if sent is not None:
                if self.status in (200, 201):
                    self.gen.stored_one(self.room, sent[0], POSTED.decode(body).seq, sent[1])
                else:
                    self.gen.refused_one(sent[0], f"HTTP {self.status}: {body[:300]!r}")
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.gen.stopping:
            self.gen.error(f"REST connection lost: {exc!r}")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect_all(
    gen: Gen,
    members: Sequence[tuple[Member, Room | None, int]],
    momento: bool,
    concurrency: int,
) -> tuple[list[WsConn], int]:
    """Connect (and for Momento authenticate and subscribe) every (member, room,
    index in room); (conns, failures).

    A handshake that fails, or a connection the server drops before every client
    is in, is dialled again up to CONNECT_ATTEMPTS times in all (a busy peer
    sometimes refuses one of a thousand); what still fails is counted, not raised.
    """
    gate = asyncio.Semaphore(concurrency)

    async def dial(member: Member, room: Room | None, index: int) -> WsConn:
        async with gate:
            conn = WsConn(gen, member, momento, room, index)
            await gen.loop.create_connection(lambda: conn, HOST, member.port)
            await asyncio.wait_for(conn.ready, timeout=30)
            return conn

    gen.connecting = True
    todo = list(members)
    conns: list[WsConn] = []
    errors: list[BaseException] = []
    for attempt in range(CONNECT_ATTEMPTS):
        if attempt:
            gen.connect_retries += len(todo)
            await asyncio.sleep(CONNECT_RETRY_SECONDS * 2 ** (attempt - 1))
        outcomes = await asyncio.gather(*(dial(*m) for m in todo), return_exceptions=True)
        retry: list[tuple[Member, Room | None, int]] = []
        errors = []
        for member, outcome in zip(todo, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                errors.append(outcome)
                retry.append(member)
            else:
                conns.append(outcome)
        # Connections dropped while the others were still connecting are dialled again.
        await asyncio.sleep(0.2)
        for conn in [c for c in conns if c.closing]:
            conns.remove(conn)
            errors.append(ConnectionError("connection dropped while connecting"))
            retry.append((conn.member, conn.room, conn.index))
        todo = retry
        if not todo:
            break
    gen.connecting = False
    for error in errors:
        gen.error(f"connect: {error!r}")
    return conns, len(todo)


async def close_all(gen: Gen, conns: Iterable[WsConn]) -> None:
    gen.stopping = True
    for conn in conns:
        conn.close()
    await asyncio.sleep(0.5)


class Fanout:
    def __init__(self, spec: FanoutSpec) -> None:
        self.spec = spec
        self.gen = Gen()
        self.rooms = [Room(r) for r in spec.rooms]
        self.receivers = len(spec.rooms[0].members) - 1  # per message: all but its sender
        self.pad = "x" * max(1, spec.payload)
        self.next_room = 0
        self.steps_taken = 0

    def publish(self, room: Room, tag: int) -> None:
        """The next message of `room`, from the member whose turn it is."""
        sender = room.next_sender
        room.next_sender = (sender + 1) % self.spec.senders
        content = f"{tag} {int(time.perf_counter() * US)} {sender} {self.pad}"
        self.gen.unresolved[tag] += 1
        if self.spec.mode == "peer":
            seq = len(room.stored) + 1
            room.conns[sender].send_text(
                f'{{"type":"message","channel":"{room.name}","seq":{seq},'
                f'"data":{{"content":"{content}"}}}}'.encode()
            )
            self.gen.stored_one(room, tag, seq, sender)
        elif self.spec.mode == "send":
            room.refs += 1
            ref = f"p{room.refs}"
            room.pending[ref] = (tag, sender)
            room.conns[sender].send_text(
                ENCODE(
                    {
                        "op": "send",
                        "channel": room.name,
                        "content": content,
                        "client_id": str(uuid.uuid4()),
                        "ref": ref,
                    }
                )
            )
        else:
            assert room.http is not None
            room.http.post(content, tag, sender)

    async def publish_for(self, rate: float, seconds: float, tag: int) -> None:
        """`rate` messages/s for `seconds`, round-robin over the rooms."""
        start = time.perf_counter()
        end, sent, rooms = start + seconds, 0, self.rooms
        while (now := time.perf_counter()) < end:
            due = int((min(now, end) - start) * rate) - sent
            for _ in range(due):
                self.publish(rooms[self.next_room], tag)
                self.next_room = (self.next_room + 1) % len(rooms)
            sent += due
            await asyncio.sleep(0.001)

    async def prime(self) -> None:
        """Every sender posts once, unmeasured, so per-connection caches start warm
        as in a room that has been talking (Momento looks up once per reader and
        author whether the reader may see the author)."""
        count = self.spec.senders * len(self.rooms)
        rate = 2 * self.spec.rates[0] / self.receivers
        await self.publish_for(rate, count / rate, -1)
        while sum(r.next_sender for r in self.rooms):  # rounding: finish the round
            for room in self.rooms:
                if room.next_sender:
                    self.publish(room, -1)
        await self.quiet()

    async def step(self, target: float) -> Step:
        gen, spec = self.gen, self.spec
        self.steps_taken += 1
        tag = self.steps_taken  # unique within the run (a soak repeats its rate)
        rate = target / self.receivers
        await self.publish_for(rate, spec.warmup, -1)
        watch = Watch(spec.pids)
        start = time.perf_counter()
        gen.window, gen.arrivals = (start, start + spec.duration), 0
        refused_before = sum(gen.refused.values())
        await self.publish_for(rate, spec.duration, tag)
        cpu = watch.stop()
        delivered_per_s = gen.arrivals / spec.duration
        deadline = time.perf_counter() + spec.drain
        while time.perf_counter() < deadline:
            owed = gen.stored[tag] * self.receivers
            if gen.unresolved[tag] <= 0 and len(gen.latencies[tag]) >= owed:
                break
            await asyncio.sleep(0.02)
        owed = gen.stored[tag] * self.receivers
        latencies = sorted(gen.latencies.pop(tag, []))  # late arrivals are not counted
        refused = sum(gen.refused.values()) - refused_before + max(0, gen.unresolved[tag])

        def pct(q: float) -> float | None:
            i = min(owed - 1, int(q * owed))
            return latencies[i] * 1000 if 0 <= i < len(latencies) else None

        p99 = pct(0.99)
        passed = (
            p99 is not None
            and p99 < P99_LIMIT_MS
            and delivered_per_s >= 0.9 * target
            and not refused
            and not gen.closed
            and owed > 0
        )
        result = Step(
            target=target,
            stored_per_s=gen.stored[tag] / spec.duration,
            delivered_per_s=delivered_per_s,
            p50_ms=pct(0.5),
            p95_ms=pct(0.95),
            p99_ms=p99,
            missing=max(0, owed - len(latencies)),
            refused=refused,
            cpu=cpu,
            passed=passed,
            rss_mb=rss_kb(spec.pids.servers) / 1024,
        )
        print(
            f"    {target:>9,.0f}/s asked: {delivered_per_s:>9,.0f}/s delivered, p50/p95/p99 "
            f"{fmt_ms(result.p50_ms)}/{fmt_ms(result.p95_ms)}/{fmt_ms(p99)} ms, "
            f"missing {result.missing}, "
            f"refused {refused}, server CPU {cpu.server:.0f}%, machine {cpu.machine:.0f}%, "
            f"server RSS {result.rss_mb:.0f} MB "
            f"{'ok' if passed else 'FAIL'}",
            file=sys.stderr,
        )
        return result

    async def quiet(self, limit: float = 20.0) -> None:
        """Wait until nothing arrives for a second: an overloaded step's backlog would
        otherwise slow the next one."""
        deadline, last = time.perf_counter() + limit, -1
        while time.perf_counter() < deadline and self.gen.frames != last:
            last = self.gen.frames
            await asyncio.sleep(1.0)

    async def run(self) -> FanoutResult:
        gen, spec = self.gen, self.spec
        gen.loop.set_exception_handler(gen.on_loop_error)
        members = [(m, room, k) for room in self.rooms for k, m in enumerate(room.spec.members)]
        started = time.perf_counter()
        conns, failed = await connect_all(
            gen, members, spec.mode != "peer", spec.connect_concurrency
        )
        if failed:
            # Counted in the tables; the other series go on.
            await close_all(gen, conns)
            return FanoutResult(
                steps=[],
                expected=0,
                lost=0,
                duplicates=0,
                unexpected=0,
                refused=0,
                closed=0,
                frame_bytes=None,
                connect_s=time.perf_counter() - started,
                first_error=gen.first_error,
                clients=len(members),
                unconnected=failed,
                connect_retries=gen.connect_retries,
            )
        for conn in conns:
            assert conn.room is not None
            conn.room.conns.append(conn)
        for r, room in enumerate(self.rooms):
            room.conns.sort(key=lambda c: c.index)
            if spec.mode == "rest":
                port = room.spec.members[r % 2].port
                _, room.http = await gen.loop.create_connection(
                    functools.partial(HttpConn, gen, room, port), HOST, port
                )
        connect_s = time.perf_counter() - started
        retried = f" ({gen.connect_retries} dialled again)" if gen.connect_retries else ""
        print(f"    {len(conns)} clients connected in {connect_s:.1f}s{retried}", file=sys.stderr)
        await asyncio.sleep(0.5)  # peers: let the last subscriptions reach Redis
        await self.prime()

        steps: list[Step] = []
        best_pass: float | None = None
        for target in spec.rates:
            result = await self.step(target)
            steps.append(result)
            if result.passed:
                best_pass = target
                continue
            if spec.soak:
                continue
            # Narrow down between the last rate that passed and this one (or below it).
            low, high = best_pass or target / 4, target
            for _ in range(spec.refine):
                retry = (low * high) ** 0.5
                if retry < 100:
                    break
                await self.quiet()
                result = await self.step(retry)
                steps.append(result)
                if result.passed:
                    low = retry
                else:
                    high = retry
            break

        # Whatever is still owed gets the drain time to arrive; then count.
        deadline = time.perf_counter() + spec.drain
        while time.perf_counter() < deadline:
            if not any(room.pending for room in self.rooms) and sum(gen.unresolved.values()) <= 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        expected = lost = unexpected = 0
        for room in self.rooms:
            for conn in room.conns:
                seen, base = conn.seen, conn.base
                owed = [seq for seq, sender in room.stored if sender != conn.index]
                got = sum(1 for seq in owed if 0 <= seq - base < len(seen) and seen[seq - base])
                expected += len(owed)
                lost += len(owed) - got
                unexpected += sum(seen) - got
        await close_all(gen, conns)
        for room in self.rooms:
            if room.http is not None:
                room.http.close()
        return FanoutResult(
            steps=steps,
            expected=expected,
            lost=lost,
            duplicates=gen.duplicates,
            unexpected=unexpected + gen.unexpected,
            refused=sum(gen.refused.values()) + max(0, sum(gen.unresolved.values())),
            closed=gen.closed,
            frame_bytes=gen.frame_bytes / gen.frames if gen.frames else None,
            connect_s=connect_s,
            first_error=gen.first_error,
            clients=len(members),
            connect_retries=gen.connect_retries,
        )


def take_snapshots(heap_dir: Path, pids: list[int], n: int) -> None:
    """Have each server write its n-th tracemalloc snapshot (bench/heap/) and wait for it
    (the connections are idle meanwhile, so the load generator may block)."""
    for pid in pids:
        os.kill(pid, signal.SIGUSR1)
    for pid in pids:
        while not (heap_dir / f"{pid}-{n}.snapshot").exists():
            time.sleep(0.2)


def render_heap(heap_dir: Path, pids: list[int], connections: int, top: int = 40) -> str:
    """What the idle connections allocated (Python objects only, as tracemalloc
    sees them), per connection, by where it was allocated: the innermost frame
    and the nearest one of the project's own code."""
    import tracemalloc

    own = tuple(str(ROOT / d) for d in ("gateway", "realtime", "server", "db"))
    totals: collections.Counter[tuple[str, str]] = collections.Counter()
    for pid in pids:
        before = tracemalloc.Snapshot.load(str(heap_dir / f"{pid}-0.snapshot"))
        after = tracemalloc.Snapshot.load(str(heap_dir / f"{pid}-1.snapshot"))
        for diff in after.compare_to(before, "traceback"):
            frames = list(diff.traceback)  # most recent call last
            inner = frames[-1]
            mine = next((f for f in reversed(frames) if f.filename.startswith(own)), None)
            where = (
                f"{Path(inner.filename).name}:{inner.lineno}",
                f"{Path(mine.filename).relative_to(ROOT)}:{mine.lineno}" if mine else "",
            )
            totals[where] += diff.size_diff
    per = connections or 1
    lines = [
        f"Heap per idle connection (tracemalloc, both processes): "
        f"{sum(totals.values()) / per / 1024:.1f} KB traced",
        "",
        "| bytes per connection | allocated at | from the project's code at |",
        "|---:|---|---|",
    ]
    for (inner, mine), size in totals.most_common(top):
        lines.append(f"| {size / per:,.0f} | {inner} | {mine} |")
    return "\n".join(lines)


async def idle_run(spec: IdleSpec) -> IdleResult:
    gen = Gen()
    gen.loop.set_exception_handler(gen.on_loop_error)
    members: list[tuple[Member, Room | None, int]] = [(m, None, 0) for m in spec.members]
    # Warm-up: first connections pay for imports and caches, not per connection.
    warm, _ = await connect_all(gen, members[: spec.warm], spec.momento, spec.connect_concurrency)
    for conn in warm:
        conn.close()
    await asyncio.sleep(spec.settle)
    before = rss_kb(spec.pids.servers)
    if spec.heap_dir:
        take_snapshots(Path(spec.heap_dir), spec.pids.servers, 0)
    started = time.perf_counter()
    conns, failed = await connect_all(gen, members, spec.momento, spec.connect_concurrency)
    connect_s = time.perf_counter() - started
    await asyncio.sleep(spec.settle)
    after = rss_kb(spec.pids.servers)
    if spec.heap_dir:
        take_snapshots(Path(spec.heap_dir), spec.pids.servers, 1)
    await close_all(gen, conns)
    return IdleResult(
        connections=len(conns),
        failed=failed,
        dropped=gen.closed,
        rss_before_kb=before,
        rss_after_kb=after,
        connect_s=connect_s,
        first_error=gen.first_error,
    )


def _loadgen_main() -> int:
    raw = sys.stdin.buffer.read()
    job = sys.argv[2]

    async def go() -> bytes:
        if job == "idle":
            return msgspec.json.encode(await idle_run(msgspec.json.decode(raw, type=IdleSpec)))
        spec = msgspec.json.decode(raw, type=FanoutSpec)
        return msgspec.json.encode(await Fanout(spec).run())

    try:
        import uvloop
    except ImportError:
        out = asyncio.run(go())
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            out = runner.run(go())
    sys.stdout.buffer.write(out)
    return 0


def run_loadgen(job: str, spec: FanoutSpec | IdleSpec, timeout: float) -> bytes:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_loadgen", job],
        input=msgspec.json.encode(spec),
        stdout=subprocess.PIPE,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator ({job}) failed, exit status {proc.returncode}")
    return proc.stdout


# --------------------------------------------------------------------------
# The orchestrator
# --------------------------------------------------------------------------


class RedisServer:
    """A redis-server of our own: never the machine's."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.log = tmp / "redis.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    HOST,
                    "--dir",
                    str(tmp),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--maxclients",
                    "10000",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"redis://{HOST}:{self.port}/0"

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server not ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def wait_listening(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, server.port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not listening after {timeout}s")


def gateway_status(port: int, token: str) -> str | None:
    """None when Momento answers /v1/ws with `ready`; otherwise why not."""
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    try:
        with connect(
            f"ws://{HOST}:{port}/v1/ws",
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=5,
            compression=None,
        ) as ws:
            first = msgspec.json.decode(ws.recv(timeout=5))
            if first.get("type") == "ready":
                return None
            return f"first frame {first!r}"
    except InvalidStatus as exc:
        return f"/v1/ws answered HTTP {exc.response.status_code}"
    except (WebSocketException, OSError, TimeoutError) as exc:
        return f"/v1/ws: {exc!r}"


async def make_rooms(
    url: str, users: list[tuple[str, str]], sizes: list[int], clients: int
) -> dict[int, list[str]]:
    """Social profiles for everyone, a host profile for each room's first member,
    and per room size `clients // size` published events whose other members hold
    confirmed invitations. Returns the event ids per room size."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            user_ids = [uuid.UUID(u) for u, _ in users]
            profiles = {
                r["user_id"]: r["id"]
                for r in await conn.fetch(
                    "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
                    "SELECT u, 'Bench', 'Woman', ARRAY['Man'] FROM unnest($1::uuid[]) AS u "
                    "RETURNING user_id, id",
                    user_ids,
                )
            }
            host_users = sorted({r * size for size in sizes for r in range(clients // size)})
            hosts = {
                r["user_id"]: r["id"]
                for r in await conn.fetch(
                    "INSERT INTO host_profiles (user_id, host_name) "
                    "SELECT u, 'Bench host' FROM unnest($1::uuid[]) AS u RETURNING user_id, id",
                    [user_ids[i] for i in host_users],
                )
            }
            location = await conn.fetchval(
                "INSERT INTO locations (latitude, longitude) VALUES (40.73, -73.99) RETURNING id"
            )
            starts = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10)
            ends = starts + datetime.timedelta(hours=3)
            events: dict[int, list[str]] = {}
            for size in sizes:
                events[size] = []
                for r in range(clients // size):
                    members = user_ids[r * size : (r + 1) * size]
                    event_id = await conn.fetchval(
                        "INSERT INTO events (host_id, title, description, status, min_attendees, "
                        "max_attendees, age_min, age_max, timezone, starts_at, ends_at, "
                        "published_at) VALUES ($1, $2, 'Fan-out bench room', 'published', 2, $3, "
                        "21, 60, 'America/New_York', $4, $5, now()) RETURNING id",
                        hosts[members[0]],
                        f"Room {r} of {size}",
                        size,
                        starts,
                        ends,
                    )
                    await conn.execute(
                        'INSERT INTO event_itinerary_stops (event_id, location_id, "order", '
                        "start_time, end_time) VALUES ($1, $2, 1, $3, $4)",
                        event_id,
                        location,
                        starts,
                        ends,
                    )
                    await conn.execute(
                        "INSERT INTO invitations (event_id, profile_id, status, responded_at) "
                        "SELECT $1, p, 'confirmed', now() FROM unnest($2::uuid[]) AS p",
                        event_id,
                        [profiles[m] for m in members[1:]],
                    )
                    events[size].append(str(event_id))
            return events
    finally:
        await conn.close()


def peer_servers(name: str, uvicorn: list[str], redis: RedisServer, tmp: Path) -> list[Server]:
    env = os.environ | {"BENCH_REDIS_URL": redis.url}
    if name == "channels":
        argv = [*uvicorn, "--lifespan", "off", "--app-dir", str(PEERS), "channels_app:application"]
    else:
        argv = [sys.executable, str(PEERS / "ws_server.py"), "--redis-url", redis.url]
    return [Server(f"{name}-{i}", argv, env, tmp / f"{name}-{i}.log") for i in range(2)]


class Target:
    """One server under test: two processes and how clients reach it."""

    def __init__(self, name: str, servers: list[Server]) -> None:
        self.name = name
        self.servers = servers

    @property
    def ports(self) -> list[int]:
        return [s.port for s in self.servers]

    def pids(self, redis: RedisServer, postgres: int | None) -> Pids:
        return Pids(
            servers=[s.proc.pid for s in self.servers],
            redis=redis.proc.pid,
            postgres=postgres if self.name == "momento" else None,
        )


def room_specs(
    target: Target,
    size: int,
    clients: int,
    users: list[tuple[str, str]],
    events: dict[int, list[str]],
) -> list[RoomSpec]:
    """Rooms of `size`; member k of room r on process (r + k) % 2, so each room
    spans both processes."""
    ports = target.ports
    rooms = []
    for r in range(clients // size):
        if target.name == "momento":
            event_id = events[size][r]
            channel = f"event:{event_id}"
            members = [
                Member(ports[(r + k) % 2], "/v1/ws", users[r * size + k][1], channel)
                for k in range(size)
            ]
            rooms.append(RoomSpec(channel, members, f"/v1/events/{event_id}/posts"))
        else:
            members = [
                Member(ports[(r + k) % 2], f"/ws/s{size}r{r}", None, None) for k in range(size)
            ]
            rooms.append(RoomSpec(f"room:s{size}r{r}", members))
    return rooms


def idle_members(
    target: Target,
    count: int,
    clients: int,
    users: list[tuple[str, str]],
    events: dict[int, list[str]],
) -> list[Member]:
    """Connection j: user j mod clients, in that user's room of 10, on process j % 2."""
    ports = target.ports
    out = []
    for j in range(count):
        u = j % clients
        if target.name == "momento":
            room = events[10][u // 10] if 10 in events else events[min(events)][0]
            out.append(Member(ports[j % 2], "/v1/ws", users[u][1], f"event:{room}"))
        else:
            out.append(Member(ports[j % 2], f"/ws/idle{u // 10}", None, None))
    return out


def raise_open_files(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY and hard < needed else max(soft, needed)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def machine_facts() -> str:
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        memory = f", {kb / 2**20:.0f} GB"
    return f"{os.cpu_count()} cores ({cpu_model()}){memory}, python {platform.python_version()}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in (
        "litestar",
        "uvicorn",
        "websockets",
        "django",
        "channels",
        "channels-redis",
        "redis",
    ):
        with contextlib.suppress(PackageNotFoundError):
            out.append(f"{name} {version(name)}")
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, check=False)
    out.append(redis.stdout.decode().split(" sha=")[0].replace(" server v=", " "))
    return ", ".join(out)


def fmt_ms(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def best(result: FanoutResult) -> Step | None:
    passed = [s for s in result.steps if s.passed]
    return max(passed, key=lambda s: s.delivered_per_s) if passed else None


def render_summary(
    rows: list[tuple[str, int, FanoutResult | None]], idle: dict[str, IdleResult | None]
) -> str:
    header = (
        "| server | room size | delivered msgs/s at p99 < 200 ms | p50 ms | p95 ms | p99 ms "
        "| lost | duplicates | server CPU | machine busy | KB per idle connection |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for name, size, result in rows:
        memory = idle.get(name.removesuffix("-rest"))
        kb = f"{memory.kb_per_connection:.1f}" if memory else "n/a"
        if name.endswith("-rest"):
            kb = "(same)"
        if result is None:
            lines.append(f"| {LABELS[name]} | {size} | pending | | | | | | | | {kb} |")
            continue
        if result.unconnected:
            lines.append(
                f"| {LABELS[name]} | {size} | not run: {result.unconnected} of "
                f"{result.clients:,} clients could not connect | | | | | | | | {kb} |"
            )
            continue
        top = best(result)
        if top is None:
            lowest = min((s.target for s in result.steps), default=float("nan"))
            lines.append(
                f"| {LABELS[name]} | {size} | none (below {lowest:,.0f}) "
                f"| | | | {result.lost} | {result.duplicates} | | | {kb} |"
            )
            continue
        lines.append(
            f"| {LABELS[name]} | {size} | {top.delivered_per_s:,.0f} | {fmt_ms(top.p50_ms)} "
            f"| {fmt_ms(top.p95_ms)} | {fmt_ms(top.p99_ms)} | {result.lost} of {result.expected:,} "
            f"| {result.duplicates} | {top.cpu.server:.0f}% | {top.cpu.machine:.0f}% | {kb} |"
        )
    return "\n".join(lines)


def render_steps(rows: list[tuple[str, int, FanoutResult | None]]) -> str:
    header = (
        "| server | room | asked/s | delivered/s | msgs stored/s | p50 ms | p95 ms | p99 ms "
        "| missing | refused | server CPU | redis CPU | postgres CPU | loadgen CPU "
        "| other CPU | machine busy | server RSS MB | p99 < 200 ms |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for name, size, result in rows:
        if result is None:
            continue
        for s in result.steps:
            lines.append(
                f"| {name} | {size} | {s.target:,.0f} | {s.delivered_per_s:,.0f} "
                f"| {s.stored_per_s:,.0f} "
                f"| {fmt_ms(s.p50_ms)} | {fmt_ms(s.p95_ms)} | {fmt_ms(s.p99_ms)} "
                f"| {s.missing} | {s.refused} | {s.cpu.server:.0f}% | {s.cpu.redis:.0f}% "
                f"| {s.cpu.postgres:.0f}% | {s.cpu.loadgen:.0f}% | {s.cpu.other:.0f}% "
                f"| {s.cpu.machine:.0f}% | {s.rss_mb:.0f} "
                f"| {'yes' if s.passed else 'no'} |"
            )
    return "\n".join(lines)


def render_idle(idle: dict[str, IdleResult | None]) -> str:
    header = (
        "| server | idle connections | failed | dropped | RSS before MB | RSS after MB "
        "| KB per connection | connect s |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for name, r in idle.items():
        if r is None:
            lines.append(f"| {LABELS[name]} | pending | | | | | | |")
            continue
        lines.append(
            f"| {LABELS[name]} | {r.connections:,} | {r.failed} | {r.dropped} "
            f"| {r.rss_before_kb / 1024:.0f} "
            f"| {r.rss_after_kb / 1024:.0f} | {r.kb_per_connection:.1f} | {r.connect_s:.1f} |"
        )
    return "\n".join(lines)


def verdicts(
    rows: list[tuple[str, int, FanoutResult | None]], idle: dict[str, IdleResult | None]
) -> list[str]:
    by = {(name, size): best(r) if r else None for name, size, r in rows}
    sizes = sorted({size for _, size, _ in rows})
    out = []
    for name, size, r in rows:
        if r is not None and r.steps and all(s.passed for s in r.steps):
            out.append(
                f"{LABELS[name]}, rooms of {size}: every rate passed, so its figure is a floor "
                "(raise --max-rate); ratios with it are not measured limits"
            )
    for size in sizes:
        mine, django, ceiling = (by.get((n, size)) for n in SERVERS)
        if mine is None:
            out.append(f"rooms of {size}: Momento has no passing rate (or is pending)")
            continue
        if django is not None:
            ratio = mine.delivered_per_s / django.delivered_per_s
            verdict = "meets" if ratio >= GOAL_OVER_CHANNELS else "MISSES"
            out.append(
                f"rooms of {size}: Momento / Django Channels = {ratio:.2f}x "
                f"({verdict} the {GOAL_OVER_CHANNELS:g}x goal)"
            )
        if ceiling is not None:
            ratio = ceiling.delivered_per_s / mine.delivered_per_s
            goal = GOAL_UNDER_CEILING.get(size, GOAL_UNDER_CEILING_OTHERWISE)
            verdict = "meets" if ratio <= goal else "MISSES"
            out.append(
                f"rooms of {size}: plain websockets / Momento = {ratio:.2f}x "
                f"({verdict} the within-{goal:g}x goal)"
            )
    for name, size, r in rows:
        if r is not None and name.startswith("momento"):
            verdict = "meets" if r.lost == 0 and r.duplicates == 0 else "MISSES"
            out.append(
                f"{LABELS[name]}, rooms of {size}: {r.lost} lost, {r.duplicates} duplicated "
                f"of {r.expected:,} deliveries ({verdict} the no-loss goal); "
                f"{r.refused} refused sends, {r.closed} connections closed by the server"
            )
    memory = idle.get("momento")
    if memory is not None:
        kb = memory.kb_per_connection
        verdict = "meets" if kb < GOAL_KB_PER_CONNECTION else "MISSES"
        out.append(
            f"Momento: {kb:.1f} KB per idle connection ({verdict} the "
            f"< {GOAL_KB_PER_CONNECTION:g} KB goal)"
        )
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/fanout.py",
        description="WebSocket fan-out: Momento against Django Channels and plain websockets.",
    )
    parser.add_argument("--clients", type=int, default=1000, help="connected clients per run")
    parser.add_argument("--room-sizes", default="10,100", help="comma-separated room sizes")
    parser.add_argument(
        "--idle", type=int, default=10_000, help="idle connections for the memory test (0: skip)"
    )
    parser.add_argument(
        "--start-rate", type=float, default=1000, help="first deliveries/s; each step doubles"
    )
    parser.add_argument("--max-rate", type=float, default=256_000, help="last deliveries/s tried")
    parser.add_argument(
        "--refine",
        type=int,
        default=3,
        help="steps that bisect between the last passing and first failing rate",
    )
    parser.add_argument("--duration", type=float, default=2.0, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds per step")
    parser.add_argument(
        "--drain", type=float, default=3.0, help="seconds a step's messages may still arrive"
    )
    parser.add_argument("--payload", type=int, default=100, help="padding characters per message")
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help=f"which of {', '.join(SERVERS)} to run"
    )
    parser.add_argument(
        "--senders", type=int, default=10, help="members per room who take turns publishing"
    )
    parser.add_argument(
        "--no-rest", action="store_true", help="skip Momento with publishers on REST POST"
    )
    parser.add_argument(
        "--momento-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the Momento processes (repeatable)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        help="soak test: this many deliveries/s for --soak-minutes one-minute windows "
        "(Momento `send` op, first room size)",
    )
    parser.add_argument("--soak-minutes", type=float, default=10.0, help="with --soak")
    parser.add_argument(
        "--heap",
        action="store_true",
        help="Momento's idle connections: where their memory goes (tracemalloc; slow)",
    )
    parser.add_argument(
        "--connect-concurrency", type=int, default=100, help="handshakes in flight at once"
    )
    args = parser.parse_args(argv)
    args.room_sizes = sorted({int(s) for s in args.room_sizes.split(",") if s.strip()})
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if not set(args.servers) <= set(SERVERS) or not args.servers:
        parser.error(f"--servers: choose from {', '.join(SERVERS)}")
    if not args.room_sizes or min(args.room_sizes) < 2:
        parser.error("--room-sizes: at least 2 members per room")
    if not 2 <= args.clients <= 10_000 or args.clients < max(args.room_sizes):
        parser.error("--clients: between 2 and 10000, at least the largest room")
    if args.duration <= 0 or args.warmup < 0 or args.drain < 0 or args.start_rate <= 0:
        parser.error("--duration and --start-rate must be positive")
    if args.senders < 1:
        parser.error("--senders must be positive")
    if args.refine < 0:
        parser.error("--refine must be 0 or more")
    for item in args.momento_env:
        if "=" not in item:
            parser.error(f"--momento-env {item!r}: expected NAME=VALUE")
    rates, rate = [], args.start_rate
    while rate <= args.max_rate:
        rates.append(rate)
        rate *= 2
    args.rates = rates
    if args.soak is not None:
        # One-minute windows at one rate, back to back (each waits up to
        # --drain for its messages), Momento's `send` op in the first room size.
        args.rates = [args.soak] * max(1, round(args.soak_minutes))
        args.duration, args.refine, args.idle, args.no_rest = 60.0, 0, 0, True
        args.servers, args.room_sizes = ["momento"], args.room_sizes[:1]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit = raise_open_files(args.idle + args.clients + 1000)
    if args.idle + 500 > limit:
        print(f"warning: open-file limit {limit}: --idle lowered", file=sys.stderr)
        args.idle = max(0, limit - 1000)
    busy_before = machine_busy()
    if busy_before > IDLE_WARNING:
        print(
            f"warning: the machine is already {busy_before:.0f}% busy: expect low, noisy numbers",
            file=sys.stderr,
        )
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.path.insert(0, str(ROOT))
    uvicorn = [sys.executable, "-m", "uvicorn", *uvicorn_options()]
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="momento-bench-")))
        redis = RedisServer(tmp)
        stack.callback(redis.stop)
        redis.wait_ready()
        print(f"redis-server on port {redis.port} (temp dir {tmp})", file=sys.stderr)

        targets: dict[str, Target] = {}
        pg_pid: int | None = None
        users: list[tuple[str, str]] = []
        events: dict[int, list[str]] = {}
        pending: str | None = None
        heap_dir: Path | None = None
        if "momento" in args.servers:
            print("starting embedded PostgreSQL ...", file=sys.stderr)
            handle, url, pg_pid = start_postgres(tmp)
            stack.callback(handle.cleanup)
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
            env |= {
                "DATABASE_URL": url,
                "REDIS_URL": redis.url,
                "JWT_SECRET": JWT_SECRET,
                "MOMENTO_ENV": "test",
                "AUTH_TEST_PHONE_PREFIX": TEST_PHONE_PREFIX,
                "AUTH_TEST_OTP_CODE": TEST_OTP_CODE,
                "LOG_LEVEL": "WARNING",
                "RUN_WORKERS_IN_WEB": "false",
                "ACCESS_TOKEN_TTL_SECONDS": "86400",
                "OTP_SENDS_PER_IP_PER_HOUR": "1000000",
                "OTP_VERIFIES_PER_IP_PER_HOUR": "1000000",
                **BENCH_FRAME_LIMITS,
            }
            env |= dict(item.split("=", 1) for item in args.momento_env)
            if args.heap:
                heap_dir = tmp / "heap"
                heap_dir.mkdir()
                hook = str(Path(__file__).resolve().parent / "heap")
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [hook, env.get("PYTHONPATH")]))
                env["MOMENTO_BENCH_HEAP_DIR"] = str(heap_dir)
            servers = [
                stack.enter_context(
                    started(
                        Server(
                            f"momento-{i}",
                            [*uvicorn, *PROCFILE_WS_OPTIONS, "--factory", "server.app:create_app"],
                            env,
                            tmp / f"momento-{i}.log",
                        )
                    )
                )
                for i in range(2)
            ]
            for server in servers:
                server.wait_ready("/health")
            targets["momento"] = Target("momento", servers)
        for name in args.servers:
            if name != "momento":
                targets[name] = Target(name, [])  # started in turn, below
        if "momento" in targets:
            momento_port = targets["momento"].ports[0]
            print(f"signing in {args.clients} test users ...", file=sys.stderr)
            users = asyncio.run(sign_in_users(momento_port, args.clients))
            events = asyncio.run(make_rooms(url, users, args.room_sizes, args.clients))
            pending = gateway_status(momento_port, users[0][1])
            if pending is not None:
                print(f"Momento's gateway is not ready: {pending}", file=sys.stderr)
                for server in targets.pop("momento").servers:
                    server.stop()

        idle: dict[str, IdleResult | None] = {}
        rows: list[tuple[str, int, FanoutResult | None]] = []
        order = [n for n in SERVERS if n in args.servers]
        for name in order:
            if name not in targets:
                idle[name] = None
                rows += [(name, size, None) for size in args.room_sizes]
                continue
            target = targets[name]
            if not target.servers:
                # One server at a time: idle processes of another would share the CPU.
                target.servers = peer_servers(name, uvicorn, redis, tmp)
                for server in target.servers:
                    stack.callback(server.stop)
                for server in target.servers:
                    wait_listening(server)
            pids = target.pids(redis, pg_pid)
            if args.idle:
                print(f"{name}: {args.idle:,} idle connections ...", file=sys.stderr)
                members = idle_members(target, args.idle, args.clients, users, events)
                spec = IdleSpec(
                    members=members,
                    warm=min(200, args.idle),
                    settle=2.0,
                    connect_concurrency=args.connect_concurrency,
                    pids=pids,
                    momento=name == "momento",
                    heap_dir=str(heap_dir) if heap_dir and name == "momento" else None,
                )
                memory = msgspec.json.decode(
                    run_loadgen("idle", spec, timeout=300), type=IdleResult
                )
                if spec.heap_dir:
                    print(render_heap(Path(spec.heap_dir), pids.servers, memory.connections))
                idle[name] = memory
                print(
                    f"  {memory.connections:,} connected ({memory.failed} failed) in "
                    f"{memory.connect_s:.1f}s: {memory.kb_per_connection:.1f} KB each"
                    + (f"; first error: {memory.first_error}" if memory.first_error else ""),
                    file=sys.stderr,
                )
            modes = [("peer", name)] if name != "momento" else [("send", "momento")]
            if name == "momento" and not args.no_rest:
                modes.append(("rest", "momento-rest"))
            for mode, label in modes:
                for size in args.room_sizes:
                    print(f"{label}: rooms of {size} ...", file=sys.stderr)
                    fanout = FanoutSpec(
                        mode=mode,
                        rooms=room_specs(target, size, args.clients, users, events),
                        rates=args.rates,
                        refine=args.refine,
                        warmup=args.warmup,
                        duration=args.duration,
                        drain=args.drain,
                        payload=args.payload,
                        senders=min(size, args.senders),
                        connect_concurrency=args.connect_concurrency,
                        pids=pids,
                        soak=args.soak is not None,
                    )
                    steps = len(args.rates) + args.refine
                    budget = 120 + steps * (args.warmup + args.duration + args.drain + 2)
                    result = msgspec.json.decode(
                        run_loadgen("fanout", fanout, timeout=budget), type=FanoutResult
                    )
                    if result.first_error:
                        print(f"  first error: {result.first_error}", file=sys.stderr)
                    if result.closed:
                        for server in target.servers:
                            tail = server.log.read_text(errors="replace")[-1500:]
                            print(f"  {server.name} log:\n{tail}", file=sys.stderr)
                    rows.append((label, size, result))
            lingering = Watch(pids)
            time.sleep(1)
            if (busy := lingering.stop().server) > 10:
                print(
                    f"  {name} still used {busy:.0f}% CPU a second after the load", file=sys.stderr
                )
            for server in target.servers:
                server.stop()

        print()
        print(
            f"Fan-out, {datetime.date.today()}, {git_revision()}, {machine_facts()}\n"
            f"{versions()}\n"
            f"{args.clients} clients per run, rooms of {', '.join(map(str, args.room_sizes))}, "
            f"up to {args.senders} members per room taking turns to publish, "
            f"steps of {args.warmup:g}s warm-up + {args.duration:g}s from "
            f"{args.start_rate:,.0f} deliveries/s doubling, {args.payload}-character padding, "
            f"{args.idle:,} idle connections; took {time.monotonic() - began:.0f}s"
        )
        frames = ", ".join(
            f"{name} {r.frame_bytes:.0f}"
            for name, size, r in rows
            if r and r.frame_bytes and size == rows[0][1]
        )
        print(f"mean delivered frame, bytes: {frames}")
        print()
        print(render_summary(rows, idle))
        print()
        print(render_idle(idle))
        print()
        print(render_steps(rows))
        print()
        for line in verdicts(rows, idle):
            print(line)
        if pending is not None:
            print(
                f"\nMomento: pending ({pending}). When gateway/ serves /v1/ws, run "
                "`.venv/bin/python bench/fanout.py` (or `--servers momento` for its rows alone)."
            )
        if busy_before > IDLE_WARNING:
            print(f"note: the machine was {busy_before:.0f}% busy before the bench started")
        return 0


def _entry() -> int:
    if sys.argv[1:2] == ["_loadgen"]:
        return _loadgen_main()
    return run_main(main, "the servers")


if __name__ == "__main__":
    sys.exit(_entry())
