"""Support tickets: file one (idempotent on client_id), list my own."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from db.queries import events as events_q
from db.queries import support as q
from server.auth.service import Auth
from server.errors import ApiError
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.support.schemas import MAX_METADATA_BYTES, Ticket, TicketIn

TICKETS_PER_DAY = 20
DAY = 24 * 3600


def _ticket(row: asyncpg.Record) -> Ticket:
    return msgspec.convert(dict(row), Ticket)


def _unknown_event() -> ApiError:
    return ApiError(404, "unknown_event", "No such event")


def _unknown_payment() -> ApiError:
    return ApiError(404, "unknown_payment", "No such payment of yours")


def _check_metadata(metadata: dict[str, object]) -> None:
    encoded = msgspec.json.encode(metadata)
    if len(encoded) > MAX_METADATA_BYTES:
        raise ApiError(
            422, "validation_error", f"metadata is over {MAX_METADATA_BYTES} bytes of JSON"
        )
    # jsonb rejects the NUL character (escaped as \u0000 in JSON).
    if b"\\u0000" in encoded:
        raise ApiError(422, "validation_error", "metadata must not contain NUL characters")


async def create_ticket(
    conn: asyncpg.Connection, auth: Auth, user_id: uuid.UUID, data: TicketIn
) -> Ticket:
    """File a ticket. A retry with the same client_id returns the first ticket."""
    if data.client_id is not None:
        existing = await q.ticket_by_client_id(conn, user_id, data.client_id)
        if existing is not None:
            return _ticket(existing)
    metadata = data.metadata or {}
    _check_metadata(metadata)
    if data.associated_event_id is not None and not await events_q.event_exists(
        conn, data.associated_event_id
    ):
        raise _unknown_event()
    if data.associated_payment_id is not None and not await q.owns_payment(
        conn, user_id, data.associated_payment_id
    ):
        raise _unknown_payment()
    await auth.limit("support-tickets", str(user_id), TICKETS_PER_DAY, window=DAY)
    reply_to = data.reply_to_email.strip() if data.reply_to_email else None
    async with conn.transaction():
        if reply_to is None:
            reply_to = await q.user_email(conn, user_id)
        try:
            row = await q.insert_ticket(
                conn,
                user_id=user_id,
                category=data.category,
                body=data.body,
                reply_to_email=reply_to,
                associated_event_id=data.associated_event_id,
                associated_payment_id=data.associated_payment_id,
                metadata=metadata,
                client_id=data.client_id,
            )
        except asyncpg.ForeignKeyViolationError as exc:  # deleted meanwhile
            if exc.constraint_name == "support_tickets_associated_payment_id_fkey":
                raise _unknown_payment() from None
            raise _unknown_event() from None
        if row is None:
            # The same client_id by a concurrent request that won the race.
            assert data.client_id is not None
            row = await q.ticket_by_client_id(conn, user_id, data.client_id)
    assert row is not None
    return _ticket(row)


async def list_tickets(
    conn: asyncpg.Connection, user_id: uuid.UUID, page: PageParams
) -> Page[Ticket]:
    before = decode_cursor(page.cursor, int) if page.cursor else None
    rows = await q.list_tickets(conn, user_id, before, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: r["ticket_number"])
    return Page(items=[_ticket(r) for r in items], next_cursor=cursor)
