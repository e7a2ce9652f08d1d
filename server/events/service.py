"""Host-side event rules: drafts, itineraries, collaborators, publishing and
cancelling (through lifecycle.py), and the host's and guests' lists.

Who may do what is decided by the viewer's role, which SQL computes
(`viewer_role_sql` in db/queries/events.py): host, collaborator, attendee
(confirmed), invitee, or none. No role is 404, as if the event did not
exist; a role without the right is 403 `forbidden`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

import asyncpg
import msgspec

from db.queries import audience as audience_q
from db.queries import events as q
from db.queries import profiles as profiles_q
from db.queries import safety as safety_q
from db.queries.events import EventStatus
from db.queries.invitations import InvitationStatus
from jobs.contract import enqueue_match_event
from server.auth.phone import normalize_phone, to_e164
from server.errors import ApiError
from server.events import lifecycle
from server.events.schemas import (
    MAX_COLLABORATORS,
    TIME_ZONES,
    Collaborator,
    CollaboratorIn,
    EstimatedCost,
    Event,
    EventCreate,
    EventPatch,
    HostedEvent,
    Invitation,
    InvitationCounts,
    InvitationList,
    Stop,
    StopIn,
)
from server.hosts.schemas import HostSummary
from server.locations.schemas import Location
from server.notifications.notify import notify_many
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.profiles.schemas import PublicProfile
from server.profiles.service import public_profile, require_host_id
from server.storage import Storage

# Roles that see the exact places and the arrival signpost.
FULL_VIEW = frozenset({"host", "collaborator", "attendee"})
# What a published event may still change: nothing invitees accepted.
PUBLISHED_EDITABLE = frozenset(
    {"title", "description", "arrival_signpost", "min_attendees", "max_attendees"}
)
# A new text means a new embedding (the matching worker makes it).
TEXT_FIELDS = frozenset({"title", "description"})
# Changes that people coming to the event are told about.
ATTENDEE_FACING_FIELDS = frozenset({"title", "description", "arrival_signpost"})


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such event")


def _forbidden() -> ApiError:
    return ApiError(403, "forbidden", "Only the event's host may do this")


def _locked(detail: str) -> ApiError:
    return ApiError(409, "event_locked", detail)


async def _lock_as_host(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID
) -> q.LockedEvent:
    """The event, locked for this transaction, when the caller hosts it."""
    row = await q.lock_for_viewer(conn, user_id, event_id)
    if row is None or row.viewer_role is None:
        raise _not_found()
    if row.viewer_role != "host":
        raise _forbidden()
    return row


# ── Checks of what the host sends ──


@cache
def _check_timezone(name: str) -> None:
    if name not in TIME_ZONES:
        raise ApiError(422, "invalid_timezone", f"Not an IANA time zone name: {name!r}")


def _check_ranges(values: dict[str, Any]) -> None:
    low, high = values["min_attendees"], values["max_attendees"]
    if low is not None and high is not None and low > high:
        raise ApiError(422, "invalid_attendees", "min_attendees must not exceed max_attendees")
    age_min, age_max = values["age_min"], values["age_max"]
    if age_min is not None and age_max is not None and age_min > age_max:
        raise ApiError(422, "invalid_ages", "age_min must not exceed age_max")


def _check_stop_times(stops: Sequence[StopIn]) -> None:
    for n, stop in enumerate(stops, start=1):
        if stop.end_time <= stop.start_time:
            raise ApiError(422, "invalid_stops", f"Stop {n} must end after it starts")
        if n > 1 and stop.start_time < stops[n - 2].end_time:
            raise ApiError(
                422,
                "invalid_stops",
                f"Stop {n} starts before stop {n - 1} ends: list stops in time order, "
                "without overlaps",
            )


async def _write_stops(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, stops: Sequence[StopIn]
) -> None:
    wanted = [s.location_id for s in stops]
    usable = await q.usable_location_ids(conn, user_id, wanted)
    refused = [n for n, location_id in enumerate(wanted, start=1) if location_id not in usable]
    if refused:
        # 404 as for any place the caller may not know: unknown, someone else's,
        # or the place of a community host with a block either way.
        raise ApiError(
            404,
            "not_found",
            "No such location: use one you created (POST /v1/locations) or a community "
            f"host's place; not found: stop {', '.join(map(str, refused))}",
        )
    await q.replace_stops(
        conn,
        event_id,
        [(s.location_id, s.title, s.description, s.start_time, s.end_time) for s in stops],
    )


def _invalid_user() -> ApiError:
    # 404 whether there is no such person or a block stands either way.
    return ApiError(404, "not_found", "No such person to add")


async def _add_collaborator(
    conn: asyncpg.Connection, host_user_id: uuid.UUID, event_id: uuid.UUID, data: CollaboratorIn
) -> q.CollaboratorRow:
    """Add one collaborator; the caller holds the event's lock (or created it in
    this transaction), which keeps the count and the duplicate check exact."""
    user_id = data.user_id
    if data.profile_id is not None:
        owner = await safety_q.profile_owner(conn, data.profile_id)
        if owner is None or (user_id is not None and user_id != owner):
            raise _invalid_user()
        user_id = owner
    if user_id is None and data.first_name is None:
        raise ApiError(
            422,
            "collaborator_name_required",
            "Name the collaborator: user_id, profile_id or first_name",
        )
    if user_id is not None:
        if user_id == host_user_id:
            raise ApiError(422, "invalid_user", "You already host this event")
        if not await safety_q.user_visible_to(conn, host_user_id, user_id):
            raise _invalid_user()
    phone = to_e164(normalize_phone(data.phone_number)) if data.phone_number else None
    count, already = await q.collaborator_facts(conn, event_id, user_id)
    if already:
        raise ApiError(409, "already_collaborator", "This person already collaborates")
    if count >= MAX_COLLABORATORS:
        raise ApiError(
            409,
            "too_many_collaborators",
            f"An event can have at most {MAX_COLLABORATORS} collaborators",
        )
    try:
        return await q.insert_collaborator(
            conn,
            host_user_id,
            event_id,
            user_id=user_id,
            first_name=data.first_name,
            last_name=data.last_name,
            role=data.role,
            phone_number=phone,
        )
    except asyncpg.ForeignKeyViolationError:
        raise _invalid_user() from None  # their account was deleted meanwhile


def _stored_cost(cost: EstimatedCost | None) -> dict[str, Any] | None:
    if cost is None:
        return None
    stored: dict[str, Any] = msgspec.to_builtins(cost)
    return {key: value for key, value in stored.items() if value is not None}


# ── Reading one event ──


def _collaborator(row: q.CollaboratorRow, *, is_host: bool) -> Collaborator:
    return Collaborator(
        id=row.id,
        profile_id=row.profile_id,
        first_name=row.first_name,
        last_name=row.last_name,
        role=row.role,
        user_id=row.user_id if is_host else None,
        phone_number=row.phone_number if is_host else None,
        created_at=row.created_at,
    )


def _stop(row: q.StopRow, *, full: bool) -> Stop:
    location = Location(
        id=row.location_id,
        name=row.location_name,
        address=row.location_address,
        latitude=row.location_latitude,
        longitude=row.location_longitude,
        google_place_id=row.location_google_place_id,
    )
    return Stop(
        id=row.id,
        order=row.order,
        title=row.title,
        description=row.description,
        start_time=row.start_time,
        end_time=row.end_time,
        location_id=location.id if full else None,
        location=location if full else None,
    )


def _estimated_cost(stored: dict[str, Any] | None) -> EstimatedCost | None:
    return msgspec.convert(stored, EstimatedCost) if stored and "range" in stored else None


async def _view(conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID) -> Event:
    row = await q.event_view(conn, user_id, event_id)
    if row is None:
        raise _not_found()
    role = row.viewer_role
    full = role in FULL_VIEW
    stops = await q.stops(conn, event_id)
    collaborators = await q.collaborators(conn, user_id, event_id, is_host=role == "host")
    return Event(
        id=row.id,
        status=row.status,
        viewer_role=role,
        host_id=row.host_id,
        host=HostSummary(id=row.host_id, host_name=row.host_name),
        title=row.title,
        description=row.description,
        min_attendees=row.min_attendees,
        max_attendees=row.max_attendees,
        age_min=row.age_min,
        age_max=row.age_max,
        arrival_signpost=row.arrival_signpost if full else None,
        confirmation_fee=row.confirmation_fee,
        estimated_event_cost=_estimated_cost(row.estimated_event_cost),
        price_level=row.price_level,
        timezone=row.timezone,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        published_at=row.published_at,
        cancelled_at=row.cancelled_at,
        completed_at=row.completed_at,
        cancel_reason=row.cancel_reason,
        stops=[_stop(s, full=full) for s in stops],
        collaborators=[_collaborator(c, is_host=role == "host") for c in collaborators],
    )


async def get_event(conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID) -> Event:
    # One snapshot for the event, its stops and its collaborators.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _view(conn, user_id, event_id)


# ── Writing ──


async def create_event(conn: asyncpg.Connection, user_id: uuid.UUID, data: EventCreate) -> Event:
    """A draft, with its stops and collaborators, all or nothing."""
    values = {name: getattr(data, name) for name in q.EDITABLE_COLUMNS}
    values["estimated_event_cost"] = _stored_cost(data.estimated_event_cost)
    async with conn.transaction():
        host_id = await require_host_id(conn, user_id)
        _check_timezone(data.timezone)
        _check_ranges(values)
        _check_stop_times(data.stops)
        event_id = await q.insert_event(conn, host_id, values)
        if data.stops:
            await _write_stops(conn, user_id, event_id, data.stops)
        for collaborator in data.collaborators:
            await _add_collaborator(conn, user_id, event_id, collaborator)
    return await get_event(conn, user_id, event_id)


def _locked_fields(current: q.LockedEvent, changes: dict[str, Any]) -> list[str]:
    """The changes a published event refuses."""
    locked = sorted(set(changes) - PUBLISHED_EDITABLE)
    if "max_attendees" in changes and (
        changes["max_attendees"] is None or changes["max_attendees"] < current.max_attendees
    ):
        locked.append("max_attendees (may only grow)")
    if "min_attendees" in changes and (
        changes["min_attendees"] is None or changes["min_attendees"] > current.min_attendees
    ):
        locked.append("min_attendees (may only shrink)")
    return locked


async def patch_event(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, patch: EventPatch
) -> Event:
    """Change what was sent. A value equal to the current one is no change, so
    an app may send its whole form back whatever the event's status."""
    sent: dict[str, Any] = {
        name: getattr(patch, name)
        for name in patch.__struct_fields__
        if getattr(patch, name) is not msgspec.UNSET
    }
    if "estimated_event_cost" in sent:
        sent["estimated_event_cost"] = _stored_cost(sent["estimated_event_cost"])
    if "timezone" in sent:
        _check_timezone(sent["timezone"])
    async with conn.transaction():
        current = await _lock_as_host(conn, user_id, event_id)
        changes = {name: value for name, value in sent.items() if value != getattr(current, name)}
        status = current.status
        if changes and status in ("completed", "cancelled"):
            raise _locked(f"A {status} event cannot change")
        if changes and status == "published":
            locked = _locked_fields(current, changes)
            if locked:
                raise _locked("A published event cannot change: " + ", ".join(locked))
        _check_ranges({**{name: getattr(current, name) for name in q.EDITABLE_COLUMNS}, **changes})
        if changes:
            await q.update_event(
                conn, event_id, changes, clear_vector=bool(TEXT_FIELDS & set(changes))
            )
            if status == "published" and "max_attendees" in changes:
                await enqueue_match_event(conn, event_id)  # more places to fill
            if status == "published" and ATTENDEE_FACING_FIELDS & set(changes):
                people = await audience_q.invitees(conn, event_id, ("pending_payment", "confirmed"))
                await notify_many(
                    conn,
                    [r["user_id"] for r in people],
                    "event_updated",
                    {"event_id": event_id, "event_title": changes.get("title", current.title)},
                )
    return await get_event(conn, user_id, event_id)


