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

The notifications come through the process's one LISTEN connection
(db/listen.py). While it is down nothing is cached (every request asks the
database), so a lost notification can never keep a revoked sign-in alive;
when it is back the cache starts empty.
"""

from __future__ import annotations

import time
import uuid

from db.listen import Notifications

CHANNEL = "momento_sign_in_changed"
MAX_ENTRIES = 100_000

Key = tuple[uuid.UUID, uuid.UUID | None]


class SessionCache:
    def __init__(self, ttl: float, notifications: Notifications) -> None:
        self._ttl = ttl
        self._entries: dict[Key, float] = {}
        self._by_user: dict[uuid.UUID, set[Key]] = {}
        self._listening = False
        notifications.add(CHANNEL, self._notified)
        notifications.on_link(up=self._start_caching, down=self._stop_caching)

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

    def _notified(self, payload: str) -> None:
        try:
            self.forget(uuid.UUID(payload))
        except ValueError:
            self.clear()

    def _start_caching(self) -> None:
        self.clear()
        self._listening = True

    def _stop_caching(self) -> None:
        self._listening = False
        self.clear()
