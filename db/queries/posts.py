"""Event boards: posts with a per-event `seq`, soft-deleted so `seq` keeps no holes.

Readers always pass the viewer: a post is shown only when its author is
visible to the viewer (`user_visible_to`: active, no block either way).
"""

from __future__ import annotations

import uuid

import asyncpg

from db.queries.events import viewer_role_sql

# A post as the API shows it, from a relation `p` shaped like event_posts.
_POST_COLUMNS = """
    p.id, p.event_id, p.seq, sp.id AS author_profile_id,
    hp.user_id = p.user_id AS author_is_host,
    p.content, p.deleted_at IS NOT NULL AS deleted, p.created_at
"""
_POST_JOINS = """
    JOIN social_profiles sp ON sp.user_id = p.user_id
    JOIN events e ON e.id = p.event_id
    JOIN host_profiles hp ON hp.id = e.host_id
"""


async def board_member(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    """The event's status, the caller's role in it (`viewer_role_sql`) and their
    social profile id; None when there is no such event. `lock` holds the event
    row until the transaction ends (posts take their `seq` under it)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT e.status, {viewer_role_sql("$1")} AS viewer_role,
               (SELECT me.id FROM social_profiles me WHERE me.user_id = $1) AS profile_id
        FROM events e JOIN host_profiles hp ON hp.id = e.host_id
        WHERE e.id = $2
        {"FOR UPDATE OF e" if lock else ""}
        """,
        user_id,
        event_id,
    )
    return row


async def post_by_client_id(
    conn: asyncpg.Connection, user_id: uuid.UUID, client_id: uuid.UUID
) -> asyncpg.Record | None:
    """The caller's post with this idempotency key, on whichever event."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_POST_COLUMNS} FROM event_posts p {_POST_JOINS} "
        "WHERE p.user_id = $1 AND p.client_id = $2",
        user_id,
        client_id,
    )
    return row


async def insert_post(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    user_id: uuid.UUID,
    content: str,
    client_id: uuid.UUID | None,
) -> asyncpg.Record:
    """Take the event's next `seq` and store the post with it, in one statement.
    The caller holds the event row lock, so seqs commit in order without gaps."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        WITH s AS (
            UPDATE events SET last_post_seq = last_post_seq + 1 WHERE id = $1
            RETURNING last_post_seq
        ), p AS (
            INSERT INTO event_posts (event_id, user_id, content, seq, client_id)
            SELECT $1, $2, $3, s.last_post_seq, $4 FROM s
            RETURNING *
        )
        SELECT {_POST_COLUMNS} FROM p {_POST_JOINS}
        """,
        event_id,
        user_id,
        content,
        client_id,
    )
    assert row is not None
    return row


async def posts_page(
    conn: asyncpg.Connection,
    viewer_id: uuid.UUID,
    event_id: uuid.UUID,
    before_seq: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Live posts the viewer may see, newest first, below `before_seq` if given."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_POST_COLUMNS} FROM event_posts p {_POST_JOINS}
        WHERE p.event_id = $2 AND p.deleted_at IS NULL AND user_visible_to($1, p.user_id)
          AND ($3::bigint IS NULL OR p.seq < $3)
        ORDER BY p.seq DESC
        LIMIT $4
        """,
        viewer_id,
        event_id,
        before_seq,
        limit,
    )
    return rows


async def posts_since(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID, since: int, limit: int
) -> list[asyncpg.Record]:
    """Posts after `since` in seq order, deleted ones included (as tombstones)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_POST_COLUMNS} FROM event_posts p {_POST_JOINS}
        WHERE p.event_id = $2 AND p.seq > $3 AND user_visible_to($1, p.user_id)
        ORDER BY p.seq
        LIMIT $4
        """,
        viewer_id,
        event_id,
        since,
        limit,
    )
    return rows


async def last_seq(conn: asyncpg.Connection, event_id: uuid.UUID) -> int:
    seq: int | None = await conn.fetchval(
        "SELECT last_post_seq FROM events WHERE id = $1", event_id
    )
    return seq or 0


async def post_author(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID, post_id: uuid.UUID
) -> uuid.UUID | None:
    """The users.id of a post on this event that the viewer may see (deleted or not)."""
    author: uuid.UUID | None = await conn.fetchval(
        """
        SELECT p.user_id FROM event_posts p
        WHERE p.id = $3 AND p.event_id = $2 AND user_visible_to($1, p.user_id)
        """,
        viewer_id,
        event_id,
        post_id,
    )
    return author


async def soft_delete(conn: asyncpg.Connection, post_id: uuid.UUID) -> None:
    """Blank the post and keep its row: its `seq` stays taken."""
    await conn.execute(
        "UPDATE event_posts SET content = NULL, deleted_at = now() "
        "WHERE id = $1 AND deleted_at IS NULL",
        post_id,
    )
