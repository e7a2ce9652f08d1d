"""A short-lived, per-process memory of sign-ins that were just found valid.

Checking the session on every request is one database round trip, the
largest cost of an authenticated request (bench/README.md). Valid results are
kept for `ttl` seconds and forgotten as soon as anything about that user's
sign-in changes:

- in any process: triggers (0006) NOTIFY `momento_sign_in_changed` with the
  user id when a session is revoked or deleted, or the user's status changes
  or the user is deleted; every web process LISTENs and forgets that user;
- in this process, synchronously: the code that revokes calls `forget`, so
  the very next request here never sees the old state.

While the LISTEN connection is down nothing is cached (every request asks the
database), so a lost notification can never keep a revoked sign-in alive.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import structlog

CHANNEL = "momento_sign_in_changed"
MAX_ENTRIES = 100_000

logger = structlog.get_logger(__name__)

Key = tuple[uuid.UUID, uuid.UUID | None]


class SessionCache:
    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[Key, float] = {}
        self._by_user: dict[uuid.UUID, set[Key]] = {}
        self._listening = False

    @property
    def listening(self) -> bool:
        return self._listening

    def remembers(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> bool:
        """Whether this sign-in was found valid moments ago."""
        if not self._listening:
            return False
        expires = self._entries.get((user_id, session_id))
        if expires is None:
            return False
        if expires < time.monotonic():
            self.forget(user_id)
            return False
        return True

    def remember(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
        """Note a sign-in just found valid (user active, session standing)."""
        if not self._listening or self._ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self.clear()
        key = (user_id, session_id)
        self._entries[key] = time.monotonic() + self._ttl
        self._by_user.setdefault(user_id, set()).add(key)

    def forget(self, user_id: uuid.UUID) -> None:
        for key in self._by_user.pop(user_id, ()):
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._by_user.clear()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.forget(uuid.UUID(payload))
        except ValueError:
            self.clear()

    def _stop_caching(self, *_: Any) -> None:
        self._listening = False
        self.clear()

    async def listen(self, dsn: str, retry_seconds: float = 1.0) -> None:
        """Keep a LISTEN connection open until cancelled, reconnecting as needed."""
        while True:
            try:
                await self._listen_once(dsn)
                logger.warning("sign-in cache: listener connection lost, not caching")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("sign-in cache: cannot listen, not caching", error=str(exc))
            await asyncio.sleep(retry_seconds)

    async def _listen_once(self, dsn: str) -> None:
        """Cache while one LISTEN connection lives; return when it is lost."""
        conn = await asyncpg.connect(dsn)
        try:
            lost = asyncio.Event()
            conn.add_termination_listener(lambda *_: lost.set())
            await conn.add_listener(CHANNEL, self._notified)
            self.clear()
            self._listening = True
            await lost.wait()
        finally:
            self._stop_caching()
            if not conn.is_closed():
                await conn.close()
