"""Direct conversations between two people: messages with a per-conversation `seq`,
read markers, and the inbox.

A conversation exists for a caller only while they take part in it and the
other person is visible to them (`user_visible_to`: active, no block either
way); every reader below applies that.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from db.rows import NewItem, unzip_items

MESSAGE_COLUMNS = "m.id, m.conversation_id, m.seq, m.sender_profile_id, m.content, m.created_at"


# The caller's ($1, users.id) conversations: `mine` and `other` are the two
# participants; _VISIBLE keeps those with someone the caller may see.
def _my_conversations(user: str) -> str:
    """`user` is the SQL for the caller's users.id, such as "$1"."""
    return f"""
    FROM conversations c
    JOIN conversation_participants mine ON mine.conversation_id = c.id
    JOIN social_profiles me ON me.id = mine.profile_id AND me.user_id = {user}
    JOIN conversation_participants other
        ON other.conversation_id = c.id AND other.profile_id <> mine.profile_id
    JOIN social_profiles osp ON osp.id = other.profile_id
"""


_MY_CONVERSATIONS = _my_conversations("$1")
_VISIBLE = "user_visible_to($1, osp.user_id)"
_LAST_MESSAGE = "LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq"


def _member_sql(user: str, conversation: str) -> str:
    """The caller's profile id in the conversation: see member."""
    return (
        f"SELECT mine.profile_id {_my_conversations(user)}"
        f" WHERE user_visible_to({user}, osp.user_id) AND c.id = {conversation}"
    )


_MEMBER = _member_sql("$1", "$2")

_CONVERSATION_COLUMNS = """
    c.id, c.created_at, c.last_activity_at, c.last_seq,
    mine.last_read_seq, other.last_read_seq AS other_last_read_seq,
    other.profile_id AS other_profile_id,
    m.id AS message_id, m.seq AS message_seq, m.sender_profile_id AS message_sender_profile_id,
    m.content AS message_content, m.created_at AS message_created_at
"""


async def member(
    conn: asyncpg.Connection, user_id: uuid.UUID, conversation_id: uuid.UUID
) -> uuid.UUID | None:
    """The caller's profile id in this conversation, if it exists for them."""
    profile_id: uuid.UUID | None = await conn.fetchval(_MEMBER, user_id, conversation_id)
    return profile_id


async def conversations(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The caller's conversations, most recent activity first, with the last message."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_CONVERSATION_COLUMNS}
        {_MY_CONVERSATIONS} {_LAST_MESSAGE}
        WHERE {_VISIBLE}
          AND ($2::timestamptz IS NULL OR (c.last_activity_at, c.id) < ($2, $3::uuid))
        ORDER BY c.last_activity_at DESC, c.id DESC
        LIMIT $4
        """,
        user_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def conversation(
    conn: asyncpg.Connection, user_id: uuid.UUID, conversation_id: uuid.UUID
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {_CONVERSATION_COLUMNS}
        {_MY_CONVERSATIONS} {_LAST_MESSAGE}
        WHERE {_VISIBLE}
          AND c.id = $2
        """,
        user_id,
        conversation_id,
    )
    return row


async def visible_profile_owner(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, profile_id: uuid.UUID
) -> uuid.UUID | None:
    """The users.id behind a profile the viewer may see; None otherwise."""
    owner: uuid.UUID | None = await conn.fetchval(
        "SELECT user_id FROM social_profiles WHERE id = $2 AND user_visible_to($1, user_id)",
        viewer_id,
        profile_id,
    )
    return owner


