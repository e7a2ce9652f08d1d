"""Ratings and kudos, and the host averages kept from ratings."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from db.rows import many, one


class RatingRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    event_id: uuid.UUID
    rated_host_id: uuid.UUID
    host_rating_value: int
    event_rating_value: int
    comment: str | None
    created_at: datetime


_RATING_COLUMNS = (
    "id, event_id, rated_host_id, host_rating_value, event_rating_value, comment, created_at"
)


async def insert_rating(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    rater_profile_id: uuid.UUID,
    host_id: uuid.UUID,
    host_rating_value: int,
    event_rating_value: int,
    comment: str | None,
) -> RatingRow | None:
    """The new rating; None when the rater already rated the event."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO ratings (event_id, rater_profile_id, rated_host_id, host_rating_value,
                             event_rating_value, comment)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (event_id, rater_profile_id) DO NOTHING
        RETURNING {_RATING_COLUMNS}
        """,
        event_id,
        rater_profile_id,
        host_id,
        host_rating_value,
        event_rating_value,
        comment,
    )
    return one(RatingRow, row)


async def lock_host(conn: asyncpg.Connection, host_id: uuid.UUID) -> None:
    """Ratings of one host take turns: each average is computed after the others
    committed (its statement's snapshot is taken after the lock is granted)."""
    await conn.execute("SELECT 1 FROM host_profiles WHERE id = $1 FOR UPDATE", host_id)


async def refresh_host_rating(conn: asyncpg.Connection, host_ids: list[uuid.UUID]) -> None:
    """host_profiles.average_rating from the hosts' ratings (NULL without any)."""
    await conn.execute(
        """
        UPDATE host_profiles h SET average_rating = (
            SELECT avg(r.host_rating_value)::float8 FROM ratings r WHERE r.rated_host_id = h.id)
        WHERE h.id = ANY($1::uuid[])
        """,
        host_ids,
    )


async def rated_hosts_of_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT DISTINCT r.rated_host_id FROM ratings r JOIN social_profiles sp "
        "ON sp.id = r.rater_profile_id WHERE sp.user_id = $1",
        user_id,
    )
    return [row["rated_host_id"] for row in rows]


async def kudos_receivers_of_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Users who received kudos from this user (their scores move when it goes)."""
    rows = await conn.fetch(
        "SELECT DISTINCT r.user_id FROM attendee_kudos k "
        "JOIN social_profiles g ON g.id = k.giver_profile_id "
        "JOIN social_profiles r ON r.id = k.receiver_profile_id WHERE g.user_id = $1",
        user_id,
    )
    return [row["user_id"] for row in rows]


_KUDO_COLUMNS = "id, event_id, receiver_profile_id, kudo, created_at"


class KudoRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    event_id: uuid.UUID
    receiver_profile_id: uuid.UUID
    kudo: str
    created_at: datetime


async def give_kudo(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    giver_profile_id: uuid.UUID,
    receiver_profile_id: uuid.UUID,
    kudo: str,
) -> tuple[KudoRow, bool]:
    """The kudo, and whether it is new (a repeat answers the first)."""
    args = (event_id, giver_profile_id, receiver_profile_id, kudo)
    row = await conn.fetchrow(
        f"""
        INSERT INTO attendee_kudos (event_id, giver_profile_id, receiver_profile_id, kudo)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (event_id, giver_profile_id, receiver_profile_id, kudo) DO NOTHING
        RETURNING {_KUDO_COLUMNS}
        """,
        *args,
    )
    if row is not None:
        return KudoRow(**row), True
    # A new statement: it sees the first one even if it committed a moment ago.
    row = await conn.fetchrow(
        f"SELECT {_KUDO_COLUMNS} FROM attendee_kudos WHERE event_id = $1 "
        "AND giver_profile_id = $2 AND receiver_profile_id = $3 AND kudo = $4",
        *args,
    )
    assert row is not None
    return KudoRow(**row), False


class KudoCount(msgspec.Struct, frozen=True):
    kudo: str
    count: int


async def kudos_received(conn: asyncpg.Connection, profile_id: uuid.UUID) -> list[KudoCount]:
    rows = await conn.fetch(
        "SELECT kudo, count(*) AS count FROM attendee_kudos WHERE receiver_profile_id = $1 "
        "GROUP BY kudo ORDER BY count(*) DESC, kudo",
        profile_id,
    )
    return many(KudoCount, rows)
