"""Event boards: posts with a per-event `seq`, soft-deleted so `seq` keeps no holes.

Lists pass the viewer: a post is shown only when its author is visible to
the viewer (`user_visible_to`: active, no block either way). `posts_since`
reads for the WebSocket gateway, which applies the same rule per reader as
it writes (gateway/catch_up.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import asyncpg

from db.queries.events import viewer_role_sql
from db.rows import NewItem, unzip_items

# A post as the API shows it, from a relation `p` shaped like event_posts.
# The host may have no social profile (a community host): their posts carry
# the host's id, name and logo (the storage key of its newest `logo` photo).
_POST_COLUMNS = """
    p.id, p.event_id, p.seq, sp.id AS author_profile_id,
    hp.user_id = p.user_id AS author_is_host,
    CASE WHEN hp.user_id = p.user_id THEN hp.id END AS author_host_id,
    CASE WHEN hp.user_id = p.user_id THEN hp.host_name END AS author_host_name,
    CASE WHEN hp.user_id = p.user_id THEN (
        SELECT ph.image_url FROM host_photos ph
        WHERE ph.host_id = hp.id AND ph.photo_type = 'logo'
        ORDER BY ph.created_at DESC, ph.id DESC LIMIT 1
    ) END AS author_host_logo_key,
    p.content, p.deleted_at IS NOT NULL AS deleted, p.created_at
"""
_POST_JOINS = """
    LEFT JOIN social_profiles sp ON sp.user_id = p.user_id
    JOIN events e ON e.id = p.event_id
    JOIN host_profiles hp ON hp.id = e.host_id
"""


def _member_sql(user: str, event: str) -> str:
    """The caller's standing on the event: see board_member. `user` and `event`
    are SQL such as "$1"."""
    return f"""
    SELECT e.status, {viewer_role_sql(user)} AS viewer_role,
           (SELECT me.id FROM social_profiles me WHERE me.user_id = {user}) AS profile_id,
           CASE WHEN hp.user_id = {user} THEN hp.id END AS host_id
    FROM events e JOIN host_profiles hp ON hp.id = e.host_id
    WHERE e.id = {event}
"""


_MEMBER = _member_sql("$1", "$2")
# Who may post, from a standing `m` (the roles are a parameter).
_MAY_POST = """m.viewer_role = ANY ({roles}::text[]) AND m.status <> 'draft'
    AND (m.profile_id IS NOT NULL OR m.host_id IS NOT NULL)"""


async def board_member(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID
) -> asyncpg.Record | None:
    """The event's status, the caller's role in it (`viewer_role_sql`), their
    social profile id and, if they host it, the host profile id; None when there
    is no such event."""
    row: asyncpg.Record | None = await conn.fetchrow(_MEMBER, user_id, event_id)
    return row


async def append_post(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    content: str | None,
    client_id: uuid.UUID | None,
    roles: Iterable[str],
) -> asyncpg.Record:
    """One statement, one round trip: the caller's standing on the event (the
    columns of board_member, NULL when there is no such event), and a post:
    the caller's post with this client_id if there is one (on whichever event),
    else, when `content` is given and the caller may post (a role in `roles`,
    the event not a draft, a social profile unless they host it), a new post
    with the event's next `seq`, with `created` true. The seq is taken by an
    UPDATE of the event row, whose lock makes concurrent posts wait their turn
    and commit in order; a post that fails rolls its seq back, so seqs have no
    gaps. A retry racing the first try with the same client_id fails on the
    unique key (the first is not in this statement's snapshot): run it again to
    find the first."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        WITH m AS ({_MEMBER}),
        earlier AS (
            SELECT * FROM event_posts WHERE user_id = $1 AND client_id = $4
        ), s AS (
            UPDATE events SET last_post_seq = last_post_seq + 1
            WHERE id = $2 AND $3::text IS NOT NULL
              AND EXISTS (SELECT 1 FROM m WHERE {_MAY_POST.format(roles="$5")})
              AND NOT EXISTS (SELECT 1 FROM earlier)
            RETURNING last_post_seq
        ), new AS (
            INSERT INTO event_posts (event_id, user_id, content, seq, client_id)
            SELECT $2, $1, $3, s.last_post_seq, $4 FROM s
            RETURNING *
        )
        SELECT m.status, m.viewer_role, m.profile_id, m.host_id,
               EXISTS (SELECT 1 FROM new) AS created, post.*
        FROM (SELECT 1) one
        LEFT JOIN m ON true
        LEFT JOIN (
            SELECT {_POST_COLUMNS}
            FROM (SELECT * FROM new UNION ALL SELECT * FROM earlier) p {_POST_JOINS}
        ) post ON true
        """,
        user_id,
        event_id,
        content,
        client_id,
        list(roles),
    )
    assert row is not None
    return row


async def append_posts(
    conn: asyncpg.Connection, items: Sequence[NewItem], roles: Iterable[str]
) -> list[asyncpg.Record]:
    """Many posts (`channel_id` an event) in one statement, one transaction: each
    item whose author may post (as in append_post) and who has no post with its
    client_id yet is stored with its event's next `seq`, in the items' order
    within an event. Returns the stored posts as append_post's post columns plus
    `idx`, the item's position (from 1); an item not stored is absent (the
    caller gives it append_post, which says why). The events' rows are locked
    in id order, so two batches over the same events cannot deadlock. Two items
    with one (author, client_id) must not be in one batch; a post committed
    meanwhile with an item's client_id fails the whole statement on the unique
    key."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        WITH item AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[])
                WITH ORDINALITY AS i(user_id, event_id, content, client_id, idx)
        ), admitted AS (
            SELECT i.*, row_number() OVER (PARTITION BY i.event_id ORDER BY i.idx) AS rank
            FROM item i CROSS JOIN LATERAL ({_member_sql("i.user_id", "i.event_id")}) m
            WHERE {_MAY_POST.format(roles="$5")}
              AND NOT EXISTS (
                  SELECT 1 FROM event_posts ep
                  WHERE ep.user_id = i.user_id AND ep.client_id = i.client_id)
        ), counted AS (
            SELECT event_id, count(*) AS n FROM admitted GROUP BY event_id
        ), locked AS (
            SELECT e.id FROM events e WHERE e.id IN (SELECT event_id FROM counted)
            ORDER BY e.id FOR UPDATE
        ), s AS (
            UPDATE events e SET last_post_seq = e.last_post_seq + c.n
            FROM counted c JOIN locked l ON l.id = c.event_id
            WHERE e.id = c.event_id
            RETURNING e.id, e.last_post_seq - c.n AS base
        ), planned AS (
            SELECT a.idx, a.event_id, a.user_id, a.content, a.client_id, s.base + a.rank AS seq
            FROM admitted a JOIN s ON s.id = a.event_id
        ), new AS (
            INSERT INTO event_posts (event_id, user_id, content, seq, client_id)
            SELECT event_id, user_id, content, seq, client_id FROM planned
            RETURNING *
        )
        SELECT planned.idx, {_POST_COLUMNS}
        FROM new p JOIN planned ON planned.event_id = p.event_id AND planned.seq = p.seq
        {_POST_JOINS}
        """,
        *unzip_items(items),
        list(roles),
    )
    return rows


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
    conn: asyncpg.Connection, event_id: uuid.UUID, since: int, limit: int
) -> list[asyncpg.Record]:
    """Posts after `since` in seq order, deleted ones included (as tombstones),
    whoever wrote them."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_POST_COLUMNS} FROM event_posts p {_POST_JOINS}
        WHERE p.event_id = $1 AND p.seq > $2
        ORDER BY p.seq
        LIMIT $3
        """,
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
