"""The one entry point business code calls to tell users something.

`notify(conn, user_id, kind, data)` runs inside the caller's transaction: it
writes the inbox row and queues its delivery there, so a change that rolls
back sends nothing and a committed one is always delivered (live frame,
push, SMS fallback: workers/push/sender.py). Users' category switches are
applied at delivery; the inbox row is written whatever they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg

from db.queries import inbox as q
from server.notifications.catalog import CATALOG, Kind


async def notify(
    conn: asyncpg.Connection, user_id: uuid.UUID, kind: Kind, data: Mapping[str, Any]
) -> uuid.UUID | None:
    """Notify one user; the notification's id (None: this dedupe key was sent before)."""
    ids = await notify_many(conn, [user_id], kind, data)
    return ids[0] if ids else None


async def notify_many(
    conn: asyncpg.Connection, user_ids: Iterable[uuid.UUID], kind: Kind, data: Mapping[str, Any]
) -> list[uuid.UUID]:
    """The same notification to each user, in one statement."""
    users = list(dict.fromkeys(user_ids))
    if not users:
        return []
    spec = CATALOG[kind]
    # Ids become strings so the app gets the same JSON from the inbox and the push.
    payload = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in data.items()}
    note = q.Note(
        kind=kind,
        category=spec.category,
        title=spec.title(payload),
        body=spec.body(payload),
        data=payload,
    )
    if spec.collapse is not None:
        return await q.insert_collapsing(
            conn,
            users,
            note,
            summary=spec.summary(payload) if spec.summary else note.body,
            collapse_key=spec.collapse(payload),
            repush=spec.repush,
        )
    return await q.insert(conn, users, note, spec.dedupe(payload) if spec.dedupe else None)