async def put_stops(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, stops: Sequence[StopIn]
) -> Event:
    _check_stop_times(stops)
    async with conn.transaction():
        current = await _lock_as_host(conn, user_id, event_id)
        if current.status != "draft":
            raise _locked("The itinerary can change only while the event is a draft")
        await _write_stops(conn, user_id, event_id, stops)
    return await get_event(conn, user_id, event_id)


def _require_open(status: str) -> None:
    if status in ("completed", "cancelled"):
        raise _locked(f"A {status} event's collaborators cannot change")


async def add_collaborator(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, data: CollaboratorIn
) -> Collaborator:
    async with conn.transaction():
        current = await _lock_as_host(conn, user_id, event_id)
        _require_open(current.status)
        row = await _add_collaborator(conn, user_id, event_id, data)
    return _collaborator(row, is_host=True)


async def remove_collaborator(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, collaborator_id: uuid.UUID
) -> None:
    async with conn.transaction():
        current = await _lock_as_host(conn, user_id, event_id)
        _require_open(current.status)
        if not await q.delete_collaborator(conn, event_id, collaborator_id):
            raise ApiError(404, "not_found", "No such collaborator on this event")


async def publish(conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID) -> Event:
    async with conn.transaction():
        await _lock_as_host(conn, user_id, event_id)
        await lifecycle.publish_event(conn, event_id)
    return await get_event(conn, user_id, event_id)


