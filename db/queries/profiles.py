"""Social profiles: the caller's own, public views, discover, likes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

from db.rows import many, one

# The social_profiles.gender CHECK (interested_in takes the same values).
Gender = Literal[
    "Woman",
    "Man",
    "Non-binary",
    "Transgender Woman",
    "Transgender Man",
    "Genderqueer",
    "Genderfluid",
    "Agender",
]


async def own_profile_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    profile_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM social_profiles WHERE user_id = $1", user_id
    )
    return profile_id


class PublicProfileRow(msgspec.Struct, frozen=True):
    """PUBLIC_PROFILE_SELECT; `interests` is [{"id", "name"}] by name."""

    id: uuid.UUID
    first_name: str | None
    preferred_name: str | None
    bio: str | None
    gender: Gender
    pronouns: str | None
    occupation: str | None
    location: str | None
    created_at: datetime
    photo_key: str | None
    face_card_key: str | None
    is_authentic: bool
    interests: list[dict[str, Any]]


# Public view of a profile: `$1` is the viewer's users.id. The photo keys are
# turned into URLs by the storage; is_authentic = an in-app photo under 12 months.
PUBLIC_PROFILE_SELECT = """
    SELECT sp.id, sp.first_name, sp.preferred_name, sp.bio, sp.gender, sp.pronouns,
           sp.occupation, sp.location, sp.created_at,
           cp.image_url AS photo_key, fp.image_url AS face_card_key,
           EXISTS (
               SELECT 1 FROM profile_photos p
               WHERE p.profile_id = sp.id AND p.is_in_app_photo
                 AND p.created_at > now() - interval '12 months'
           ) AS is_authentic,
           coalesce((
               SELECT jsonb_agg(jsonb_build_object('id', i.id, 'name', i.name) ORDER BY i.name)
               FROM profile_interests pi JOIN interests i ON i.id = pi.interest_id
               WHERE pi.profile_id = sp.id
           ), '[]'::jsonb) AS interests
    FROM social_profiles sp
    LEFT JOIN profile_photos cp ON cp.id = sp.current_photo_id
    LEFT JOIN profile_photos fp ON fp.id = sp.current_face_card_photo_id
"""


class OwnProfileRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    user_id: uuid.UUID
    first_name: str | None
    preferred_name: str | None
    current_photo_id: uuid.UUID | None
    current_face_card_photo_id: uuid.UUID | None
    bio: str | None
    gender: Gender
    pronouns: str | None
    interested_in: list[Gender]
    occupation: str | None
    location: str | None
    created_at: datetime
    updated_at: datetime
    liked_profiles: list[uuid.UUID]


# The caller's own profile; liked_profiles keeps only people they may still see.
OWN_PROFILE_COLUMNS = """
    sp.id, sp.user_id, sp.first_name, sp.preferred_name, sp.current_photo_id,
    sp.current_face_card_photo_id, sp.bio, sp.gender, sp.pronouns, sp.interested_in,
    sp.occupation, sp.location, sp.created_at, sp.updated_at,
    ARRAY(
        SELECT liked.id FROM unnest(sp.liked_profiles) WITH ORDINALITY AS l(id, n)
        JOIN social_profiles liked ON liked.id = l.id
        WHERE user_visible_to(sp.user_id, liked.user_id)
        ORDER BY l.n
    ) AS liked_profiles
