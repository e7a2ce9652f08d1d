"""Invitations from the invitee's side: answering them, seats, and their lists.

Lock order, everywhere a seat can change: the event row, then the invitation,
then its payment. Accepting, webhooks, reconciliation and cancelling an event
all follow it, so they queue behind each other instead of deadlocking.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

# What the invitee sees of the event in their lists (no exact place).
EVENT_SUMMARY = """
    jsonb_build_object(
        'id', e.id, 'title', e.title, 'status', e.status, 'timezone', e.timezone,
        'starts_at', e.starts_at, 'ends_at', e.ends_at,
        'confirmation_fee', e.confirmation_fee,
        'estimated_event_cost', e.estimated_event_cost, 'price_level', e.price_level,
        'host', jsonb_build_object('id', hp.id, 'host_name', hp.host_name)
    )"""

INVITATION_COLUMNS = """
    i.id, i.event_id, i.profile_id, i.status, i.decline_reason, i.match_reason,
    i.created_at, i.updated_at, i.expires_at, i.responded_at, i.hold_expires_at"""


async def event_of_invitation(
    conn: asyncpg.Connection, invitation_id: uuid.UUID, user_id: uuid.UUID
) -> uuid.UUID | None:
    """The event of the user's own invitation, if the user may still see its host."""
    event_id: uuid.UUID | None = await conn.fetchval(
        """
        SELECT i.event_id
        FROM invitations i
        JOIN social_profiles sp ON sp.id = i.profile_id
        JOIN events e ON e.id = i.event_id
        JOIN host_profiles hp ON hp.id = e.host_id
        WHERE i.id = $1 AND sp.user_id = $2 AND user_visible_to($2, hp.user_id)
        """,
        invitation_id,
        user_id,
    )
    return event_id


async def lock_seats(conn: asyncpg.Connection, event_id: uuid.UUID) -> asyncpg.Record:
    """Lock the event (seat counts change one at a time) and read what accepting
    needs: status, start, capacity, fee."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT id, status, starts_at, max_attendees, confirmation_fee
        FROM events WHERE id = $1 FOR UPDATE
        """,
        event_id,
    )
    assert row is not None  # events are deleted only with their invitations
    return row


async def lock_invitation(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1 FOR UPDATE",
        invitation_id,
    )
    assert row is not None  # the caller found it in this transaction's snapshot
    return row


async def seats_taken(
    conn: asyncpg.Connection, event_id: uuid.UUID, now: dt.datetime, *, besides: uuid.UUID
) -> int:
    """Confirmed places plus holds still running, not counting `besides`."""
    taken: int = await conn.fetchval(
        """
        SELECT count(*) FROM invitations
        WHERE event_id = $1 AND id <> $3
          AND (status = 'confirmed' OR (status = 'pending_payment' AND hold_expires_at > $2))
        """,
        event_id,
        now,
        besides,
    )
    return taken


async def set_status(
    conn: asyncpg.Connection,
    invitation_id: uuid.UUID,
    status: str,
    now: dt.datetime,
    *,
    hold_expires_at: dt.datetime | None = None,
    decline_reason: str | None = None,
    responded: bool = False,
) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        UPDATE invitations i
        SET status = $2, hold_expires_at = $3, updated_at = $4,
            decline_reason = coalesce($5, decline_reason),
            responded_at = CASE WHEN $6 THEN $4 ELSE responded_at END
        WHERE id = $1
        RETURNING {INVITATION_COLUMNS}
        """,
        invitation_id,
        status,
        hold_expires_at,
        now,
        decline_reason,
        responded,
    )
    assert row is not None
    return row


_USER_INVITATIONS = f"""
    SELECT {INVITATION_COLUMNS}, {EVENT_SUMMARY} AS event
    FROM social_profiles sp
    JOIN invitations i ON i.profile_id = sp.id
    JOIN events e ON e.id = i.event_id
    JOIN host_profiles hp ON hp.id = e.host_id
    WHERE sp.user_id = $1 AND user_visible_to($1, hp.user_id)"""


async def user_invitation(
    conn: asyncpg.Connection, user_id: uuid.UUID, invitation_id: uuid.UUID
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        _USER_INVITATIONS + " AND i.id = $2", user_id, invitation_id
    )
    return row


async def user_invitations(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    status: str | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The user's invitations, newest first, with an event summary; invitations
    from hosts they may no longer see are left out."""
    rows: list[asyncpg.Record] = await conn.fetch(
        _USER_INVITATIONS
        + """
          AND ($2::text IS NULL OR i.status = $2)
          AND ($3::timestamptz IS NULL OR (i.created_at, i.id) < ($3, $4))
        ORDER BY i.created_at DESC, i.id DESC
        LIMIT $5
        """,
        user_id,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def user_events(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    upcoming: bool,
    now: dt.datetime,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Upcoming: published events the user is confirmed for that have not ended,
    soonest first. Past: events they attended (checked in, or confirmed for an
    event that completed), latest first."""
    order = "ASC" if upcoming else "DESC"
    compare = ">" if upcoming else "<"
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT e.starts_at AS sort_at, i.id AS invitation_id, {EVENT_SUMMARY} AS event
        FROM social_profiles sp
        JOIN invitations i ON i.profile_id = sp.id
        JOIN events e ON e.id = i.event_id
        JOIN host_profiles hp ON hp.id = e.host_id
        LEFT JOIN attendance a ON a.event_id = e.id AND a.profile_id = sp.id
        WHERE sp.user_id = $1
          AND user_visible_to($1, hp.user_id)
          AND CASE WHEN $2
                   THEN i.status = 'confirmed' AND e.status = 'published' AND e.ends_at > $3
                   ELSE a.status = 'attended'
                        OR (a.status IS NULL AND i.status = 'confirmed'
                            AND e.status = 'completed')
              END
          AND ($4::timestamptz IS NULL OR (e.starts_at, i.id) {compare} ($4, $5))
        ORDER BY e.starts_at {order}, i.id {order}
        LIMIT $6
        """,
        user_id,
        upcoming,
        now,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def invitation(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1", invitation_id
    )
    return row
