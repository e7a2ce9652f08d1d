"""An event's lifecycle, in one place: draft → published → completed, or
published → cancelled. Nothing else changes `events.status`.

Each transition locks the event row first and then updates it guarded by the
status it expects, so two transitions of one event (a host's cancel racing the
scheduled completion, two publishes) happen one after the other and only the
first applies. Callers own authorisation; these functions own the rules.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from db.queries import audience as audience_q
from db.queries import connections as connections_q
from db.queries import events as q
from db.queries.events import CancelReason
from jobs.contract import enqueue_match_event
from server.errors import ApiError
from server.notifications.notify import notify_many
from server.payments.service import settle_cancelled_event

# Invitations a cancellation closes (and whose people hear of it).
OPEN_INVITATIONS = ("sent", "pending_payment", "confirmed")

TRANSITIONS = frozenset(
    {("draft", "published"), ("published", "completed"), ("published", "cancelled")}
)


def invalid_transition(current: str, target: str) -> ApiError:
    return ApiError(409, "invalid_transition", f"A {current} event cannot become {target}")


# Publishing checks: name (reported in the problem's `errors`) and message.
# min ≤ max and 18 ≤ age_min ≤ age_max ≤ 120 need no check here: every write
# enforces them (422, and the table's constraints), so a draft never breaks them.
_CHECKS = {
    "stops_required": "Add at least one stop",
    "start_in_future": "The first stop must start in the future",
    "attendees_required": "Set min_attendees and max_attendees",
    "ages_required": "Set age_min and age_max",
}


def _failing_checks(event: q.TransitionFacts) -> list[str]:
    failing = []
    if event.stop_count == 0:
        failing.append("stops_required")
    elif not event.starts_in_future:
        failing.append("start_in_future")
    if event.min_attendees is None or event.max_attendees is None:
        failing.append("attendees_required")
    if event.age_min is None or event.age_max is None:
        failing.append("ages_required")
    return failing


async def publish_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> None:
    """Draft → published once every check passes, and matching starts with it
    (the job is queued in the same transaction). 409 `invalid_transition`
    from any other status; 422 `not_publishable` listing every failing check."""
    async with conn.transaction():
        event = await q.lock_event(conn, event_id)
        if event is None:
            raise ApiError(404, "not_found", "No such event")
        if (event.status, "published") not in TRANSITIONS:
            raise invalid_transition(event.status, "published")
        failing = _failing_checks(event)
        if failing:
            raise ApiError(
                422,
                "not_publishable",
                "Not ready to publish: " + "; ".join(_CHECKS[name] for name in failing),
                extra={
                    "errors": [
                        {"message": _CHECKS[name], "key": name, "source": "event"}
                        for name in failing
                    ]
                },
            )
        if not await q.mark_published(conn, event_id):
            raise invalid_transition(event.status, "published")
        await enqueue_match_event(conn, event_id)


async def cancel_event(conn: asyncpg.Connection, event_id: uuid.UUID, reason: CancelReason) -> bool:
    """Published → cancelled, with every open invitation (sent, pending_payment,
    confirmed) cancelled in the same transaction. False, changing nothing, when
    the event is not published (already cancelled, completed, a draft, gone), so
    calling it twice is safe. Confirmation fees are refunded by jobs queued in the
    same transaction (pending payments are cancelled or, if paid, refunded)."""
    async with conn.transaction():
        event = await q.lock_event(conn, event_id)
        if event is None or (event.status, "cancelled") not in TRANSITIONS:
            return False
        if not await q.mark_cancelled(conn, event_id, reason):
            return False
        told = await audience_q.invitees(conn, event_id, OPEN_INVITATIONS)
        await q.cancel_open_invitations(conn, event_id)
        await settle_cancelled_event(conn, event_id)
        # Who paid (or is paying) hears that the fee comes back.
        paid = event.confirmation_fee > 0
        refunded = {r["user_id"] for r in told if paid and r["status"] != "sent"}
        data = {"event_id": event_id, "event_title": event.title}
        await notify_many(conn, refunded, "event_cancelled", {**data, "refund": True})
        # The team hears it too; the host only when they did not cancel it themselves.
        team = await audience_q.collaborators(conn, event_id)
        if reason != "host":
            team.append(event.host_user_id)
        others = [r["user_id"] for r in told] + team
        await notify_many(
            conn,
            [u for u in others if u not in refunded],
            "event_cancelled",
            {**data, "refund": False},
        )
        return True


async def complete_finished_events(conn: asyncpg.Connection, now: datetime) -> int:
    """Published events whose last stop ended by `now` become completed, their
    unanswered ('sent') invitations expire, and everyone who attended finds the
    others in their Memory Book, all in the caller's transaction; returns how many
    events completed. Attendance reported later adds its entries then."""
    completed = await q.complete_finished(conn, now)
    for event_id in completed:
        await connections_q.record_meetings(conn, event_id)
    return len(completed)
