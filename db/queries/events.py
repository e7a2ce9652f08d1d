"""Events: the host's side (drafts, stops, collaborators, lifecycle, dashboards)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

from db.queries.invitations import InvitationStatus
from db.rows import many, one

# The events.status and events.cancel_reason CHECKs.
EventStatus = Literal["draft", "published", "completed", "cancelled"]
CancelReason = Literal["host", "too_few_attendees"]
# What viewer_role_sql computes (NULL: no role at all).
ViewerRole = Literal["host", "collaborator", "attendee", "invitee"]


async def event_exists(conn: asyncpg.Connection, event_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM events WHERE id = $1)", event_id
    )
    return found


def viewer_role_sql(viewer: str) -> str:
    """SQL for the viewer's role in event `e` hosted by `hp` (host_profiles):
    'host', 'collaborator', 'attendee' (confirmed invitation), 'invitee' (an
    invitation in any other status), or NULL: a stranger, or someone the host
    may not be shown to (user_visible_to), who must not learn the event exists.
    `viewer` is a placeholder such as "$1"."""
    return f"""
        CASE
            WHEN hp.user_id = {viewer} THEN 'host'
            WHEN NOT user_visible_to({viewer}, hp.user_id) THEN NULL
            WHEN EXISTS (
                SELECT 1 FROM event_collaborators vc
                WHERE vc.event_id = e.id AND vc.user_id = {viewer}
            ) THEN 'collaborator'
            ELSE (
                SELECT CASE WHEN vi.status = 'confirmed' THEN 'attendee' ELSE 'invitee' END
                FROM invitations vi JOIN social_profiles vsp ON vsp.id = vi.profile_id
                WHERE vi.event_id = e.id AND vsp.user_id = {viewer}
            )
        END"""


# Columns the host writes through POST/PATCH /v1/events.
EDITABLE_COLUMNS = (
    "title",
    "description",
    "min_attendees",
    "max_attendees",
    "age_min",
    "age_max",
    "arrival_signpost",
    "confirmation_fee",
    "estimated_event_cost",
    "timezone",
)
_EDITABLE = ", ".join(f"e.{c}" for c in EDITABLE_COLUMNS)


class LockedEvent(msgspec.Struct, frozen=True):
    """lock_for_viewer: the editable columns (EDITABLE_COLUMNS), status, host and
    the viewer's role."""

    id: uuid.UUID
    status: EventStatus
    host_id: uuid.UUID
    host_user_id: uuid.UUID
    title: str
    description: str | None
    min_attendees: int | None
    max_attendees: int | None
    age_min: int | None
    age_max: int | None
    arrival_signpost: str | None
    confirmation_fee: int
    estimated_event_cost: dict[str, Any] | None
    timezone: str
    viewer_role: ViewerRole | None


class EventView(msgspec.Struct, frozen=True):
    id: uuid.UUID
    status: EventStatus
    title: str
    description: str | None
    min_attendees: int | None
    max_attendees: int | None
    age_min: int | None
    age_max: int | None
    arrival_signpost: str | None
    confirmation_fee: int
    estimated_event_cost: dict[str, Any] | None
    timezone: str
    price_level: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    cancel_reason: CancelReason | None
    host_id: uuid.UUID
    host_name: str
    viewer_role: ViewerRole


class StopRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    order: int
    title: str | None
    description: str | None
    # Nullable columns, but every write (replace_stops) sets both.
    start_time: datetime
    end_time: datetime
    location_id: uuid.UUID
    location_name: str | None
    location_address: str | None
    location_latitude: float
    location_longitude: float
    location_google_place_id: str | None


async def insert_event(
    conn: asyncpg.Connection, host_id: uuid.UUID, values: dict[str, Any]
) -> uuid.UUID:
    columns = ", ".join(EDITABLE_COLUMNS)
    placeholders = ", ".join(f"${i}" for i in range(2, len(EDITABLE_COLUMNS) + 2))
    event_id: uuid.UUID = await conn.fetchval(
        f"INSERT INTO events (host_id, {columns}) VALUES ($1, {placeholders}) RETURNING id",
        host_id,
        *(values[c] for c in EDITABLE_COLUMNS),
    )
    return event_id


async def lock_for_viewer(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID
) -> LockedEvent | None:
    """The event's editable columns, status, host and the viewer's role, with the
    event row locked until the transaction ends; None when there is no such event."""
    row = await conn.fetchrow(
        f"""
        SELECT e.id, e.status, e.host_id, hp.user_id AS host_user_id, {_EDITABLE},
               {viewer_role_sql("$1")} AS viewer_role
        FROM events e JOIN host_profiles hp ON hp.id = e.host_id
        WHERE e.id = $2
        FOR UPDATE OF e
        """,
        viewer_id,
        event_id,
    )
    return one(LockedEvent, row)


