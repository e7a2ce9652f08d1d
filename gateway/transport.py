"""The WebSocket protocol uvicorn serves `/v1/ws` with: its default one
(websockets' sans-I/O `ServerProtocol`) plus a direct frame path.

Through ASGI every frame is a coroutine call through Litestar's send wrapper
and uvicorn's `send`, which re-encodes the text and builds the frame anew for
each socket. A live frame is the same bytes for every member of a channel, so
the gateway builds the RFC 6455 frame once per process (`text_frame`) and
writes it straight to each socket's transport from the fan-out's own loop
turn: no task, no coroutine, no copy per socket. The handshake, reading,
pings and the close handshake stay uvicorn's.

An open WebSocket costs less here than in uvicorn's protocol as it is:
what each connection keeps for its whole life is most of what an idle one
costs (`bench/fanout.py --heap` shows where it goes). So the receive queue
and the "writable" flag are small objects with no deque of their own (one
waiter at most: the connection's own task); the handshake's request and
response (their headers) are dropped once answered; and uvicorn's own pings
are off, as the gateway's heartbeat (gateway/hub.py) already pings quiet
clients and closes silent ones.

The protocol puts itself in the ASGI scope as the extension `momento.frames`
(`FrameSocket` is what the gateway uses of it). Run uvicorn with
`--ws gateway.transport:FrameProtocol` (the Procfile, `python -m server`, the
tests and the benchmarks do); a server without it gets close code 1011 on
`/v1/ws`.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Opcode
from websockets.http11 import Request

EXTENSION = "momento.frames"
# For uvicorn's `ws` option, as the Procfile gives it.
PROTOCOL = "gateway.transport:FrameProtocol"
_FIN_TEXT = 0x80 | Opcode.TEXT


def text_frame(payload: bytes) -> bytes:
    """A whole, unmasked server-to-client text frame carrying `payload` (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", _FIN_TEXT, size) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", _FIN_TEXT, 126, size) + payload
    return struct.pack("!BBQ", _FIN_TEXT, 127, size) + payload


class FrameSocket(Protocol):
    """The direct frame path of one WebSocket."""

    # The transport's buffer is below its high-water mark.
    can_write: bool

    def adopt(self) -> None:
        """The ASGI call may return: the socket stays open until closed."""

    def on_event(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` whenever an event is queued for `receive` (and now, if any is)."""

    def has_events(self) -> bool:
        """`receive` would answer without waiting."""

    def on_writable(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` whenever the buffer drains below its low-water mark."""

    def write_frame(self, frame: bytes) -> None:
        """Write a whole frame (from `text_frame`)."""

    def write_frames(self, frames: Sequence[bytes]) -> None:
        """Write whole frames in one go."""

    def close_now(self, code: int, reason: str) -> None:
        """Send the close frame after what is buffered; the connection ends once
        the client answers it (or after uvicorn's close timeout)."""

    async def receive(self) -> Any:
        """The next ASGI receive event (`websocket.receive` or `websocket.disconnect`)."""


class _OneWaiter:
    """A future for at most one waiter (the connection's own task), made when it waits."""

    __slots__ = ("_waiter",)

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _sleep(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class _Inbox(_OneWaiter):
    """What uvicorn uses of asyncio.Queue (unbounded, one reader at a time),
    and a callback for each event queued."""

    __slots__ = ("_items", "on_put")

    def __init__(self) -> None:
        super().__init__()
        self._items: list[Any] = []
        self.on_put: Callable[[], None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        self._wake()
        if self.on_put is not None:
            self.on_put()

    async def get(self) -> Any:
        while not self._items:
            await self._sleep()
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


class _Flag(_OneWaiter):
    """What uvicorn uses of asyncio.Event (one waiter at a time: the connection's task)."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        super().__init__()
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        self._wake()

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        while not self._set:
            await self._sleep()


class FrameProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, offering itself as a FrameSocket."""

    _resumed: Callable[[], None] | None = None
    _adopted = False
    # Kept by pause/resume_writing, so the gateway's check per frame is an attribute.
    can_write = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox = _Inbox()
        self.queue = self._inbox  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]

    def start_keepalive(self) -> None:
        """No protocol pings: the gateway's heartbeat keeps connections honest."""

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # Only the handshake needed them.
            del self.request, self.response

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The ASGI task was created but has not started: it sees the extension.
        scope: Any = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][EXTENSION] = self
            # The scope has copies; websockets' parser keeps the request for good.
            event.headers.clear()

    @property
    def open(self) -> bool:
        return not (self.close_sent or self.disconnected or self.transport.is_closing())

    def adopt(self) -> None:
        self._adopted = True

    async def run_asgi(self) -> None:
        # uvicorn's, except that an adopted socket stays open when the call returns
        # (and the scope, with what the app hung on it, is let go).
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self._adopted:
            del self.scope
        elif self.close_timer is None:
            self.transport.close()

    def on_event(self, callback: Callable[[], None] | None) -> None:
        self._inbox.on_put = callback
        if callback is not None and not self._inbox.empty():
            callback()

    def has_events(self) -> bool:
        return not self._inbox.empty()

    def on_writable(self, callback: Callable[[], None] | None) -> None:
        self._resumed = callback

    def pause_writing(self) -> None:
        super().pause_writing()
        self.can_write = False

    def resume_writing(self) -> None:
        super().resume_writing()
        self.can_write = True
        if self._resumed is not None:
            self._resumed()

    def write_frame(self, frame: bytes) -> None:
        if not (self.close_sent or self.disconnected or self.transport.is_closing()):
            self.transport.write(frame)

    def write_frames(self, frames: Sequence[bytes]) -> None:
        if self.open:
            self.transport.writelines(frames)

    def close_now(self, code: int, reason: str) -> None:
        # What uvicorn's `send` does for `websocket.close`, without waiting for
        # room in the buffer: a client that stopped reading must still be let go.
        if not self.open:
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.close)