"""

# Columns PUT/PATCH /v1/me/social-profile may set.
EDITABLE_COLUMNS = (
    "first_name",
    "preferred_name",
    "bio",
    "gender",
    "pronouns",
    "interested_in",
    "occupation",
    "location",
    "current_photo_id",
    "current_face_card_photo_id",
)


async def create_or_replace(
    conn: asyncpg.Connection, user_id: uuid.UUID, values: dict[str, object]
) -> bool:
    """Write every editable column; True when the profile was created."""
    columns = ", ".join(EDITABLE_COLUMNS)
    placeholders = ", ".join(f"${i}" for i in range(2, len(EDITABLE_COLUMNS) + 2))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in EDITABLE_COLUMNS)
    created: bool = await conn.fetchval(
        f"""
        INSERT INTO social_profiles (user_id, {columns}) VALUES ($1, {placeholders})
        ON CONFLICT (user_id) DO UPDATE SET {updates}, updated_at = now()
        RETURNING xmax = 0
        """,
        user_id,
        *(values.get(c) for c in EDITABLE_COLUMNS),
    )
    return created


async def update_own(
    conn: asyncpg.Connection, user_id: uuid.UUID, changes: dict[str, object]
) -> bool:
    """Change some editable columns; False when the user has no profile."""
    unknown = set(changes) - set(EDITABLE_COLUMNS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    columns = list(changes)
    assignments = "".join(f"{c} = ${i}, " for i, c in enumerate(columns, start=2))
    found = await conn.fetchval(
        f"UPDATE social_profiles SET {assignments}updated_at = now() WHERE user_id = $1 "
        "RETURNING id",
        user_id,
        *(changes[c] for c in columns),
    )
    return found is not None


async def own_profile(conn: asyncpg.Connection, user_id: uuid.UUID) -> OwnProfileRow | None:
    row = await conn.fetchrow(
        f"""
        SELECT {OWN_PROFILE_COLUMNS}
        FROM social_profiles sp WHERE sp.user_id = $1
        """,
        user_id,
    )
    return one(OwnProfileRow, row)


async def public_profile(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, profile_id: uuid.UUID
) -> PublicProfileRow | None:
    row = await conn.fetchrow(
        PUBLIC_PROFILE_SELECT + " WHERE sp.id = $2 AND user_visible_to($1, sp.user_id)",
        viewer_id,
        profile_id,
    )
    return one(PublicProfileRow, row)


async def public_profiles(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, profile_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PublicProfileRow]:
    """Public views of these profiles, by id, for those the viewer may see."""
    rows = await conn.fetch(
        PUBLIC_PROFILE_SELECT
        + " WHERE sp.id = ANY ($2::uuid[]) AND user_visible_to($1, sp.user_id)",
        viewer_id,
        list(profile_ids),
    )
    return {row.id: row for row in many(PublicProfileRow, rows)}


async def discover(
    conn: asyncpg.Connection,
    viewer_id: uuid.UUID,
    after: tuple[object, uuid.UUID] | None,
    limit: int,
) -> list[PublicProfileRow]:
    """Profiles whose gender is in the viewer's interested_in, newest first."""
    rows = await conn.fetch(
        PUBLIC_PROFILE_SELECT
        + """
        JOIN social_profiles me ON me.user_id = $1
        WHERE sp.gender = ANY (me.interested_in)
          AND sp.user_id <> $1
          AND user_visible_to($1, sp.user_id)
          AND ($2::timestamptz IS NULL OR (sp.created_at, sp.id) < ($2, $3))
        ORDER BY sp.created_at DESC, sp.id DESC
        LIMIT $4
        """,
        viewer_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return many(PublicProfileRow, rows)


async def visible_profile_id(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, profile_id: uuid.UUID
) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM social_profiles sp "
        "WHERE sp.id = $2 AND user_visible_to($1, sp.user_id))",
        viewer_id,
        profile_id,
    )
    return found


async def add_like(
    conn: asyncpg.Connection, user_id: uuid.UUID, profile_id: uuid.UUID, max_likes: int
) -> bool:
    """Like once (atomic under the row's lock); False when the list is full."""
    liked: bool = await conn.fetchval(
        """
        UPDATE social_profiles
        SET liked_profiles = CASE
                WHEN $2 = ANY (liked_profiles) THEN liked_profiles
                WHEN cardinality(liked_profiles) >= $3 THEN liked_profiles
                ELSE array_append(liked_profiles, $2) END
        WHERE user_id = $1
        RETURNING $2 = ANY (liked_profiles)
        """,
        user_id,
        profile_id,
        max_likes,
    )
    return liked


async def remove_like(conn: asyncpg.Connection, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE social_profiles SET liked_profiles = array_remove(liked_profiles, $2) "
        "WHERE user_id = $1",
        user_id,
        profile_id,
    )
