"""Location rules: who may create them, and who may see their exact coordinates."""

from __future__ import annotations

import uuid

import asyncpg

from db.queries import locations as q
from server.errors import ApiError
from server.locations.schemas import Location, LocationCreate

# Locations outlive their creator and are never deleted through the API, so
# one account may not fill the table.
MAX_LOCATIONS_PER_USER = 1000


def _text(value: str | None) -> str | None:
    stripped = value.strip() if value is not None else None
    return stripped or None


def _location(row: asyncpg.Record) -> Location:
    return Location(
        id=row["id"],
        name=row["name"],
        address=row["address"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        google_place_id=row["google_place_id"],
    )


async def create_location(
    conn: asyncpg.Connection, user_id: uuid.UUID, data: LocationCreate
) -> Location:
    async with conn.transaction():
        row = await q.create_location(
            conn,
            user_id,
            name=_text(data.name),
            address=_text(data.address),
            latitude=data.latitude,
            longitude=data.longitude,
            google_place_id=_text(data.google_place_id),
            max_per_user=MAX_LOCATIONS_PER_USER,
        )
    if row is None:
        raise ApiError(
            409,
            "too_many_locations",
            f"An account can create at most {MAX_LOCATIONS_PER_USER} locations",
        )
    return _location(row)


async def get_location(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, location_id: uuid.UUID
) -> Location:
    row = await q.visible_location(conn, viewer_id, location_id)
    if row is None:
        raise ApiError(404, "not_found", "Not found")
    return _location(row)
