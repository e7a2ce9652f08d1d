"""Photo rules: uploads to the caller's camera roll and host page, listing, deleting.

Files are stored before their row is inserted and removed again if the insert
fails, so a failed upload leaves nothing behind; a deleted row's files are
removed after the delete has committed (a failure there only leaves an
unreferenced file, logged).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime

import anyio.to_thread
import asyncpg
import structlog

from db.queries import photos as q
from server.errors import ApiError
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.photos.images import ProcessedImage, check_size, process_image
from server.photos.schemas import HostPhoto, HostPhotoType, ProfilePhoto
from server.profiles.service import require_host_id, require_profile_id
from server.storage import Storage

logger = structlog.get_logger(__name__)

MAX_PROFILE_PHOTOS = 30
MAX_HOST_PHOTOS = 30


def new_key(prefix: str, extension: str) -> str:
    """`<prefix>/<192 random bits, URL-safe><extension>`: unguessable, never reused."""
    return f"{prefix}/{secrets.token_urlsafe(24)}{extension}"


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such photo")


def _too_many(limit: int) -> ApiError:
    return ApiError(409, "too_many_photos", f"You can keep at most {limit} photos")


async def process_upload(data: bytes, max_bytes: int) -> ProcessedImage:
    check_size(len(data), max_bytes)  # cheap refusals before the thread hop
    return await anyio.to_thread.run_sync(process_image, data, max_bytes)


async def store_files(storage: Storage, files: list[tuple[str, bytes, str]]) -> list[str]:
    """Save every file; on failure remove those already saved and re-raise."""
    saved: list[str] = []
    try:
        for key, data, content_type in files:
            await storage.save(key, data, content_type)
            saved.append(key)
    except BaseException:
        await delete_stored_files(storage, saved)
        raise
    return saved


async def delete_stored_files(storage: Storage, keys: Iterable[str | None]) -> None:
    """Best effort: a file that cannot be removed is logged and left behind."""
    for key in keys:
        if not key:
            continue
        try:
            await storage.delete(key)
        except Exception:
            logger.exception("could not delete a stored file", key=key)


# ── Profile photos (camera roll) ────────────────────────────────────────────


def _profile_photo(row: asyncpg.Record, storage: Storage) -> ProfilePhoto:
    thumbnail_key = row["thumbnail_url"]
    return ProfilePhoto(
        id=row["id"],
        profile_id=row["profile_id"],
        image_url=storage.url(row["image_url"]),
        thumbnail_url=storage.url(thumbnail_key) if thumbnail_key else None,
        is_in_app_photo=row["is_in_app_photo"],
        created_at=row["created_at"],
    )


async def add_profile_photo(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    data: bytes,
    *,
    is_in_app_photo: bool,
    max_bytes: int,
) -> ProfilePhoto:
    profile_id = await require_profile_id(conn, user_id)
    if await q.count_profile_photos(conn, profile_id) >= MAX_PROFILE_PHOTOS:
        raise _too_many(MAX_PROFILE_PHOTOS)
    image = await process_upload(data, max_bytes)
    image_key = new_key("photos", image.extension)
    thumbnail_key = new_key("photos", image.extension)
    saved = await store_files(
        storage,
        [
            (image_key, image.data, image.content_type),
            (thumbnail_key, image.thumbnail, image.content_type),
        ],
    )
    try:
        async with conn.transaction():
            # Checked again under the profile's lock: concurrent uploads can't overshoot.
            if await q.lock_profile_photo_count(conn, profile_id) >= MAX_PROFILE_PHOTOS:
                raise _too_many(MAX_PROFILE_PHOTOS)
            row = await q.insert_profile_photo(
                conn, profile_id, image_key, thumbnail_key, is_in_app_photo
            )
    except BaseException:
        await delete_stored_files(storage, saved)
        raise
    return _profile_photo(row, storage)


async def list_profile_photos(
    conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID, page: PageParams
) -> Page[ProfilePhoto]:
    profile_id = await require_profile_id(conn, user_id)
    after = decode_cursor(page.cursor, tuple[datetime, uuid.UUID]) if page.cursor else None
    rows = await q.list_profile_photos(conn, profile_id, after, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r["created_at"], r["id"]))
    return Page(items=[_profile_photo(r, storage) for r in items], next_cursor=cursor)


async def delete_profile_photo(
    conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID, photo_id: uuid.UUID
) -> None:
    profile_id = await require_profile_id(conn, user_id)
    # One statement, committed on its own; the FKs clear current_photo_id and
    # current_face_card_photo_id if they pointed at this photo.
    row = await q.delete_profile_photo(conn, profile_id, photo_id)
    if row is None:
        raise _not_found()
    await delete_stored_files(storage, [row["image_url"], row["thumbnail_url"]])


# ── Host photos ─────────────────────────────────────────────────────────────


def _host_photo(row: asyncpg.Record, storage: Storage) -> HostPhoto:
    return HostPhoto(
        id=row["id"],
        host_id=row["host_id"],
        image_url=storage.url(row["image_url"]),
        photo_type=row["photo_type"],
        caption=row["caption"],
        created_at=row["created_at"],
    )


async def add_host_photo(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    data: bytes,
    *,
    photo_type: HostPhotoType,
    caption: str | None,
    max_bytes: int,
) -> HostPhoto:
    host_id = await require_host_id(conn, user_id)
    if await q.count_host_photos(conn, host_id) >= MAX_HOST_PHOTOS:
        raise _too_many(MAX_HOST_PHOTOS)
    caption = caption.strip() if caption else None
    image = await process_upload(data, max_bytes)
    # host_photos has no thumbnail column: only the cleaned image is kept.
    image_key = new_key("host-photos", image.extension)
    saved = await store_files(storage, [(image_key, image.data, image.content_type)])
    try:
        async with conn.transaction():
            if await q.lock_host_photo_count(conn, host_id) >= MAX_HOST_PHOTOS:
                raise _too_many(MAX_HOST_PHOTOS)
            row = await q.insert_host_photo(conn, host_id, image_key, photo_type, caption or None)
    except BaseException:
        await delete_stored_files(storage, saved)
        raise
    return _host_photo(row, storage)


async def delete_host_photo(
    conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID, photo_id: uuid.UUID
) -> None:
    host_id = await require_host_id(conn, user_id)
    key = await q.delete_host_photo(conn, host_id, photo_id)
    if key is None:
        raise _not_found()
    await delete_stored_files(storage, [key])


async def host_photos(
    conn: asyncpg.Connection, storage: Storage, viewer_id: uuid.UUID, host_id: uuid.UUID
) -> list[HostPhoto]:
    """A host's photos as the viewer may see them (none for a hidden or blocked host)."""
    rows = await q.list_host_photos(conn, host_id, viewer_id=viewer_id)
    return [_host_photo(r, storage) for r in rows]
