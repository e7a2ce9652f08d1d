"""Host rules: becoming a host, changing it, and the public host page."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from db.queries import hosts as q
from server.errors import ApiError
from server.hosts.schemas import HostPage, HostProfileIn, HostProfilePatch
from server.photos import service as photos_service
from server.profiles.schemas import OwnHostProfile
from server.profiles.service import host_profile_required
from server.storage import Storage


async def _check_location(
    conn: asyncpg.Connection, user_id: uuid.UUID, host_type: str, location_id: uuid.UUID | None
) -> None:
    if host_type == "community" and location_id is None:
        raise ApiError(422, "location_required", "A community host needs its location_id")
    if host_type == "user" and location_id is not None:
        raise ApiError(422, "invalid_location", "User hosts have no fixed location")
    if location_id is not None and not await q.location_owned_by(conn, location_id, user_id):
        # 404, as for any place the caller may not know (events' stops too).
        raise ApiError(
            404, "not_found", "No such location: use one you created (POST /v1/locations)"
        )


async def put_host(
    conn: asyncpg.Connection, user_id: uuid.UUID, data: HostProfileIn
) -> tuple[OwnHostProfile, bool]:
    async with conn.transaction():
        await _check_location(conn, user_id, data.host_type, data.location_id)
        created = await q.create_or_replace(
            conn, user_id, data.host_type, data.host_name, data.host_bio, data.location_id
        )
        return await _own(conn, user_id), created


async def patch_host(
    conn: asyncpg.Connection, user_id: uuid.UUID, patch: HostProfilePatch
) -> OwnHostProfile:
    async with conn.transaction():
        current = await _own(conn, user_id)
        merged: dict[str, Any] = msgspec.structs.asdict(current)
        merged.update(
            {
                name: getattr(patch, name)
                for name in patch.__struct_fields__
                if getattr(patch, name) is not msgspec.UNSET
            }
        )
        await _check_location(conn, user_id, merged["host_type"], merged["location_id"])
        await q.create_or_replace(
            conn,
            user_id,
            merged["host_type"],
            merged["host_name"],
            merged["host_bio"],
            merged["location_id"],
        )
        return await _own(conn, user_id)


async def _own(conn: asyncpg.Connection, user_id: uuid.UUID) -> OwnHostProfile:
    row = await q.own_host(conn, user_id)
    if row is None:
        raise host_profile_required()
    return msgspec.convert(dict(row), OwnHostProfile)


async def host_page(
    conn: asyncpg.Connection, storage: Storage, viewer_id: uuid.UUID, host_id: uuid.UUID
) -> HostPage:
    row = await q.public_page(conn, viewer_id, host_id)
    if row is None:
        raise ApiError(404, "not_found", "No such host")
    page = msgspec.convert(dict(row), HostPage, strict=False)
    page.photos = await photos_service.host_photos(conn, storage, viewer_id, host_id)
    return page
