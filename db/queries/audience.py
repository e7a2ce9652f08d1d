"""Who is told about what: the users each kind of notification goes to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

_BOARD_MEMBERS = """
    SELECT hp.user_id FROM events e JOIN host_profiles hp ON hp.id = e.host_id WHERE e.id = $1
    UNION
    SELECT c.user_id FROM event_collaborators c WHERE c.event_id = $1 AND c.user_id IS NOT NULL
    UNION
    SELECT sp.user_id FROM invitations i JOIN social_profiles sp ON sp.id = i.profile_id
    WHERE i.event_id = $1 AND i.status = 'confirmed'
"""


async def board_post_audience(
    conn: asyncpg.Connection, event_id: uuid.UUID, author: uuid.UUID
) -> asyncpg.Record:
    """(event_title, author_name, user_ids) for a new post: host, collaborators
    and confirmed attendees but the author and anyone the author may not reach
    (a block either way, an inactive account)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT e.title AS event_title,
               (SELECT coalesce(sp.preferred_name, sp.first_name, 'Someone') FROM social_profiles sp
                WHERE sp.user_id = $2) AS author_name,
               ARRAY(SELECT m.user_id FROM ({_BOARD_MEMBERS}) AS m(user_id)
                     WHERE m.user_id <> $2 AND user_visible_to(m.user_id, $2)) AS user_ids
        FROM events e WHERE e.id = $1
        """,
        event_id,
        author,
    )
    assert row is not None
    return row


async def message_recipient(
    conn: asyncpg.Connection, conversation_id: uuid.UUID, sender: uuid.UUID
) -> asyncpg.Record | None:
    """(user_id, sender_name) of the other participant, if the sender may reach them."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT other.user_id, coalesce(me.preferred_name, me.first_name, 'Someone') AS sender_name
        FROM conversation_participants mine
        JOIN social_profiles me ON me.id = mine.profile_id AND me.user_id = $2
        JOIN conversation_participants theirs
          ON theirs.conversation_id = mine.conversation_id AND theirs.profile_id <> mine.profile_id
        JOIN social_profiles other ON other.id = theirs.profile_id
        WHERE mine.conversation_id = $1 AND user_visible_to(other.user_id, $2)
        """,
        conversation_id,
        sender,
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
    """Events completed at or after `since`, with their confirmed users:
    (event_id, title, user_ids)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT e.id AS event_id, e.title, array_agg(sp.user_id) AS user_ids
        FROM events e
        JOIN invitations i ON i.event_id = e.id AND i.status = 'confirmed'
        JOIN social_profiles sp ON sp.id = i.profile_id
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
