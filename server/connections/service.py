"""Memory Book rules. Entries are written when an event completes (and when
attendance is reported later), by db/queries/connections.record_meetings; here
the owner reads and annotates them. Anyone but the owner gets 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import msgspec

from db.queries import connections as q
from server.connections.schemas import MAX_NOTES_CHARS, Connection, ConnectionPatch
from server.errors import ApiError
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.storage import Storage


def _view(row: q.ConnectionRow, storage: Storage) -> Connection:
    key = row.connected_profile_snapshot_face_card_url
    return Connection(
        id=row.id,
        connected_profile_id=row.connected_profile_id,
        event_id=row.event_id,
        connected_profile_snapshot_name=row.connected_profile_snapshot_name,
        connected_profile_snapshot_face_card_url=storage.url(key) if key else None,
        was_photo_authentic=row.was_photo_authentic,
        is_favorite=row.is_favorite,
        wants_to_connect_again=row.wants_to_connect_again,
        does_not_want_to_connect_again=row.does_not_want_to_connect_again,
        private_notes=row.private_notes,
        shared_event_count=row.shared_event_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such entry in your Memory Book")


async def my_connections(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    favorite: bool | None,
    page: PageParams,
) -> Page[Connection]:
    after = decode_cursor(page.cursor, tuple[dt.datetime, uuid.UUID]) if page.cursor else None
    rows = await q.my_connections(conn, user_id, favorite, after, page.limit + 1)
    items, cursor = make_page(rows, page.limit, lambda r: (r.created_at, r.id))
    return Page(items=[_view(r, storage) for r in items], next_cursor=cursor)


def _changes(patch: ConnectionPatch) -> dict[str, Any]:
    changes = {
        name: getattr(patch, name)
        for name in patch.__struct_fields__
        if getattr(patch, name) is not msgspec.UNSET
    }
    if "private_notes" in changes:
        notes = (changes["private_notes"] or "").strip()
        if len(notes) > MAX_NOTES_CHARS:
            raise ApiError(422, "invalid_notes", f"Notes have at most {MAX_NOTES_CHARS} characters")
        changes["private_notes"] = notes or None
    return changes


async def update_connection(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    connection_id: uuid.UUID,
    patch: ConnectionPatch,
) -> Connection:
    changes = _changes(patch)
    async with conn.transaction():
        if not await q.lock_my_connection(conn, user_id, connection_id):
            raise _not_found()
        current = await q.my_connection(conn, user_id, connection_id)
        assert current is not None  # locked above
        wants = changes.get("wants_to_connect_again", current.wants_to_connect_again)
        does_not = changes.get(
            "does_not_want_to_connect_again", current.does_not_want_to_connect_again
        )
        if wants and does_not:
            raise ApiError(
                422,
                "conflicting_wishes",
                "wants_to_connect_again and does_not_want_to_connect_again can't both be true",
            )
        if changes:
            await q.update_connection(conn, connection_id, changes)
        row = await q.my_connection(conn, user_id, connection_id)
    assert row is not None
    return _view(row, storage)