async def attended_together(conn: asyncpg.Connection, a: uuid.UUID, b: uuid.UUID) -> bool:
    """Both profiles attended one same event (attendance status 'attended')."""
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM attendance x JOIN attendance y ON y.event_id = x.event_id
            WHERE x.profile_id = $1 AND x.status = 'attended'
              AND y.profile_id = $2 AND y.status = 'attended'
        )
        """,
        a,
        b,
    )
    return found


async def pair_conversation(
    conn: asyncpg.Connection, a: uuid.UUID, b: uuid.UUID
) -> uuid.UUID | None:
    """The conversation between these two profiles, if any."""
    conversation_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM conversations WHERE profile_low = LEAST($1::uuid, $2::uuid) "
        "AND profile_high = GREATEST($1::uuid, $2::uuid)",
        a,
        b,
    )
    return conversation_id


async def insert_conversation(
    conn: asyncpg.Connection, a: uuid.UUID, b: uuid.UUID
) -> uuid.UUID | None:
    """A new conversation between the two profiles with both as participants; None
    when the pair already has one (a concurrent insert waits for the first to
    commit, then finds it)."""
    conversation_id: uuid.UUID | None = await conn.fetchval(
        """
        INSERT INTO conversations (profile_low, profile_high)
        VALUES (LEAST($1::uuid, $2::uuid), GREATEST($1::uuid, $2::uuid))
        ON CONFLICT (profile_low, profile_high) DO NOTHING
        RETURNING id
        """,
        a,
        b,
    )
    if conversation_id is not None:
        await conn.execute(
            "INSERT INTO conversation_participants (conversation_id, profile_id) "
            "VALUES ($1, $2), ($1, $3)",
            conversation_id,
            a,
            b,
        )
    return conversation_id


async def append_message(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    conversation_id: uuid.UUID,
    content: str | None,
    client_id: uuid.UUID | None,
) -> asyncpg.Record:
    """One statement, one round trip: `member_profile_id` (the caller's profile
    id in the conversation as `member` finds it, NULL when it does not exist for
    them), and a message: the caller's message with this client_id if there is
    one (in whichever conversation), else, when `content` is given and the
    conversation exists for them, a new message with the conversation's next
    `seq` (`created` true), which also moves the sender's read marker to it
    (writing means having read). The seq is taken by an UPDATE of the
    conversation row, whose lock makes concurrent messages wait their turn and
    commit in order; a message that fails rolls its seq back, so seqs have no
    gaps. A retry racing the first try with the same client_id fails on the
    unique key (the first is not in this statement's snapshot): run it again to
    find the first."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        WITH sender AS ({_MEMBER}),
        earlier AS (
            SELECT * FROM messages
            WHERE sender_profile_id = (SELECT profile_id FROM sender) AND client_id = $4
        ), s AS (
            UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = now()
            WHERE id = $2 AND $3::text IS NOT NULL
              AND EXISTS (SELECT 1 FROM sender) AND NOT EXISTS (SELECT 1 FROM earlier)
            RETURNING last_seq
        ), new AS (
            INSERT INTO messages (conversation_id, sender_profile_id, content, seq, client_id)
            SELECT $2, sender.profile_id, $3, s.last_seq, $4 FROM s, sender
            RETURNING *
        ), r AS (
            UPDATE conversation_participants cp SET last_read_seq = new.seq
            FROM new
            WHERE cp.conversation_id = $2 AND cp.profile_id = new.sender_profile_id
              AND cp.last_read_seq < new.seq
        )
        SELECT (SELECT profile_id FROM sender) AS member_profile_id,
               EXISTS (SELECT 1 FROM new) AS created, {MESSAGE_COLUMNS}
        FROM (SELECT 1) one
        LEFT JOIN (SELECT * FROM new UNION ALL SELECT * FROM earlier) m ON true
        """,
        user_id,
        conversation_id,
        content,
        client_id,
    )
    assert row is not None
    return row


async def append_messages(
    conn: asyncpg.Connection, items: Sequence[NewItem]
) -> list[asyncpg.Record]:
    """Many messages (`channel_id` a conversation) in one statement, one
    transaction: each item whose author is in the conversation (as `member`
    finds it) and has no message with its client_id yet is stored with the
    conversation's next `seq`, in the items' order within a conversation, and
    moves its sender's read marker, as append_message does. Returns the stored
    messages (MESSAGE_COLUMNS plus `idx`, the item's position from 1); an item
    not stored is absent (the caller gives it append_message, which says why).
    The conversations' rows are locked in id order, so two batches cannot
    deadlock. Two items with one (author, client_id) must not be in one batch;
    a message committed meanwhile with an item's client_id fails the whole
    statement on the unique key."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        WITH item AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[])
                WITH ORDINALITY AS i(user_id, conversation_id, content, client_id, idx)
        ), admitted AS (
            SELECT i.*, sender.profile_id AS sender_profile_id,
                   row_number() OVER (PARTITION BY i.conversation_id ORDER BY i.idx) AS rank
            FROM item i
            CROSS JOIN LATERAL ({_member_sql("i.user_id", "i.conversation_id")}) sender
            WHERE NOT EXISTS (
                SELECT 1 FROM messages em
                WHERE em.sender_profile_id = sender.profile_id AND em.client_id = i.client_id)
        ), counted AS (
            SELECT conversation_id, count(*) AS n FROM admitted GROUP BY conversation_id
        ), locked AS (
            SELECT c.id FROM conversations c WHERE c.id IN (SELECT conversation_id FROM counted)
            ORDER BY c.id FOR UPDATE
        ), s AS (
            UPDATE conversations c SET last_seq = c.last_seq + k.n, last_activity_at = now()
            FROM counted k JOIN locked l ON l.id = k.conversation_id
            WHERE c.id = k.conversation_id
            RETURNING c.id, c.last_seq - k.n AS base
        ), planned AS (
            SELECT a.idx, a.conversation_id, a.sender_profile_id, a.content, a.client_id,
                   s.base + a.rank AS seq
            FROM admitted a JOIN s ON s.id = a.conversation_id
        ), new AS (
            INSERT INTO messages (conversation_id, sender_profile_id, content, seq, client_id)
            SELECT conversation_id, sender_profile_id, content, seq, client_id FROM planned
            RETURNING *
        ), r AS (
            UPDATE conversation_participants cp SET last_read_seq = t.seq
            FROM (
                SELECT conversation_id, sender_profile_id, max(seq) AS seq
                FROM planned GROUP BY conversation_id, sender_profile_id
            ) t
            WHERE cp.conversation_id = t.conversation_id
              AND cp.profile_id = t.sender_profile_id AND cp.last_read_seq < t.seq
        )
        SELECT planned.idx, {MESSAGE_COLUMNS}
        FROM new m
        JOIN planned ON planned.conversation_id = m.conversation_id AND planned.seq = m.seq
        """,
        *unzip_items(items),
    )
    return rows


async def messages_page(
    conn: asyncpg.Connection, conversation_id: uuid.UUID, before_seq: int | None, limit: int
) -> list[asyncpg.Record]:
    """Messages newest first, below `before_seq` if given."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {MESSAGE_COLUMNS} FROM messages m
        WHERE m.conversation_id = $1 AND ($2::bigint IS NULL OR m.seq < $2)
        ORDER BY m.seq DESC
        LIMIT $3
        """,
        conversation_id,
        before_seq,
        limit,
    )
    return rows


async def messages_since(
    conn: asyncpg.Connection, conversation_id: uuid.UUID, since: int, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {MESSAGE_COLUMNS} FROM messages m
        WHERE m.conversation_id = $1 AND m.seq > $2
        ORDER BY m.seq
        LIMIT $3
        """,
        conversation_id,
        since,
        limit,
    )
    return rows


async def last_seq(conn: asyncpg.Connection, conversation_id: uuid.UUID) -> int:
    seq: int | None = await conn.fetchval(
        "SELECT last_seq FROM conversations WHERE id = $1", conversation_id
    )
    return seq or 0


async def mark_read(
    conn: asyncpg.Connection, conversation_id: uuid.UUID, profile_id: uuid.UUID, seq: int
) -> int:
    """Move the read marker forward to `seq` (at most the conversation's last seq,
    never backwards); the stored marker."""
    stored: int | None = await conn.fetchval(
        """
        WITH moved AS (
            UPDATE conversation_participants cp SET last_read_seq = LEAST($3, c.last_seq)
            FROM conversations c
            WHERE c.id = cp.conversation_id AND cp.conversation_id = $1 AND cp.profile_id = $2
              AND cp.last_read_seq < LEAST($3, c.last_seq)
            RETURNING cp.last_read_seq
        )
        SELECT coalesce(
            (SELECT last_read_seq FROM moved),
            (SELECT last_read_seq FROM conversation_participants
             WHERE conversation_id = $1 AND profile_id = $2))
        """,
        conversation_id,
        profile_id,
        seq,
    )
    return stored or 0
