"""The invitee's rules: accept (hold a seat, then pay), decline, cancel, and lists.

Seats: accepting locks the event row and counts confirmed places plus holds
still running, so `max_attendees` is never exceeded whichever process serves
the request. A paid seat is held for SEAT_HOLD_MINUTES while the PaymentSheet
is open; the webhook (or the reconciliation job) confirms it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import msgspec

from db.queries import attendance as attendance_q
from db.queries import invitations as q
from db.queries import payments as payments_q
from jobs.contract import (
    enqueue_match_event,
    enqueue_member_metrics,
    enqueue_reconcile,
    enqueue_user_vectors_changed,
)
from server.errors import ApiError
from server.invitations.schemas import AcceptResult, EventSummary, Invitation, MyEvent
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.payments import service as payments
from server.payments.gateway import StripeGateway
from server.payments.schemas import Payment
from server.settings import Settings


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such invitation")


def _transition(status: str, action: str) -> ApiError:
    return ApiError(409, "invalid_transition", f"A {status} invitation cannot be {action}")


def _expired() -> ApiError:
    return ApiError(410, "invitation_expired", "This invitation has expired")


def _summary(stored: dict[str, Any]) -> EventSummary:
    # strict=False: the jsonb summary carries its times as ISO strings.
    return msgspec.convert(stored, EventSummary, strict=False)


def _invitation(row: q.UserInvitationRow) -> Invitation:
    return Invitation(
        id=row.id,
        event_id=row.event_id,
        profile_id=row.profile_id,
        status=row.status,
        decline_reason=row.decline_reason,
        match_reason=row.match_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        responded_at=row.responded_at,
        hold_expires_at=row.hold_expires_at,
        event=_summary(row.event),
    )


async def _view(
    conn: asyncpg.Connection, user_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation:
    row = await q.user_invitation(conn, user_id, invitation_id)
    if row is None:
        raise _not_found()
    return _invitation(row)


async def _locked(
    conn: asyncpg.Connection, user_id: uuid.UUID, invitation_id: uuid.UUID
) -> tuple[q.Seats, q.InvitationRow]:
    """(event, invitation), locked in the seat lock order; inside a transaction."""
    event_id = await q.event_of_invitation(conn, invitation_id, user_id)
    if event_id is None:
        raise _not_found()
    event = await q.lock_seats(conn, event_id)
    return event, await q.lock_invitation(conn, invitation_id)


def _is_expired(invitation: q.InvitationRow, now: dt.datetime) -> bool:
    if invitation.status == "expired":
        return True
    deadline = invitation.expires_at
    return invitation.status == "sent" and deadline is not None and deadline <= now


async def _hold(
    conn: asyncpg.Connection,
    settings: Settings,
    user_id: uuid.UUID,
    invitation_id: uuid.UUID,
    payments_on: bool,
    now: dt.datetime,
) -> asyncpg.Record | None:
    """Take a seat: confirmed at once when free, else held with a payment attempt
    (returned) to pay within the hold. A repeated accept resumes the hold."""
    async with conn.transaction():
        event, invitation = await _locked(conn, user_id, invitation_id)
        status = invitation.status
        if status == "confirmed":
            return None
        held = (
            status == "pending_payment"
            and invitation.hold_expires_at is not None
            and invitation.hold_expires_at > now
        )
        if status not in ("sent", "payment_failed", "pending_payment"):
            if _is_expired(invitation, now):
                raise _expired()
            raise _transition(status, "accepted")
        if _is_expired(invitation, now):
            raise _expired()
        if event.status != "published" or event.starts_at <= now:
            raise ApiError(409, "event_closed", "This event no longer takes guests")
        fee = event.confirmation_fee
        if fee > 0 and not payments_on:
            raise ApiError(503, "payments_unavailable", "Payments are not configured here")
        if not held:
            taken = await q.seats_taken(conn, event.id, now, besides=invitation_id)
            if taken >= event.max_attendees:
                raise ApiError(409, "event_full", "Every seat is taken")
        if fee == 0:
            await q.set_status(conn, invitation_id, "confirmed", now, responded=True)
            return None
        hold_until = now + dt.timedelta(minutes=settings.seat_hold_minutes)
        await q.set_status(
            conn, invitation_id, "pending_payment", now, hold_expires_at=hold_until, responded=True
        )
        return await _attempt(conn, settings, invitation, user_id, fee)


async def _attempt(
    conn: asyncpg.Connection,
    settings: Settings,
    invitation: q.InvitationRow,
    user_id: uuid.UUID,
    fee: int,
) -> asyncpg.Record:
    """The payment attempt to pay with: the current one while it can still be paid
    (pending, or failed with a PaymentIntent that takes another card), else a new one."""
    latest = await payments_q.lock_latest_attempt(conn, invitation.id)
    if latest is not None and latest["amount_in_cents"] == fee:
        reusable = latest["status"] == "pending" or (
            latest["status"] == "failed" and latest["stripe_payment_intent_id"] is not None
        )
        if reusable:
            if latest["status"] != "pending":
                await payments_q.update(conn, latest["id"], status="pending")
            return latest
    return await payments_q.insert_attempt(
        conn,
        user_id=user_id,
        event_id=invitation.event_id,
        invitation_id=invitation.id,
        amount=fee,
        currency=settings.payment_currency,
        attempt=1 if latest is None else latest["attempt"] + 1,
    )


async def accept(
    conn: asyncpg.Connection,
    gateway: StripeGateway | None,
    settings: Settings,
    user_id: uuid.UUID,
    invitation_id: uuid.UUID,
) -> AcceptResult:
    now = dt.datetime.now(dt.UTC)
    attempt = await _hold(conn, settings, user_id, invitation_id, gateway is not None, now)
    sheet = None
    if attempt is not None:
        assert gateway is not None
        sheet = await payments.start_payment(conn, gateway, settings, attempt, now)
    invitation = await _view(conn, user_id, invitation_id)
    # Stripe may have reported the payment already (a retried accept).
    return AcceptResult(
        invitation=invitation, payment=sheet if invitation.status == "pending_payment" else None
    )


async def decline(
    conn: asyncpg.Connection, user_id: uuid.UUID, invitation_id: uuid.UUID, reason: str | None
) -> Invitation:
    now = dt.datetime.now(dt.UTC)
    async with conn.transaction():
        event, invitation = await _locked(conn, user_id, invitation_id)
        status = invitation.status
        if status != "declined":
            if _is_expired(invitation, now):
                raise _expired()
            if status not in ("sent", "payment_failed", "pending_payment"):
                raise _transition(status, "declined")
            await q.set_status(
                conn, invitation_id, "declined", now, decline_reason=reason, responded=True
            )
            if status == "pending_payment":
                await _settle_open_attempt(conn, invitation_id)
            await enqueue_match_event(conn, event.id)
            if reason == "not_interested":
                await enqueue_user_vectors_changed(conn, user_id)
    return await _view(conn, user_id, invitation_id)


async def _settle_open_attempt(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> None:
    # The PaymentIntent is cancelled by the job (or refunded, if paid meanwhile).
    latest = await payments_q.lock_latest_attempt(conn, invitation_id)
    if latest is not None and latest["status"] == "pending":
        await enqueue_reconcile(conn, latest["id"])


async def cancel(
    conn: asyncpg.Connection, settings: Settings, user_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation:
    """Give up a confirmed place (or a held one). Within LATE_CANCELLATION_HOURS of
    the start it is recorded as `cancelled_late`, which lowers reliability. The
    confirmation fee is not refunded (it is non-refundable by the data model)."""
    now = dt.datetime.now(dt.UTC)
    async with conn.transaction():
        event, invitation = await _locked(conn, user_id, invitation_id)
        status = invitation.status
        if status != "cancelled":
            if status not in ("confirmed", "pending_payment") or event.status != "published":
                raise _transition(status, "cancelled")
            if event.starts_at <= now:
                raise ApiError(409, "event_closed", "The event has started")
            await q.set_status(conn, invitation_id, "cancelled", now)
            if status == "pending_payment":
                await _settle_open_attempt(conn, invitation_id)
            late = event.starts_at - now < dt.timedelta(hours=settings.late_cancellation_hours)
            if status == "confirmed" and late:
                await attendance_q.record(
                    conn, event.id, invitation.profile_id, "cancelled_late", "cancellation", None
                )
                await enqueue_member_metrics(conn, [user_id])
            await enqueue_match_event(conn, event.id)
    return await _view(conn, user_id, invitation_id)


def _after(page: PageParams) -> tuple[dt.datetime, uuid.UUID] | None:
    return decode_cursor(page.cursor, tuple[dt.datetime, uuid.UUID]) if page.cursor else None


async def my_invitations(
    conn: asyncpg.Connection, user_id: uuid.UUID, status: str | None, page: PageParams
) -> Page[Invitation]:
    rows = await q.user_invitations(conn, user_id, status, _after(page), page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r.created_at, r.id))
    return Page(items=[_invitation(r) for r in items], next_cursor=cursor)


async def my_events(
    conn: asyncpg.Connection, user_id: uuid.UUID, upcoming: bool, page: PageParams
) -> Page[MyEvent]:
    now = dt.datetime.now(dt.UTC)
    rows = await q.user_events(conn, user_id, upcoming, now, _after(page), page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r.sort_at, r.invitation_id))
    return Page(
        items=[MyEvent(invitation_id=r.invitation_id, event=_summary(r.event)) for r in items],
        next_cursor=cursor,
    )


async def my_payments(
    conn: asyncpg.Connection, user_id: uuid.UUID, page: PageParams
) -> Page[Payment]:
    rows = await payments_q.user_payments(conn, user_id, _after(page), page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r["created_at"], r["id"]))
    return Page(
        items=[msgspec.convert(dict(r), Payment, strict=False) for r in items], next_cursor=cursor
    )
