"""Locations: creation (capped per user) and reading under the visibility rule."""

from __future__ import annotations

import uuid

import asyncpg

from db.queries.events import viewer_role_sql

COLUMNS = "l.id, l.name, l.address, l.latitude, l.longitude, l.google_place_id"


async def create_location(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    *,
    name: str | None,
    address: str | None,
    latitude: float,
    longitude: float,
    google_place_id: str | None,
    max_per_user: int,
) -> asyncpg.Record | None:
    """The new location, or None when the user already has `max_per_user`.
    Run inside a transaction: the user's row lock makes the count exact."""
    await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", user_id)
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        INSERT INTO locations AS l
            (name, address, latitude, longitude, google_place_id, created_by_user_id)
        SELECT $2, $3, $4, $5, $6, $1
        WHERE (SELECT count(*) FROM locations WHERE created_by_user_id = $1) < $7
        RETURNING {COLUMNS}
        """,
        user_id,
        name,
        address,
        latitude,
        longitude,
        google_place_id,
        max_per_user,
    )
    return row


async def visible_location(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, location_id: uuid.UUID
) -> asyncpg.Record | None:
    """The location if the viewer may see its exact place: they created it, it is
    the place of a community host they may see (public on the host page), or it is
    a stop of an event they may see in full (host, collaborator, confirmed attendee)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {COLUMNS}
        FROM locations l
        WHERE l.id = $2
          AND (
              l.created_by_user_id = $1
              OR EXISTS (
                  SELECT 1 FROM host_profiles hp
                  WHERE hp.location_id = l.id
                    AND hp.host_type = 'community'
                    AND user_visible_to($1, hp.user_id)
              )
              OR EXISTS (
                  SELECT 1 FROM event_itinerary_stops s
                  JOIN events e ON e.id = s.event_id
                  JOIN host_profiles hp ON hp.id = e.host_id
                  WHERE s.location_id = l.id
                    AND ({viewer_role_sql("$1")}) IN ('host', 'collaborator', 'attendee')
              )
          )
        """,
        viewer_id,
        location_id,
    )
    return row
