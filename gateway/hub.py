"""What every connection of this process shares: the fan-out, presence, the
database pool, the sign-in rules, reads of stored items (gateway/catch_up.py),
and the heartbeat that keeps them honest.

Sign-ins are checked exactly as for HTTP requests (server/auth/check.py)
when a connection opens and on every `auth` frame. Between those, the hub
hears the same notifications the session cache does (0006: a session
revoked, a user suspended or deleted), on the process's one LISTEN
connection (db/listen.py), and checks that user's connections again in the
database, closing with 4001 the ones that no longer stand. While that LISTEN
connection is down, a change takes effect at the connection's next `auth`
or at its token's expiry at the latest. The same connection carries block
changes (0011), which with the sign-in changes keep `visibility`
(gateway/visibility.py) honest.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import TYPE_CHECKING

import asyncpg
import structlog

from db.listen import Notifications
from gateway.catch_up import CatchUp
from gateway.config import RealtimeConfig
from gateway.limits import FrameBudget
from gateway.transport import text_frame
from gateway.visibility import Visibility
from realtime.fanout import Delivery, Fanout
from realtime.presence import Presence
from server.auth.check import check_sign_in, verify_bearer
from server.auth.session_cache import CHANNEL as SIGN_IN_CHANGES
from server.auth.session_cache import SessionCache
from server.auth.tokens import Identity, TokenService
from server.errors import ApiError
from server.messaging.writer import Writer

if TYPE_CHECKING:
    from gateway.connection import Connection

logger = structlog.get_logger(__name__)

# How long shutdown waits for connections to finish after closing them with 1012.
DRAIN_SECONDS = 5.0
# Longest wait for each background task or cleanup step when stopping.
STOP_SECONDS = 5.0
BLOCK_CHANGES = "momento_blocks_changed"


class Hub:
    def __init__(
        self,
        config: RealtimeConfig,
        fanout: Fanout,
        presence: Presence,
        pool: asyncpg.Pool,
        frames: FrameBudget,
        tokens: TokenService,
        sessions: SessionCache,
        notifications: Notifications,
        writer: Writer,
    ) -> None:
        self.config = config
        # Stores and publishes what connections send (group commit).
        self.writer = writer
        self.fanout = fanout
        self.presence = presence
        self.pool = pool
        # The per-user frame limit and who may see whom, for every connection here.
        self.frames = frames
        self.visibility = Visibility(pool)
        self.catch_up = CatchUp(pool, config.replay_limit, writer.storage)
        self._tokens = tokens
        self._sessions = sessions
        self.connections: set[Connection] = set()
        self._by_user: dict[uuid.UUID, set[Connection]] = {}
        self._empty = asyncio.Event()
        self._empty.set()
        self._background: list[asyncio.Task[None]] = []
        self._rechecks: set[asyncio.Task[None]] = set()
        # The last delivery's wire frame: the fan-out hands one delivery to every
        # listener in turn, so each is framed once per process.
        self._framed: tuple[Delivery | None, bytes] = (None, b"")
        notifications.add(SIGN_IN_CHANGES, self._sign_in_changed)
        notifications.add(BLOCK_CHANGES, self._block_changed)
        notifications.on_link(up=self._link_up, down=self._link_down)

    async def authenticate(self, token: str | None) -> Identity:
        """Exactly the HTTP check: the token, then the sign-in behind it unless this
        process found it valid moments ago. Raises the ApiError a request would get."""
        identity = await verify_bearer(self._tokens, token)
        await check_sign_in(self._sessions, identity, self.pool.acquire)
        return identity

    def wire(self, delivery: Delivery) -> bytes:
        """The WebSocket frame carrying the delivery (gateway/transport.py)."""
        framed, wire = self._framed
        if framed is not delivery:
            wire = text_frame(delivery.frame.encode())
            self._framed = (delivery, wire)
        return wire

    def join(self, connection: Connection) -> None:
        self.connections.add(connection)
        self._by_user.setdefault(connection.user_id, set()).add(connection)
        self._empty.clear()

    def leave(self, connection: Connection) -> None:
        self.connections.discard(connection)
        mine = self._by_user.get(connection.user_id)
        if mine is not None:
            mine.discard(connection)
            if not mine:
                del self._by_user[connection.user_id]
                self.frames.forget(connection.user_id)
                self.visibility.forget_reader(connection.user_id)
        if not self.connections:
            self._empty.set()

    async def start(self) -> None:
        await self.fanout.start()
        self._background = [asyncio.create_task(self._beat())]

    async def stop(self) -> None:
        """Close every connection with 1012 (clients reconnect elsewhere), then stop."""
        for connection in tuple(self.connections):
            connection.close(1012, "server restarting")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._empty.wait(), DRAIN_SECONDS)
        tasks = (*self._background, *self._rechecks)
        for task in tasks:
            task.cancel()
        # Bounded: a task stuck in a network call must not hold up shutdown.
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.presence.clear(), STOP_SECONDS)
        await self.fanout.stop()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_seconds)
            now = time.monotonic()
            for connection in tuple(self.connections):
                connection.heartbeat(now)
            await self.presence.refresh()

    def _link_up(self) -> None:
        self.visibility.remembering = True

    def _link_down(self) -> None:
        # Changes may go unheard from now on: remember nothing until back.
        self.visibility.remembering = False
        self.visibility.forget_all()

    def _sign_in_changed(self, payload: str) -> None:
        try:
            user_id = uuid.UUID(payload)
        except ValueError:
            self.visibility.forget_all()
            affected = tuple(self.connections)
        else:
            self.visibility.forget_user(user_id)
            affected = tuple(self._by_user.get(user_id, ()))
        for connection in affected:
            task = asyncio.create_task(self._recheck(connection))
            self._rechecks.add(task)
            task.add_done_callback(self._rechecks.discard)

    def _block_changed(self, payload: str) -> None:
        try:
            users = [uuid.UUID(part) for part in payload.split()]
        except ValueError:
            self.visibility.forget_all()
            return
        for user_id in users:
            self.visibility.forget_user(user_id)

    async def _recheck(self, connection: Connection) -> None:
        try:
            # Not the cache: this sign-in just changed, so the database decides.
            await check_sign_in(
                self._sessions, connection.identity, self.pool.acquire, use_cache=False
            )
        except ApiError as exc:
            connection.close(4001, exc.detail)
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("realtime: cannot re-check a sign-in", error=str(exc))
