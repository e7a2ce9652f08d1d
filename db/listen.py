"""The process's one LISTEN connection to PostgreSQL.

Everything in a process that reacts to NOTIFY (the sign-in cache, the
WebSocket hub, the push sender's wake-up) registers its channels and
callbacks here before `start`, and shares one connection instead of each
holding its own. That connection lives outside the pool (a pooled one would
be reset and lent out) and is re-opened with backoff (0.1 s doubling to 5 s)
whenever it is lost.

A notification sent while the link is down is never heard, so whoever must
not act on stale memory also registers `on_link`: `down` runs as soon as the
link is lost (and at `stop`), `up` once every channel is listened to again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

logger = structlog.get_logger(__name__)

RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0

Callback = Callable[[str], None]
LinkCallback = Callable[[], None]


class Notifications:
    def __init__(self) -> None:
        self._channels: dict[str, list[Callback]] = {}
        self._links: list[tuple[LinkCallback, LinkCallback]] = []
        self._task: asyncio.Task[None] | None = None
        self._up = False

    @property
    def up(self) -> bool:
        """Whether every registered channel is being listened to right now."""
        return self._up

    def add(self, channel: str, callback: Callback) -> None:
        """Call `callback(payload)` for every notification on `channel`."""
        self._check_not_started()
        self._channels.setdefault(channel, []).append(callback)

    def on_link(self, *, up: LinkCallback, down: LinkCallback) -> None:
        self._check_not_started()
        self._links.append((up, down))

    def _check_not_started(self) -> None:
        # A channel added to a live connection would miss what came before its
        # LISTEN while `up` already claimed everything was heard.
        if self._task is not None:
            raise RuntimeError("register channels before Notifications.start")

    async def start(self, dsn: str) -> None:
        """Listen in the background until `stop`; returns at once."""
        self._task = asyncio.create_task(self._run(dsn))

    async def stop(self) -> None:
        """Stop listening (running `down`) and forget every registration, so a
        restarted app starts from the registrations its plugins make anew."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._channels.clear()
        self._links.clear()

    async def _run(self, dsn: str) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                await self._listen_once(dsn)
                logger.warning("listen: connection lost, reconnecting")
                delay = RETRY_FIRST_SECONDS
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("listen: cannot listen", error=str(exc), retry_seconds=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _listen_once(self, dsn: str) -> None:
        """Until this connection is lost."""
        conn = await asyncpg.connect(dsn)
        try:
            lost = asyncio.Event()
            conn.add_termination_listener(lambda *_: lost.set())
            for channel, callbacks in self._channels.items():
                for callback in callbacks:
                    # One asyncpg listener each: asyncpg calls them separately,
                    # so one that raises does not keep the others from hearing.
                    await conn.add_listener(channel, _deliver(callback))
            self._up = True
            for up, _ in self._links:
                up()
            await lost.wait()
        finally:
            if self._up:
                self._up = False
                for _, down in self._links:
                    down()
            # terminate(), not close(): this also runs on cancellation at
            # shutdown, where waiting for the server's goodbye could hang.
            if not conn.is_closed():
                conn.terminate()


def _deliver(callback: Callback) -> Callable[[object, int, str, str], None]:
    def listener(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        callback(payload)

    return listener
