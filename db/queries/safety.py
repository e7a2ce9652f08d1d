"""Blocks and reports. The visibility rule itself is SQL (0003_visibility_rules.sql)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def blocked_between(conn: asyncpg.Connection, a_user: uuid.UUID, b_user: uuid.UUID) -> bool:
    """True when either user blocked the other (users.id on both sides)."""
    blocked: bool = await conn.fetchval("SELECT blocked_between($1, $2)", a_user, b_user)
    return blocked


async def user_visible_to(
    conn: asyncpg.Connection, viewer_user: uuid.UUID, target_user: uuid.UUID
) -> bool:
    """The shared rule: the target is active and no block stands between the two."""
    visible: bool = await conn.fetchval("SELECT user_visible_to($1, $2)", viewer_user, target_user)
    return visible


async def author_owner(conn: asyncpg.Connection, author_id: uuid.UUID) -> uuid.UUID | None:
    """The users.id behind the id live items are signed with: a social profile,
    or the host profile of a host who has none (realtime/fanout.author_of)."""
    user_id: uuid.UUID | None = await conn.fetchval(
        "SELECT user_id FROM social_profiles WHERE id = $1 "
        "UNION ALL SELECT user_id FROM host_profiles WHERE id = $1 LIMIT 1",
        author_id,
    )
    return user_id


async def profile_owner(conn: asyncpg.Connection, profile_id: uuid.UUID) -> uuid.UUID | None:
    """The users.id behind a social profile, whatever its status or blocks (None: no profile).

    Only for acts against someone (block, report) that must work whatever
    stands between the two; never to show anything about them.
    """
    user_id: uuid.UUID | None = await conn.fetchval(
        "SELECT user_id FROM social_profiles WHERE id = $1", profile_id
    )
    return user_id


# ── Blocks ──


async def upsert_block(
    conn: asyncpg.Connection, blocker_user: uuid.UUID, blocked_user: uuid.UUID
) -> tuple[datetime, bool]:
    """Block once, atomically: (created_at of the block, whether it is new)."""
    row = await conn.fetchrow(
        """
        INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)
        ON CONFLICT (blocker_user_id, blocked_user_id)
            DO UPDATE SET created_at = blocked_users.created_at
        RETURNING created_at, xmax = 0 AS created
        """,
        blocker_user,
        blocked_user,
    )
    assert row is not None
    return row["created_at"], row["created"]


async def forget_likes_between(
    conn: asyncpg.Connection, a_user: uuid.UUID, b_user: uuid.UUID
) -> None:
    """Take each side's profile id out of the other's liked_profiles."""
    await conn.execute(
        """
        UPDATE social_profiles sp
        SET liked_profiles = array_remove(sp.liked_profiles, other.id), updated_at = now()
        FROM social_profiles other
        WHERE (sp.user_id, other.user_id) IN (($1, $2), ($2, $1))
          AND other.id = ANY (sp.liked_profiles)
        """,
        a_user,
        b_user,
    )


async def delete_block(
    conn: asyncpg.Connection, blocker_user: uuid.UUID, blocked_user: uuid.UUID
) -> bool:
    deleted: str = await conn.execute(
        "DELETE FROM blocked_users WHERE blocker_user_id = $1 AND blocked_user_id = $2",
        blocker_user,
        blocked_user,
    )
    return deleted != "DELETE 0"


async def list_blocks(
    conn: asyncpg.Connection,
    blocker_user: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Profiles the user blocked, newest block first: (profile_id, first_name, created_at).

    Deliberately not filtered by user_visible_to: the blocker sees whom they blocked.
    """
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT sp.id AS profile_id, sp.first_name, b.created_at
        FROM blocked_users b
        JOIN social_profiles sp ON sp.user_id = b.blocked_user_id
        WHERE b.blocker_user_id = $1
          AND ($2::timestamptz IS NULL OR (b.created_at, sp.id) < ($2, $3))
        ORDER BY b.created_at DESC, sp.id DESC
        LIMIT $4
        """,
        blocker_user,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


# ── Reports ──

REPORT_COLUMNS = """
    r.id, (SELECT sp.id FROM social_profiles sp WHERE sp.user_id = r.reported_user_id)
        AS reported_profile_id,
    r.category, r.comments, r.event_id, r.status, r.created_at
"""


async def report_by_client_id(
    conn: asyncpg.Connection, reporter_user: uuid.UUID, client_id: uuid.UUID
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {REPORT_COLUMNS} FROM reports r "
        "WHERE r.reporter_user_id = $1 AND r.client_id = $2",
        reporter_user,
        client_id,
    )
    return row


async def insert_report(
    conn: asyncpg.Connection,
    *,
    reporter_user: uuid.UUID,
    reported_user: uuid.UUID,
    category: str,
    comments: str | None,
    event_id: uuid.UUID | None,
    client_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """The new report's id; None when this reporter already used client_id."""
    report_id: uuid.UUID | None = await conn.fetchval(
        """
        INSERT INTO reports (reporter_user_id, reported_user_id, category, comments, event_id,
                             client_id)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (reporter_user_id, client_id) DO NOTHING
        RETURNING id
        """,
        reporter_user,
        reported_user,
        category,
        comments,
        event_id,
        client_id,
    )
    return report_id


async def report_by_id(conn: asyncpg.Connection, report_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {REPORT_COLUMNS} FROM reports r WHERE r.id = $1", report_id
    )
    return row
