"""Invitations from the invitee's side: answering them, seats, and their lists.

Lock order, everywhere a seat can change: the event row, then the invitation,
then its payment. Accepting, webhooks, reconciliation and cancelling an event
all follow it, so they queue behind each other instead of deadlocking.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import asyncpg
import msgspec

from db.rows import many, one

# The invitations.status and invitations.decline_reason CHECKs.
InvitationStatus = Literal[
    "sent", "pending_payment", "confirmed", "declined", "expired", "payment_failed", "cancelled"
]
DeclineReason = Literal[
    "busy", "not_interested", "wants_variety", "too_far", "too_expensive", "other"
]

# What the invitee sees of the event in their lists (no exact place).
EVENT_SUMMARY = """
    jsonb_build_object(
        'id', e.id, 'title', e.title, 'status', e.status, 'timezone', e.timezone,
        'starts_at', e.starts_at, 'ends_at', e.ends_at,
        'confirmation_fee', e.confirmation_fee,
        'estimated_event_cost', e.estimated_event_cost, 'price_level', e.price_level,
        'host_id', hp.id,
        'host', jsonb_build_object('id', hp.id, 'host_name', hp.host_name)
    )"""

INVITATION_COLUMNS = """
    i.id, i.event_id, i.profile_id, i.status, i.decline_reason, i.match_reason,
    i.created_at, i.updated_at, i.expires_at, i.responded_at, i.hold_expires_at"""


class InvitationRow(msgspec.Struct, frozen=True):
    """INVITATION_COLUMNS."""

    id: uuid.UUID
    event_id: uuid.UUID
    profile_id: uuid.UUID
    status: InvitationStatus
    decline_reason: DeclineReason | None
    match_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime | None
    responded_at: dt.datetime | None
    # Set exactly while `pending_payment` (a CHECK).
    hold_expires_at: dt.datetime | None


class UserInvitationRow(InvitationRow, frozen=True):
    # EVENT_SUMMARY, decoded jsonb (its times are ISO strings).
    event: dict[str, Any]


class UserEventRow(msgspec.Struct, frozen=True):
    sort_at: dt.datetime
    invitation_id: uuid.UUID
    event: dict[str, Any]


class Seats(msgspec.Struct, frozen=True):
    """What accepting reads of the locked event."""

    id: uuid.UUID
    status: str
    # Nullable columns, but an event with invitations was published, which
    # requires stops and a maximum, and neither can be removed after.
    starts_at: dt.datetime
    max_attendees: int
    confirmation_fee: int


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


async def lock_seats(conn: asyncpg.Connection, event_id: uuid.UUID) -> Seats:
    """Lock the event (seat counts change one at a time) and read what accepting
    needs: status, start, capacity, fee."""
    row = await conn.fetchrow(
        """
        SELECT id, status, starts_at, max_attendees, confirmation_fee
        FROM events WHERE id = $1 FOR UPDATE
        """,
        event_id,
    )
    assert row is not None  # events are deleted only with their invitations
    return Seats(**row)


async def lock_invitation(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> InvitationRow:
    row = await conn.fetchrow(
        f"SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1 FOR UPDATE",
        invitation_id,
    )
    assert row is not None  # the caller found it in this transaction's snapshot
    return InvitationRow(**row)


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
) -> InvitationRow:
    row = await conn.fetchrow(
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
    return InvitationRow(**row)


_USER_INVITATIONS = f"""
    SELECT {INVITATION_COLUMNS}, {EVENT_SUMMARY} AS event
    FROM social_profiles sp
    JOIN invitations i ON i.profile_id = sp.id
    JOIN events e ON e.id = i.event_id
    JOIN host_profiles hp ON hp.id = e.host_id
    WHERE sp.user_id = $1 AND user_visible_to($1, hp.user_id)"""


async def user_invitation(
    conn: asyncpg.Connection, user_id: uuid.UUID, invitation_id: uuid.UUID
) -> UserInvitationRow | None:
    row = await conn.fetchrow(_USER_INVITATIONS + " AND i.id = $2", user_id, invitation_id)
    return one(UserInvitationRow, row)


async def user_invitations(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    status: str | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[UserInvitationRow]:
    """The user's invitations, newest first, with an event summary; invitations
    from hosts they may no longer see are left out."""
    rows = await conn.fetch(
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
    return many(UserInvitationRow, rows)


async def user_events(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    upcoming: bool,
    now: dt.datetime,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[UserEventRow]:
    """Upcoming: published events the user is confirmed for that have not ended,
    soonest first. Past: events they attended (checked in, or confirmed for an
    event that completed), latest first."""
    order = "ASC" if upcoming else "DESC"
    compare = ">" if upcoming else "<"
    rows = await conn.fetch(
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
    return many(UserEventRow, rows)


async def invitation(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> InvitationRow | None:
    row = await conn.fetchrow(
        f"SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1", invitation_id
    )
    return one(InvitationRow, row)
