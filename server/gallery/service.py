"""Event gallery rules.

Who: the host, collaborators, and people who attended; while attendance is
not yet known for someone (no record), a confirmed invitee too. Someone
recorded as no_show, check_in_abandoned or cancelled_late may not (403); a
stranger or someone with a block either way with the host gets 404. When: from
the event's start, while published or completed (409 `gallery_not_open`).
Hidden photos are seen only by the host and their uploader; nobody sees the
photos of someone with a block either way with them. The host hides and shows
photos; the uploader or the host deletes one, and its files go once the row has.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from db.queries import gallery as q
from db.queries.attendance import EventFacts
from server.attendance.service import after_event
from server.errors import ApiError
from server.gallery.schemas import GalleryPhoto, GalleryPhotoPatch
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.photos.service import delete_stored_files, new_key, process_upload, store_files
from server.settings import Settings
from server.storage import Storage


def _view(row: q.GalleryPhotoRow, storage: Storage) -> GalleryPhoto:
    return GalleryPhoto(
        id=row.id,
        event_id=row.event_id,
        uploader_profile_id=row.uploader_profile_id,
        image_url=storage.url(row.image_url),
        thumbnail_url=storage.url(row.thumbnail_url) if row.thumbnail_url else None,
        status=row.status,
        created_at=row.created_at,
    )


async def _member(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, now: dt.datetime
) -> EventFacts:
    facts = await after_event(conn, user_id, event_id)
    role, attendance = facts.viewer_role, facts.attendance_status
    if not (
        role in ("host", "collaborator")
        or attendance == "attended"
        or (role == "attendee" and attendance is None)
    ):
        raise ApiError(403, "not_attended", "The gallery is for the host and people who came")
    if facts.status not in ("published", "completed") or (
        facts.starts_at is None or now < facts.starts_at
    ):
        raise ApiError(409, "gallery_not_open", "The gallery opens when the event begins")
    return facts


def _too_many(limit: int) -> ApiError:
    return ApiError(409, "too_many_photos", f"You can add at most {limit} photos to an event")


async def upload(
    conn: asyncpg.Connection,
    storage: Storage,
    settings: Settings,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    data: bytes,
    now: dt.datetime | None = None,
) -> GalleryPhoto:
    now = now or dt.datetime.now(dt.UTC)
    limit = settings.event_photos_per_person
    await _member(conn, user_id, event_id, now)
    image = await process_upload(data, settings.max_photo_bytes)
    keys = (new_key("gallery", image.extension), new_key("gallery", image.extension))
    saved = await store_files(
        storage,
        [
            (keys[0], image.data, image.content_type),
            (keys[1], image.thumbnail, image.content_type),
        ],
    )
    try:
        async with conn.transaction():
            await _member(conn, user_id, event_id, now)
            # Counted under the uploader's lock: concurrent uploads can't overshoot.
            if await q.lock_upload_count(conn, event_id, user_id) >= limit:
                raise _too_many(limit)
            row = await q.insert_photo(conn, event_id, user_id, *keys)
    except BaseException:
        await delete_stored_files(storage, saved)
        raise
    return _view(row, storage)


async def list_photos(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    page: PageParams,
) -> Page[GalleryPhoto]:
    facts = await _member(conn, user_id, event_id, dt.datetime.now(dt.UTC))
    after = decode_cursor(page.cursor, tuple[dt.datetime, uuid.UUID]) if page.cursor else None
    rows = await q.photos(
        conn, user_id, facts.viewer_role == "host", event_id, after, page.limit + 1
    )
    items, cursor = make_page(rows, page.limit, lambda r: (r.created_at, r.id))
    return Page(items=[_view(r, storage) for r in items], next_cursor=cursor)


async def _seen_photo(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, photo_id: uuid.UUID
) -> tuple[bool, q.GalleryPhotoRow]:
    """Whether the caller hosts the event, and the photo if they see it (locked);
    404 when they don't."""
    facts = await _member(conn, user_id, event_id, dt.datetime.now(dt.UTC))
    is_host = facts.viewer_role == "host"
    row = await q.photo(conn, user_id, is_host, event_id, photo_id)
    if row is None:
        raise ApiError(404, "not_found", "No such photo in this gallery")
    return is_host, row


async def moderate(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    photo_id: uuid.UUID,
    data: GalleryPhotoPatch,
) -> GalleryPhoto:
    async with conn.transaction():
        is_host, _ = await _seen_photo(conn, user_id, event_id, photo_id)
        if not is_host:
            raise ApiError(403, "forbidden", "Only the host hides or shows gallery photos")
        await q.set_status(conn, photo_id, data.status)
        _, row = await _seen_photo(conn, user_id, event_id, photo_id)
    return _view(row, storage)


async def delete(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    photo_id: uuid.UUID,
) -> None:
    async with conn.transaction():
        is_host, row = await _seen_photo(conn, user_id, event_id, photo_id)
        if not (is_host or row.uploader_user_id == user_id):
            raise ApiError(403, "forbidden", "Only its uploader or the host deletes a photo")
        await q.delete_photo(conn, photo_id)
    # Files go only once the row is gone for good.
    await delete_stored_files(storage, [row.image_url, row.thumbnail_url])