async def cancel(conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID) -> Event:
    async with conn.transaction():
        current = await _lock_as_host(conn, user_id, event_id)
        if not await lifecycle.cancel_event(conn, event_id, "host"):
            raise lifecycle.invalid_transition(current.status, "cancelled")
    return await get_event(conn, user_id, event_id)


# ── Lists ──


def _counts(by_status: dict[str, int]) -> InvitationCounts:
    return msgspec.convert(by_status, InvitationCounts)


def _cursor_key(row: q.HostedEventRow | q.EventInvitationRow) -> tuple[datetime, uuid.UUID]:
    return (row.created_at, row.id)


async def hosted_events(
    conn: asyncpg.Connection, user_id: uuid.UUID, status: EventStatus | None, page: PageParams
) -> Page[HostedEvent]:
    host_id = await require_host_id(conn, user_id)
    after = decode_cursor(page.cursor, tuple[datetime, uuid.UUID]) if page.cursor else None
    rows = await q.hosted_events(conn, host_id, status, after, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=_cursor_key)
    events = [
        HostedEvent(
            id=row.id,
            host_id=host_id,
            title=row.title,
            status=row.status,
            timezone=row.timezone,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            min_attendees=row.min_attendees,
            max_attendees=row.max_attendees,
            confirmation_fee=row.confirmation_fee,
            created_at=row.created_at,
            published_at=row.published_at,
            cancelled_at=row.cancelled_at,
            completed_at=row.completed_at,
            invitation_counts=_counts(row.counts),
        )
        for row in items
    ]
    return Page(items=events, next_cursor=cursor)


