"""Support tickets: the caller's own, created idempotently."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

TICKET_COLUMNS = """
    id, ticket_number, submitter_user_id, category, body, reply_to_email, status,
    associated_event_id, associated_payment_id, metadata, created_at, updated_at
"""


async def user_email(conn: asyncpg.Connection, user_id: uuid.UUID) -> str | None:
    email: str | None = await conn.fetchval("SELECT email FROM users WHERE id = $1", user_id)
    return email


async def owns_payment(conn: asyncpg.Connection, user_id: uuid.UUID, payment_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM payments WHERE id = $1 AND user_id = $2)",
        payment_id,
        user_id,
    )
    return found


async def ticket_by_client_id(
    conn: asyncpg.Connection, user_id: uuid.UUID, client_id: uuid.UUID
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {TICKET_COLUMNS} FROM support_tickets "
        "WHERE submitter_user_id = $1 AND client_id = $2",
        user_id,
        client_id,
    )
    return row


async def insert_ticket(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    category: str,
    body: str,
    reply_to_email: str | None,
    associated_event_id: uuid.UUID | None,
    associated_payment_id: uuid.UUID | None,
    metadata: dict[str, Any],
    client_id: uuid.UUID | None,
) -> asyncpg.Record | None:
    """The new ticket; None when this submitter already used client_id."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        INSERT INTO support_tickets (submitter_user_id, category, body, reply_to_email,
                                     associated_event_id, associated_payment_id, metadata,
                                     client_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (submitter_user_id, client_id) DO NOTHING
        RETURNING {TICKET_COLUMNS}
        """,
        user_id,
        category,
        body,
        reply_to_email,
        associated_event_id,
        associated_payment_id,
        metadata,
        client_id,
    )
    return row


async def list_tickets(
    conn: asyncpg.Connection, user_id: uuid.UUID, before_number: int | None, limit: int
) -> list[asyncpg.Record]:
    """The user's tickets, newest (highest ticket_number) first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {TICKET_COLUMNS} FROM support_tickets
        WHERE submitter_user_id = $1 AND ($2::bigint IS NULL OR ticket_number < $2)
        ORDER BY ticket_number DESC
        LIMIT $3
        """,
        user_id,
        before_number,
        limit,
    )
    return rows
