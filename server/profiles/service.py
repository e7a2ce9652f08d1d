"""Social profile rules: the caller's own profile, public views, discover, likes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from db.queries import hosts as hosts_q
from db.queries import profiles as q
from jobs.contract import enqueue_user_vectors_changed
from server.errors import ApiError
from server.interests.schemas import Interest
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.profiles.schemas import (
    OwnSocialProfile,
    PublicProfile,
    SocialProfileIn,
    SocialProfilePatch,
)
from server.storage import Storage

MAX_LIKES = 1000


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such profile")


async def require_profile_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID:
    """The caller's social profile id; 409 when they have not created one yet."""
    profile_id = await q.own_profile_id(conn, user_id)
    if profile_id is None:
        raise ApiError(
            409, "social_profile_required", "Create your profile first (PUT /v1/me/social-profile)"
        )
    return profile_id


def host_profile_required() -> ApiError:
    return ApiError(409, "host_profile_required", "Become a host first (PUT /v1/me/host-profile)")


async def require_host_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID:
    """The caller's host profile id; 409 when they are not a host."""
    host_id = await hosts_q.own_host_id(conn, user_id)
    if host_id is None:
        raise host_profile_required()
    return host_id


def _no_foreign_photos() -> ApiError:
    # The composite FKs (photo id, profile id) reject photos of other profiles.
    # 404: another person's photo is not one the caller may know of.
    return ApiError(404, "invalid_photo", "No such photo of yours")


async def _own(conn: asyncpg.Connection, user_id: uuid.UUID) -> OwnSocialProfile:
    row = await q.own_profile(conn, user_id)
    if row is None:
        raise ApiError(
            409, "social_profile_required", "Create your profile first (PUT /v1/me/social-profile)"
        )
    return OwnSocialProfile(
        id=row.id,
        user_id=row.user_id,
        first_name=row.first_name,
        preferred_name=row.preferred_name,
        current_photo_id=row.current_photo_id,
        current_face_card_photo_id=row.current_face_card_photo_id,
        bio=row.bio,
        gender=row.gender,
        pronouns=row.pronouns,
        interested_in=row.interested_in,
        occupation=row.occupation,
        location=row.location,
        liked_profiles=row.liked_profiles,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def put_profile(
    conn: asyncpg.Connection, user_id: uuid.UUID, data: SocialProfileIn
) -> tuple[OwnSocialProfile, bool]:
    values = msgspec.structs.asdict(data)
    values["interested_in"] = sorted(set(data.interested_in))
    try:
        async with conn.transaction():
            created = await q.create_or_replace(conn, user_id, values)
    except asyncpg.ForeignKeyViolationError:
        raise _no_foreign_photos() from None
    return await _own(conn, user_id), created


async def patch_profile(
    conn: asyncpg.Connection, user_id: uuid.UUID, patch: SocialProfilePatch
) -> OwnSocialProfile:
    changes: dict[str, Any] = {
        name: getattr(patch, name)
        for name in patch.__struct_fields__
        if getattr(patch, name) is not msgspec.UNSET
    }
    if "interested_in" in changes:
        changes["interested_in"] = sorted(set(changes["interested_in"]))
    if changes:
        try:
            async with conn.transaction():
                found = await q.update_own(conn, user_id, changes)
        except asyncpg.ForeignKeyViolationError:
            raise _no_foreign_photos() from None
        if not found:
            await require_profile_id(conn, user_id)
    return await _own(conn, user_id)


def public_profile(row: q.PublicProfileRow, storage: Storage) -> PublicProfile:
    return PublicProfile(
        id=row.id,
        first_name=row.first_name,
        preferred_name=row.preferred_name,
        bio=row.bio,
        gender=row.gender,
        pronouns=row.pronouns,
        occupation=row.occupation,
        location=row.location,
        photo_url=storage.url(row.photo_key) if row.photo_key else None,
        face_card_url=storage.url(row.face_card_key) if row.face_card_key else None,
        is_authentic=row.is_authentic,
        interests=msgspec.convert(row.interests, list[Interest]),
    )


async def get_public_profile(
    conn: asyncpg.Connection, storage: Storage, viewer_id: uuid.UUID, profile_id: uuid.UUID
) -> PublicProfile:
    row = await q.public_profile(conn, viewer_id, profile_id)
    if row is None:
        raise _not_found()
    return public_profile(row, storage)


async def discover(
    conn: asyncpg.Connection, storage: Storage, viewer_id: uuid.UUID, page: PageParams
) -> Page[PublicProfile]:
    await require_profile_id(conn, viewer_id)
    after = decode_cursor(page.cursor, tuple[datetime, uuid.UUID]) if page.cursor else None
    rows = await q.discover(conn, viewer_id, after, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r.created_at, r.id))
    return Page(items=[public_profile(r, storage) for r in items], next_cursor=cursor)


async def like(conn: asyncpg.Connection, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    own_id = await require_profile_id(conn, user_id)
    if own_id == profile_id:
        raise ApiError(422, "cannot_like_self", "You cannot like your own profile")
    async with conn.transaction():
        if not await q.visible_profile_id(conn, user_id, profile_id):
            raise _not_found()
        if not await q.add_like(conn, user_id, profile_id, MAX_LIKES):
            raise ApiError(409, "too_many_likes", f"You can like at most {MAX_LIKES} profiles")
        # Likes feed the positive interest vector.
        await enqueue_user_vectors_changed(conn, user_id)


async def unlike(conn: asyncpg.Connection, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    await require_profile_id(conn, user_id)
    if not await q.visible_profile_id(conn, user_id, profile_id):
        raise _not_found()
    async with conn.transaction():
        await q.remove_like(conn, user_id, profile_id)
        await enqueue_user_vectors_changed(conn, user_id)