async def _invitees(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    statuses: Sequence[str] | None,
    page: PageParams,
) -> tuple[list[tuple[q.EventInvitationRow, PublicProfile]], str | None]:
    """A page of the event's invitations with the invitees' public profiles,
    leaving out people the caller may not see."""
    after = decode_cursor(page.cursor, tuple[datetime, uuid.UUID]) if page.cursor else None
    rows = await q.invitations(conn, user_id, event_id, statuses, after, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=_cursor_key)
    profiles = await profiles_q.public_profiles(conn, user_id, [r.profile_id for r in items])
    return [
        (row, public_profile(profiles[row.profile_id], storage))
        for row in items
        if row.profile_id in profiles
    ], cursor


async def list_invitations(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    status: InvitationStatus | None,
    page: PageParams,
) -> InvitationList:
    """Host only; `counts` covers the whole event, whoever is hidden from the list."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        role = await q.viewer_role(conn, user_id, event_id)
        if role is None:
            raise _not_found()
        if role != "host":
            raise _forbidden()
        statuses = [status] if status is not None else None
        invitees, cursor = await _invitees(conn, storage, user_id, event_id, statuses, page)
        counts = await q.invitation_counts(conn, event_id)
    items = [
        Invitation(
            id=row.id,
            event_id=event_id,
            profile_id=profile.id,
            status=row.status,
            decline_reason=row.decline_reason,
            match_reason=row.match_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
            responded_at=row.responded_at,
            profile=profile,
        )
        for row, profile in invitees
    ]
    return InvitationList(items=items, next_cursor=cursor, counts=_counts(counts))


async def list_attendees(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    page: PageParams,
) -> Page[PublicProfile]:
    """Confirmed attendees, for the host, collaborators and confirmed attendees."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        role = await q.viewer_role(conn, user_id, event_id)
        if role is None:
            raise _not_found()
        if role not in FULL_VIEW:
            raise ApiError(403, "forbidden", "Only people going to the event see who else is")
        invitees, cursor = await _invitees(conn, storage, user_id, event_id, ["confirmed"], page)
    return Page(items=[profile for _, profile in invitees], next_cursor=cursor)