async def viewer_role(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID
) -> str | None:
    role: str | None = await conn.fetchval(
        f"""
        SELECT {viewer_role_sql("$1")}
        FROM events e JOIN host_profiles hp ON hp.id = e.host_id
        WHERE e.id = $2
        """,
        viewer_id,
        event_id,
    )
    return role


async def update_event(
    conn: asyncpg.Connection, event_id: uuid.UUID, changes: dict[str, Any], *, clear_vector: bool
) -> None:
    """Write some editable columns; `clear_vector` drops the embedding in the same
    statement, so the matching worker never ranks with a stale one."""
    unknown = set(changes) - set(EDITABLE_COLUMNS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    columns = list(changes)
    assignments = "".join(f"{c} = ${i}, " for i, c in enumerate(columns, start=2))
    if clear_vector:
        assignments += "event_vector = NULL, embedding_model = NULL, "
    await conn.execute(
        f"UPDATE events SET {assignments}updated_at = now() WHERE id = $1",
        event_id,
        *(changes[c] for c in columns),
    )


async def event_view(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID
) -> EventView | None:
    """The event as the API shows it, with the viewer's role; None when the viewer
    has none. Internal columns (vector, matching bookkeeping) are never read."""
    row = await conn.fetchrow(
        f"""
        SELECT e.id, e.status, {_EDITABLE}, e.price_level, e.starts_at, e.ends_at,
               e.created_at, e.updated_at, e.published_at, e.cancelled_at, e.completed_at,
               e.cancel_reason, hp.id AS host_id, hp.host_name, r.viewer_role
        FROM events e
        JOIN host_profiles hp ON hp.id = e.host_id
        CROSS JOIN LATERAL (SELECT {viewer_role_sql("$1")} AS viewer_role) r
        WHERE e.id = $2 AND r.viewer_role IS NOT NULL
        """,
        viewer_id,
        event_id,
    )
    return one(EventView, row)


async def stops(conn: asyncpg.Connection, event_id: uuid.UUID) -> list[StopRow]:
    rows = await conn.fetch(
        """
        SELECT s.id, s."order", s.title, s.description, s.start_time, s.end_time,
               l.id AS location_id, l.name AS location_name, l.address AS location_address,
               l.latitude AS location_latitude, l.longitude AS location_longitude,
               l.google_place_id AS location_google_place_id
        FROM event_itinerary_stops s JOIN locations l ON l.id = s.location_id
        WHERE s.event_id = $1
        ORDER BY s."order"
        """,
        event_id,
    )
    return many(StopRow, rows)


async def usable_location_ids(
    conn: asyncpg.Connection, user_id: uuid.UUID, location_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of the locations a host may put in an itinerary: ones they created, and
    places of community hosts they may see (public on those hosts' pages)."""
    rows = await conn.fetch(
        """
        SELECT l.id FROM locations l
        WHERE l.id = ANY ($2::uuid[])
          AND (
              l.created_by_user_id = $1
              OR EXISTS (
                  SELECT 1 FROM host_profiles hp
                  WHERE hp.location_id = l.id
                    AND hp.host_type = 'community'
                    AND user_visible_to($1, hp.user_id)
              )
          )
        """,
        user_id,
        list(location_ids),
    )
    return {r["id"] for r in rows}


async def replace_stops(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    stops: Sequence[tuple[uuid.UUID, str | None, str | None, datetime, datetime]],
) -> None:
    """Make the itinerary exactly `stops` (location_id, title, description, start,
    end), numbered in list order, and keep the event's span in step."""
    await conn.execute("DELETE FROM event_itinerary_stops WHERE event_id = $1", event_id)
    await conn.execute(
        """
        INSERT INTO event_itinerary_stops
            (event_id, "order", location_id, title, description, start_time, end_time)
        SELECT $1, s.n, s.location_id, s.title, s.description, s.start_time, s.end_time
        FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
             WITH ORDINALITY AS s(location_id, title, description, start_time, end_time, n)
        """,
        event_id,
        [s[0] for s in stops],
        [s[1] for s in stops],
        [s[2] for s in stops],
        [s[3] for s in stops],
        [s[4] for s in stops],
    )
    await conn.execute(
        """
        UPDATE events e SET starts_at = t.starts_at, ends_at = t.ends_at, updated_at = now()
        FROM (
            SELECT min(start_time) AS starts_at, max(end_time) AS ends_at
            FROM event_itinerary_stops WHERE event_id = $1
        ) t
        WHERE e.id = $1
        """,
        event_id,
    )


# ── Collaborators ──


class CollaboratorRow(msgspec.Struct, frozen=True):
    """COLLABORATOR_COLUMNS; `profile_id` only when the viewer may see them."""

    id: uuid.UUID
    user_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    first_name: str | None
    last_name: str | None
    role: str | None
    phone_number: str | None
    created_at: datetime


COLLABORATOR_COLUMNS = """
    c.id, c.user_id, sp.id AS profile_id, coalesce(c.first_name, sp.first_name) AS first_name,
    c.last_name, c.role, c.phone_number, c.created_at
"""


async def collaborators(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, event_id: uuid.UUID, *, is_host: bool
) -> list[CollaboratorRow]:
    """The event's collaborators in the order they were added. A collaborator who is
    a user the viewer may not see is left out, except for the host (who manages
    them), and even then shows no profile."""
    rows = await conn.fetch(
        f"""
        SELECT {COLLABORATOR_COLUMNS}
        FROM event_collaborators c
        LEFT JOIN social_profiles sp
            ON sp.user_id = c.user_id AND user_visible_to($1, c.user_id)
        WHERE c.event_id = $2
          AND (c.user_id IS NULL OR $3 OR user_visible_to($1, c.user_id))
        ORDER BY c.created_at, c.id
        """,
        viewer_id,
        event_id,
        is_host,
    )
    return many(CollaboratorRow, rows)


async def collaborator_facts(
    conn: asyncpg.Connection, event_id: uuid.UUID, user_id: uuid.UUID | None
) -> tuple[int, bool]:
    """(how many collaborators the event has, whether `user_id` is one of them)."""
    row = await conn.fetchrow(
        """
        SELECT count(*) AS n,
               coalesce(bool_or(user_id = $2), false) AS already
        FROM event_collaborators WHERE event_id = $1
        """,
        event_id,
        user_id,
    )
    assert row is not None
    return row["n"], row["already"]


async def insert_collaborator(
    conn: asyncpg.Connection,
    viewer_id: uuid.UUID,
    event_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None,
    first_name: str | None,
    last_name: str | None,
    role: str | None,
    phone_number: str | None,
) -> CollaboratorRow:
    row = await conn.fetchrow(
        f"""
        WITH c AS (
            -- clock_timestamp(): several added in one transaction keep their order.
            INSERT INTO event_collaborators
                (event_id, user_id, first_name, last_name, role, phone_number, created_at)
            VALUES ($2, $3, $4, $5, $6, $7, clock_timestamp())
            RETURNING *
        )
        SELECT {COLLABORATOR_COLUMNS}
        FROM c
        LEFT JOIN social_profiles sp
            ON sp.user_id = c.user_id AND user_visible_to($1, c.user_id)
        """,
        viewer_id,
        event_id,
        user_id,
        first_name,
        last_name,
        role,
        phone_number,
    )
    return CollaboratorRow(**row)


async def delete_collaborator(
    conn: asyncpg.Connection, event_id: uuid.UUID, collaborator_id: uuid.UUID
) -> bool:
    deleted: str = await conn.execute(
        "DELETE FROM event_collaborators WHERE id = $2 AND event_id = $1",
        event_id,
        collaborator_id,
    )
    return deleted != "DELETE 0"


# ── Lifecycle ──


class TransitionFacts(msgspec.Struct, frozen=True):
    status: EventStatus
    host_user_id: uuid.UUID
    title: str
    confirmation_fee: int
    min_attendees: int | None
    max_attendees: int | None
    age_min: int | None
    age_max: int | None
    stop_count: int
    # NULL without stops.
    starts_in_future: bool | None


async def lock_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> TransitionFacts | None:
    """The event's status and what publishing checks, with the row locked until
    the transaction ends (transitions of one event happen one at a time)."""
    row = await conn.fetchrow(
        """
        SELECT e.status, hp.user_id AS host_user_id, e.title, e.confirmation_fee,
               e.min_attendees, e.max_attendees, e.age_min, e.age_max, t.stop_count,
               t.first_start > now() AS starts_in_future
        FROM events e
        JOIN host_profiles hp ON hp.id = e.host_id
        CROSS JOIN LATERAL (
            SELECT count(*) AS stop_count, min(s.start_time) AS first_start
            FROM event_itinerary_stops s WHERE s.event_id = e.id
        ) t
        WHERE e.id = $1
        FOR UPDATE OF e
        """,
        event_id,
    )
    return one(TransitionFacts, row)


async def mark_published(conn: asyncpg.Connection, event_id: uuid.UUID) -> bool:
    found = await conn.fetchval(
        """
        UPDATE events SET status = 'published', published_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'draft'
        RETURNING id
        """,
        event_id,
    )
    return found is not None


async def mark_cancelled(conn: asyncpg.Connection, event_id: uuid.UUID, reason: str) -> bool:
    found = await conn.fetchval(
        """
        UPDATE events
        SET status = 'cancelled', cancelled_at = now(), cancel_reason = $2, updated_at = now()
        WHERE id = $1 AND status = 'published'
        RETURNING id
        """,
        event_id,
        reason,
    )
    return found is not None


async def cancel_open_invitations(conn: asyncpg.Connection, event_id: uuid.UUID) -> int:
    """Cancel every invitation that still holds or offers a place."""
    result: str = await conn.execute(
        """
        UPDATE invitations SET status = 'cancelled', hold_expires_at = NULL, updated_at = now()
        WHERE event_id = $1 AND status IN ('sent', 'pending_payment', 'confirmed')
        """,
        event_id,
    )
    return int(result.split()[-1])


async def complete_finished(conn: asyncpg.Connection, now: datetime) -> list[uuid.UUID]:
    """Published events that ended by `now` become completed, in one statement; their
    unanswered invitations expire. Row locks make it wait for, and then skip, an
    event that a concurrent cancellation holds. Returns the completed events."""
    rows = await conn.fetch(
        """
        WITH done AS (
            UPDATE events SET status = 'completed', completed_at = $1, updated_at = $1
            WHERE status = 'published' AND ends_at <= $1
            RETURNING id
        ), expired AS (
            UPDATE invitations i SET status = 'expired', updated_at = $1
            FROM done WHERE i.event_id = done.id AND i.status = 'sent'
        )
        SELECT id FROM done
        """,
        now,
    )
    return [row["id"] for row in rows]


# ── Dashboards and lists ──


class HostedEventRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    title: str
    status: EventStatus
    timezone: str
    starts_at: datetime | None
    ends_at: datetime | None
    min_attendees: int | None
    max_attendees: int | None
    confirmation_fee: int
    created_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    # {status: n}, statuses without invitations left out.
    counts: dict[str, int]


class EventInvitationRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    profile_id: uuid.UUID
    status: InvitationStatus
    decline_reason: str | None
    match_reason: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    responded_at: datetime | None


async def underfilled_events(conn: asyncpg.Connection, cutoff: datetime) -> list[uuid.UUID]:
    """Published events starting before `cutoff` with fewer confirmed people than
    their minimum."""
    rows = await conn.fetch(
        """
        SELECT e.id FROM events e
        WHERE e.status = 'published' AND e.starts_at <= $1
          AND (SELECT count(*) FROM invitations i
               WHERE i.event_id = e.id AND i.status = 'confirmed') < e.min_attendees
        """,
        cutoff,
    )
    return [r["id"] for r in rows]


async def hosted_events(
    conn: asyncpg.Connection,
    host_id: uuid.UUID,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[HostedEventRow]:
    """The host's events, newest created first, each with its invitations counted
    by status (`counts`: {status: n}, statuses without invitations left out)."""
    rows = await conn.fetch(
        """
        SELECT e.id, e.title, e.status, e.timezone, e.starts_at, e.ends_at, e.min_attendees,
               e.max_attendees, e.confirmation_fee, e.created_at, e.published_at,
               e.cancelled_at, e.completed_at,
               coalesce((
                   SELECT jsonb_object_agg(n.status, n.n)
                   FROM (SELECT i.status, count(*) AS n FROM invitations i
                         WHERE i.event_id = e.id GROUP BY i.status) n
               ), '{}'::jsonb) AS counts
        FROM events e
        WHERE e.host_id = $1
          AND ($2::text IS NULL OR e.status = $2)
          AND ($3::timestamptz IS NULL OR (e.created_at, e.id) < ($3, $4))
        ORDER BY e.created_at DESC, e.id DESC
        LIMIT $5
        """,
        host_id,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return many(HostedEventRow, rows)


async def invitation_counts(conn: asyncpg.Connection, event_id: uuid.UUID) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT status, count(*) AS n FROM invitations WHERE event_id = $1 GROUP BY status",
        event_id,
    )
    return {r["status"]: r["n"] for r in rows}


async def invitations(
    conn: asyncpg.Connection,
    viewer_id: uuid.UUID,
    event_id: uuid.UUID,
    statuses: Sequence[str] | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[EventInvitationRow]:
    """The event's invitations, newest first, leaving out invitees the viewer may
    not see; `statuses` None means all."""
    rows = await conn.fetch(
        """
        SELECT i.id, i.profile_id, i.status, i.decline_reason, i.match_reason, i.created_at,
               i.updated_at, i.expires_at, i.responded_at
        FROM invitations i JOIN social_profiles sp ON sp.id = i.profile_id
        WHERE i.event_id = $2
          AND ($3::text[] IS NULL OR i.status = ANY ($3))
          AND user_visible_to($1, sp.user_id)
          AND ($4::timestamptz IS NULL OR (i.created_at, i.id) < ($4, $5))
        ORDER BY i.created_at DESC, i.id DESC
        LIMIT $6
        """,
        viewer_id,
        event_id,
        list(statuses) if statuses is not None else None,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return many(EventInvitationRow, rows)
