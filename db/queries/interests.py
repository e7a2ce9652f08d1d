"""Interests: the catalog, search, a profile's chosen interests."""

from __future__ import annotations

import uuid

import asyncpg

# Search keeps one sort key for every list: (rank, lower(name) in byte order, id).
# rank is 0 for names starting with the query and 1 for names only containing it;
# without a query the pattern is '' and every name ranks 0 (plain alphabetical).
# COLLATE "C" makes the order (and the cursor comparison) independent of the
# database's default collation.
SearchKey = tuple[int, str, int]


async def search(
    conn: asyncpg.Connection, pattern: str, after: SearchKey | None, limit: int
) -> list[asyncpg.Record]:
    """Interests whose lowercased name contains `pattern` (already LIKE-escaped, with `\\`
    as the escape character), prefix matches first; up to `limit` rows after `after`."""
    rows: list[asyncpg.Record] = await conn.fetch(
        r"""
        SELECT id, name, rank, sort_name
        FROM (
            SELECT id, name,
                   CASE WHEN lower(name) LIKE lower($1) || '%' ESCAPE '\' THEN 0 ELSE 1 END
                       AS rank,
                   lower(name) COLLATE "C" AS sort_name
            FROM interests
            WHERE lower(name) LIKE '%' || lower($1) || '%' ESCAPE '\'
        ) matched
        WHERE $2::integer IS NULL OR (rank, sort_name, id) > ($2, $3::text, $4::integer)
        ORDER BY rank, sort_name, id
        LIMIT $5
        """,
        pattern,
        after[0] if after else None,
        after[1] if after else None,
        after[2] if after else None,
        limit,
    )
    return rows


async def existing_ids(conn: asyncpg.Connection, ids: list[int]) -> set[int]:
    rows = await conn.fetch("SELECT id FROM interests WHERE id = ANY($1::integer[])", ids)
    return {r["id"] for r in rows}


async def lock_profile(conn: asyncpg.Connection, profile_id: uuid.UUID) -> None:
    """Serialise changes to one profile's interests until the transaction ends."""
    await conn.execute("SELECT 1 FROM social_profiles WHERE id = $1 FOR NO KEY UPDATE", profile_id)


async def replace_profile_interests(
    conn: asyncpg.Connection, profile_id: uuid.UUID, ids: list[int]
) -> bool:
    """Make the profile's interests exactly `ids`; whether anything changed."""
    removed = await conn.fetch(
        "DELETE FROM profile_interests WHERE profile_id = $1 AND interest_id <> ALL($2::integer[]) "
        "RETURNING interest_id",
        profile_id,
        ids,
    )
    added = await conn.fetch(
        """
        INSERT INTO profile_interests (profile_id, interest_id)
        SELECT $1, unnest($2::integer[])
        ON CONFLICT DO NOTHING
        RETURNING interest_id
        """,
        profile_id,
        ids,
    )
    return bool(removed or added)


async def profile_interests(
    conn: asyncpg.Connection, profile_id: uuid.UUID
) -> list[asyncpg.Record]:
    """A profile's interests, `id` and `name`, by name."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT i.id, i.name
        FROM profile_interests pi
        JOIN interests i ON i.id = pi.interest_id
        WHERE pi.profile_id = $1
        ORDER BY lower(i.name) COLLATE "C", i.id
        """,
        profile_id,
    )
    return rows
