"""Host profiles and the public host page."""

from __future__ import annotations

import uuid

import asyncpg

OWN_HOST_COLUMNS = (
    "id, user_id, host_type, host_name, host_bio, location_id, average_rating, "
    "created_at, updated_at"
)


async def own_host_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    host_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM host_profiles WHERE user_id = $1", user_id
    )
    return host_id


async def own_host(conn: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {OWN_HOST_COLUMNS} FROM host_profiles WHERE user_id = $1", user_id
    )
    return row


async def location_owned_by(
    conn: asyncpg.Connection, location_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM locations WHERE id = $1 AND created_by_user_id = $2)",
        location_id,
        user_id,
    )
    return found


async def create_or_replace(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    host_type: str,
    host_name: str,
    host_bio: str | None,
    location_id: uuid.UUID | None,
) -> bool:
    """True when created."""
    created: bool = await conn.fetchval(
        """
        INSERT INTO host_profiles (user_id, host_type, host_name, host_bio, location_id)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (user_id) DO UPDATE SET
            host_type = EXCLUDED.host_type, host_name = EXCLUDED.host_name,
            host_bio = EXCLUDED.host_bio, location_id = EXCLUDED.location_id,
            updated_at = now()
        RETURNING xmax = 0
        """,
        user_id,
        host_type,
        host_name,
        host_bio,
        location_id,
    )
    return created


async def public_page(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, host_id: uuid.UUID
) -> asyncpg.Record | None:
    """The public host page (photos come from db/queries/photos.py), or None when
    the viewer may not see the host.

    Ratings are averaged live from `ratings`; event history lists completed
    events, most recent first, with their own average event rating.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT h.id, h.host_type, h.host_name, h.host_bio, h.created_at,
               sp.id AS profile_id,
               CASE WHEN h.host_type = 'community' THEN h.location_id END AS location_id,
               CASE WHEN h.host_type = 'community' THEN (
                   SELECT jsonb_build_object(
                       'id', l.id, 'name', l.name, 'address', l.address,
                       'latitude', l.latitude, 'longitude', l.longitude,
                       'google_place_id', l.google_place_id)
                   FROM locations l WHERE l.id = h.location_id
               ) END AS location,
               (SELECT avg(r.host_rating_value)::float8 FROM ratings r
                WHERE r.rated_host_id = h.id) AS average_rating,
               (SELECT count(*) FROM ratings r WHERE r.rated_host_id = h.id) AS rating_count,
               coalesce((
                   SELECT jsonb_agg(e ORDER BY e.ends_at DESC NULLS LAST)
                   FROM (
                       SELECT ev.id, ev.title, t.starts_at, t.ends_at,
                              (SELECT avg(r.event_rating_value)::float8 FROM ratings r
                               WHERE r.event_id = ev.id) AS average_event_rating,
                              (SELECT count(*) FROM ratings r
                               WHERE r.event_id = ev.id) AS rating_count
                       FROM events ev
                       CROSS JOIN LATERAL (
                           SELECT min(s.start_time) AS starts_at, max(s.end_time) AS ends_at
                           FROM event_itinerary_stops s WHERE s.event_id = ev.id
                       ) t
                       WHERE ev.host_id = h.id AND ev.status = 'completed'
                       ORDER BY t.ends_at DESC NULLS LAST
                       LIMIT 50
                   ) e
               ), '[]'::jsonb) AS event_history,
               coalesce((
                   SELECT jsonb_agg(jsonb_build_object('platform', sl.platform, 'url', sl.url)
                                    ORDER BY sl.created_at)
                   FROM user_social_links sl
                   WHERE sl.user_id = h.user_id AND sl.is_public_on_host_profile
               ), '[]'::jsonb) AS social_links
        FROM host_profiles h
        LEFT JOIN social_profiles sp ON sp.user_id = h.user_id
        WHERE h.id = $2 AND user_visible_to($1, h.user_id)
        """,
        viewer_id,
        host_id,
    )
    return row
