"""Who is told about what: the users each kind of notification goes to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg


def _board_members(event: str) -> str:
    """Host, collaborators and confirmed attendees of the event `event` names."""
    return f"""
        SELECT hp.user_id FROM events he JOIN host_profiles hp ON hp.id = he.host_id
        WHERE he.id = {event}
        UNION
        SELECT c.user_id FROM event_collaborators c
        WHERE c.event_id = {event} AND c.user_id IS NOT NULL
        UNION
        SELECT sp.user_id FROM invitations i JOIN social_profiles sp ON sp.id = i.profile_id
        WHERE i.event_id = {event} AND i.status = 'confirmed'
    """


_NAME = "coalesce(sp.preferred_name, sp.first_name, 'Someone')"


async def take_sources(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Remove and return up to `limit` queued new items: (kind, item_id). Call in
    the transaction that notifies them, so they come back if it fails."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        DELETE FROM notification_sources WHERE id IN (
            SELECT id FROM notification_sources ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
        )
        RETURNING kind, item_id
        """,
        limit,
    )
    return rows


async def post_notice(conn: asyncpg.Connection, post_id: uuid.UUID) -> asyncpg.Record | None:
    """What a new post's notification needs: (event_id, event_title, author_name,
    content, user_ids), the readers being the board's members but the author and
    anyone the author may not reach (a block either way, an inactive account).
    None once the post is gone or deleted."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT p.event_id, e.title AS event_title, p.content,
               (SELECT {_NAME} FROM social_profiles sp WHERE sp.user_id = p.user_id)
                   AS author_name,
               ARRAY(SELECT m.user_id FROM ({_board_members("p.event_id")}) AS m(user_id)
                     WHERE m.user_id <> p.user_id AND user_visible_to(m.user_id, p.user_id))
                   AS user_ids
        FROM event_posts p JOIN events e ON e.id = p.event_id
        WHERE p.id = $1 AND p.deleted_at IS NULL
        """,
        post_id,
    )
    return row


async def message_notice(conn: asyncpg.Connection, message_id: uuid.UUID) -> asyncpg.Record | None:
    """What a new message's notification needs: (conversation_id, sender_name,
    content, user_id of the other participant), or None when the recipient may
    not hear from the sender (a block either way, an inactive account)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT m.conversation_id, m.content, {_NAME} AS sender_name, other.user_id
        FROM messages m
        JOIN social_profiles sp ON sp.id = m.sender_profile_id
        JOIN conversation_participants theirs
          ON theirs.conversation_id = m.conversation_id
         AND theirs.profile_id <> m.sender_profile_id
        JOIN social_profiles other ON other.id = theirs.profile_id
        WHERE m.id = $1 AND user_visible_to(other.user_id, sp.user_id)
        """,
        message_id,
    )
    return row


async def invitees(
    conn: asyncpg.Connection, event_id: uuid.UUID, statuses: Sequence[str]
) -> list[asyncpg.Record]:
    """Users with an invitation to the event in one of `statuses`: (user_id, status)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT sp.user_id, i.status FROM invitations i
        JOIN social_profiles sp ON sp.id = i.profile_id
        WHERE i.event_id = $1 AND i.status = ANY($2::text[])
        """,
        event_id,
        list(statuses),
    )
    return rows


async def collaborators(conn: asyncpg.Connection, event_id: uuid.UUID) -> list[uuid.UUID]:
    """The users.id of the event's collaborators who have an account."""
    rows = await conn.fetch(
        "SELECT DISTINCT user_id FROM event_collaborators "
        "WHERE event_id = $1 AND user_id IS NOT NULL",
        event_id,
    )
    return [r["user_id"] for r in rows]


async def invitation_owner(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> asyncpg.Record:
    """(user_id, event_id, event_title) of an invitation."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT sp.user_id, e.id AS event_id, e.title AS event_title
        FROM invitations i
        JOIN social_profiles sp ON sp.id = i.profile_id
        JOIN events e ON e.id = i.event_id
        WHERE i.id = $1
        """,
        invitation_id,
    )
    assert row is not None
    return row


async def events_starting(
    conn: asyncpg.Connection, after: datetime, until: datetime
) -> list[asyncpg.Record]:
    """Published events starting in (after, until], with their confirmed users:
    (event_id, title, starts_at, timezone, user_ids)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT e.id AS event_id, e.title, e.starts_at, e.timezone,
               array_agg(sp.user_id) AS user_ids
        FROM events e
        JOIN invitations i ON i.event_id = e.id AND i.status = 'confirmed'
        JOIN social_profiles sp ON sp.id = i.profile_id
        WHERE e.status = 'published' AND e.starts_at > $1 AND e.starts_at <= $2
        GROUP BY e.id
        """,
        after,
        until,
    )
    return rows


async def invitations_expiring(
    conn: asyncpg.Connection, now: datetime, until: datetime
) -> list[asyncpg.Record]:
    """Unanswered invitations expiring in (now, until]: (invitation_id, user_id,
    event_id, event_title, expires_at)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT i.id AS invitation_id, sp.user_id, e.id AS event_id, e.title AS event_title,
               i.expires_at
        FROM invitations i
        JOIN social_profiles sp ON sp.id = i.profile_id
        JOIN events e ON e.id = i.event_id
        WHERE i.status = 'sent' AND i.expires_at > $1 AND i.expires_at <= $2
        """,
        now,
        until,
    )
    return rows


async def events_completed_since(conn: asyncpg.Connection, since: datetime) -> list[asyncpg.Record]:
    """Events completed at or after `since`, with the users who attended them:
    (event_id, title, user_ids)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT e.id AS event_id, e.title, array_agg(sp.user_id) AS user_ids
        FROM events e
        JOIN attendance a ON a.event_id = e.id AND a.status = 'attended'
        JOIN social_profiles sp ON sp.id = a.profile_id
        WHERE e.status = 'completed' AND e.completed_at >= $1
        GROUP BY e.id
        """,
        since,
    )
    return rows


async def wave_invitees(
    conn: asyncpg.Connection, event_id: uuid.UUID, profile_ids: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    """The invitations just sent to these profiles: (invitation_id, user_id, match_reason)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT i.id AS invitation_id, sp.user_id, i.match_reason
        FROM invitations i JOIN social_profiles sp ON sp.id = i.profile_id
        WHERE i.event_id = $1 AND i.profile_id = ANY($2::uuid[])
        """,
        event_id,
        list(profile_ids),
    )
    return rows
