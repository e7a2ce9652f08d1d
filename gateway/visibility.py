"""Whether a reader may see an author's live items, remembered by the process.

Live items carry their author's social profile id; a connection asks here
before writing one (the rule is `user_visible_to`: the author is active
and no block stands between the two). The answer is remembered per (reader,
author) for every connection of the process, and forgotten:

- for both people, when a block between them is made or lifted (0011
  notifies `momento_blocks_changed`);
- for a user whose account or sign-ins change (0006's notifications: a
  suspension or deletion; a revoked session only costs a re-check);
- for a reader on each of their subscribes (so nothing depends on how fast a
  notification arrives), and when their last connection leaves.

The process's LISTEN connection (db/listen.py) delivers those notifications
to the hub; while it is down nothing is remembered (`remembering` is False),
so a block always takes effect on the next live item.
"""

from __future__ import annotations

import uuid

import asyncpg

from db.queries import safety as safety_q

# Profile owners never change; past this many the map starts over.
MAX_OWNERS = 100_000


class Visibility:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.remembering = False
        # reader user -> author user -> visible, and author user -> its readers.
        self._seen: dict[uuid.UUID, dict[uuid.UUID, bool]] = {}
        self._readers: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._owners: dict[uuid.UUID, uuid.UUID] = {}
        # Bumped by every forget: an answer read before one is not remembered.
        self._generation = 0

    def known(self, reader: uuid.UUID, author_profile: uuid.UUID) -> bool | None:
        """The remembered answer, or None when only the database can tell."""
        owner = self._owners.get(author_profile)
        if owner is None:
            return None
        return self._seen.get(reader, {}).get(owner)

    async def may_see(self, reader: uuid.UUID, author_profile: uuid.UUID) -> bool:
        known = self.known(reader, author_profile)
        if known is not None:
            return known
        owner = self._owners.get(author_profile)
        generation = self._generation
        async with self._pool.acquire() as conn:
            if owner is None:
                owner = await safety_q.author_owner(conn, author_profile)
                if owner is None:
                    return False  # the profile is gone
            visible = await safety_q.user_visible_to(conn, reader, owner)
        if len(self._owners) >= MAX_OWNERS:
            self._owners.clear()
        self._owners[author_profile] = owner
        if self.remembering and generation == self._generation:
            self._seen.setdefault(reader, {})[owner] = visible
            self._readers.setdefault(owner, set()).add(reader)
        return visible

    def remembers(self, reader: uuid.UUID, author: uuid.UUID) -> bool:
        """Whether an answer about the author's user is remembered for the reader."""
        return author in self._seen.get(reader, {})

    def forget_reader(self, reader: uuid.UUID) -> None:
        """Drop what the reader was found to see."""
        self._generation += 1
        for owner in self._seen.pop(reader, {}):
            readers = self._readers.get(owner)
            if readers is not None:
                readers.discard(reader)
                if not readers:
                    del self._readers[owner]

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Drop every answer about the user, as reader or as author."""
        self.forget_reader(user_id)
        for reader in self._readers.pop(user_id, ()):
            seen = self._seen.get(reader)
            if seen is not None:
                seen.pop(user_id, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._seen.clear()
        self._readers.clear()
