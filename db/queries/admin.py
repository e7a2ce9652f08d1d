"""Staff accounts, the admin views of reports, tickets and users, and the audit trail.

Staff see every account whatever its status or blocks (moderating suspended
and blocked people is their job), so these queries deliberately do not apply
`user_visible_to`: they are reachable only through the staff guard.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from db.queries.users import OWN_USER_COLUMNS

# ── Staff accounts ─────────────────────────────────────────────────────────


async def staff_role(conn: asyncpg.Connection, user_id: uuid.UUID) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM staff_accounts WHERE user_id = $1", user_id
    )
    return role


async def user_id_by_phone(conn: asyncpg.Connection, phone: str) -> uuid.UUID | None:
    user_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM users WHERE phone_number = $1", phone
    )
    return user_id


async def lock_staff_role(conn: asyncpg.Connection, user_id: uuid.UUID) -> str | None:
    """The user's staff role (None if not staff), locked until the transaction ends."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM staff_accounts WHERE user_id = $1 FOR UPDATE", user_id
    )
    return role


async def upsert_staff(conn: asyncpg.Connection, user_id: uuid.UUID, role: str) -> None:
    await conn.execute(
        """
        INSERT INTO staff_accounts (user_id, role) VALUES ($1, $2)
        ON CONFLICT (user_id) DO UPDATE SET role = EXCLUDED.role
        """,
        user_id,
        role,
    )


async def delete_staff(conn: asyncpg.Connection, user_id: uuid.UUID) -> str | None:
    """Remove the staff account; its role, or None if there was none."""
    role: str | None = await conn.fetchval(
        "DELETE FROM staff_accounts WHERE user_id = $1 RETURNING role", user_id
    )
    return role


# ── Audit trail ────────────────────────────────────────────────────────────


async def record_action(
    conn: asyncpg.Connection,
    staff_user_id: uuid.UUID | None,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
) -> uuid.UUID:
    action_id: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO admin_actions (staff_user_id, action, target_type, target_id, details)
        VALUES ($1, $2, $3, $4, $5::jsonb)
        RETURNING id
        """,
        staff_user_id,
        action,
        target_type,
        target_id,
        details,
    )
    return action_id


async def list_actions(
    conn: asyncpg.Connection,
    target_type: str | None,
    target_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    staff_user_id: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, staff_user_id, action, target_type, target_id, details, created_at
        FROM admin_actions
        WHERE ($1::text IS NULL OR target_type = $1)
          AND ($2::text IS NULL OR target_id = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
          AND ($6::uuid IS NULL OR staff_user_id = $6)
        ORDER BY created_at DESC, id DESC
        LIMIT $5
        """,
        target_type,
        target_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
        staff_user_id,
    )
    return rows


# ── Reports ────────────────────────────────────────────────────────────────

# reporter/reported are jsonb objects, or NULL once that account was deleted.
_REPORT_SELECT = """
    SELECT r.id, r.category, r.comments, r.status, r.event_id, r.created_at, r.updated_at,
           r.resolved_at, r.resolved_by_user_id,
           CASE WHEN r.reporter_user_id IS NOT NULL THEN jsonb_build_object(
               'user_id', r.reporter_user_id, 'profile_id', rsp.id,
               'first_name', rsp.first_name
           ) END AS reporter,
           CASE WHEN r.reported_user_id IS NOT NULL THEN jsonb_build_object(
               'user_id', r.reported_user_id, 'profile_id', dsp.id,
               'first_name', dsp.first_name, 'status', du.status
           ) END AS reported
    FROM reports r
    LEFT JOIN social_profiles rsp ON rsp.user_id = r.reporter_user_id
    LEFT JOIN social_profiles dsp ON dsp.user_id = r.reported_user_id
    LEFT JOIN users du ON du.id = r.reported_user_id
"""


async def list_reports(
    conn: asyncpg.Connection,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    *,
    category: str | None = None,
    oldest_first: bool = False,
) -> list[asyncpg.Record]:
    """Newest first (the API), or oldest first (the staff console's queue:
    the longest waiting on top); `after` is the last row of the previous page."""
    beyond, order = (">", "ASC") if oldest_first else ("<", "DESC")
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        {_REPORT_SELECT}
        WHERE ($1::text IS NULL OR r.status = $1)
          AND ($2::text IS NULL OR r.category = $2)
          AND ($3::timestamptz IS NULL
               OR (r.created_at, r.id) {beyond} ($3::timestamptz, $4::uuid))
        ORDER BY r.created_at {order}, r.id {order}
        LIMIT $5
        """,
        status,
        category,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def report_counts(conn: asyncpg.Connection, category: str | None) -> dict[str, int]:
    """Reports by status (of one category, or all)."""
    rows = await conn.fetch(
        "SELECT status, count(*) AS n FROM reports "
        "WHERE $1::text IS NULL OR category = $1 GROUP BY status",
        category,
    )
    return {r["status"]: int(r["n"]) for r in rows}


async def find_user(
    conn: asyncpg.Connection, phone: str | None, number: int | None, profile_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The account with this E.164 number, user_number or social profile id."""
    found: uuid.UUID | None = await conn.fetchval(
        """
        SELECT u.id FROM users u
        WHERE u.phone_number = $1 OR u.user_number = $2
           OR u.id = (SELECT sp.user_id FROM social_profiles sp WHERE sp.id = $3)
        LIMIT 1
        """,
        phone,
        number,
        profile_id,
    )
    return found


async def get_report(conn: asyncpg.Connection, report_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(f"{_REPORT_SELECT} WHERE r.id = $1", report_id)
    return row


async def lock_report_status(conn: asyncpg.Connection, report_id: uuid.UUID) -> str | None:
    status: str | None = await conn.fetchval(
        "SELECT status FROM reports WHERE id = $1 FOR UPDATE", report_id
    )
    return status


async def set_report_status(
    conn: asyncpg.Connection,
    report_id: uuid.UUID,
    status: str,
    resolved_by_user_id: uuid.UUID | None,
) -> None:
    """Set the status; a closing decision stamps resolved_at/by, reopening clears them."""
    await conn.execute(
        """
        UPDATE reports
        SET status = $2, updated_at = now(),
            resolved_at = CASE WHEN $3::uuid IS NULL THEN NULL ELSE now() END,
            resolved_by_user_id = $3::uuid
        WHERE id = $1
        """,
        report_id,
        status,
        resolved_by_user_id,
    )


# ── Support tickets ────────────────────────────────────────────────────────

_TICKET_SELECT = """
    SELECT t.id, t.ticket_number, t.submitter_user_id, t.reply_to_email, t.category, t.body,
           t.status, t.associated_event_id, t.associated_payment_id, t.metadata,
           t.created_at, t.updated_at
    FROM support_tickets t
"""


async def list_tickets(
    conn: asyncpg.Connection,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        {_TICKET_SELECT}
        WHERE ($1::text IS NULL OR t.status = $1)
          AND ($2::timestamptz IS NULL OR (t.created_at, t.id) < ($2::timestamptz, $3::uuid))
        ORDER BY t.created_at DESC, t.id DESC
        LIMIT $4
        """,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def get_ticket(conn: asyncpg.Connection, ticket_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(f"{_TICKET_SELECT} WHERE t.id = $1", ticket_id)
    return row


async def lock_ticket_status(conn: asyncpg.Connection, ticket_id: uuid.UUID) -> str | None:
    status: str | None = await conn.fetchval(
        "SELECT status FROM support_tickets WHERE id = $1 FOR UPDATE", ticket_id
    )
    return status


async def set_ticket_status(conn: asyncpg.Connection, ticket_id: uuid.UUID, status: str) -> None:
    await conn.execute(
        "UPDATE support_tickets SET status = $2, updated_at = now() WHERE id = $1",
        ticket_id,
        status,
    )


# ── Users ──────────────────────────────────────────────────────────────────


async def get_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    """The users row (never payment_customer_id) and the staff role, if any."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {OWN_USER_COLUMNS}, s.role AS staff_role
        FROM users u
        LEFT JOIN staff_accounts s ON s.user_id = u.id
        WHERE u.id = $1
        """,
        user_id,
    )
    return row


class SafetyHistory(msgspec.Struct, frozen=True):
    reports_received: int
    open_reports_received: int
    reports_made: int
    blocked_by_count: int
    # The 10 latest reports about the person: id, category, status, event_id,
    # created_at (decoded jsonb: ids and times as strings).
    recent_reports_received: list[dict[str, Any]]


async def safety_history(conn: asyncpg.Connection, user_id: uuid.UUID) -> SafetyHistory:
    row = await conn.fetchrow(
        """
        SELECT
            (SELECT count(*) FROM reports WHERE reported_user_id = $1) AS reports_received,
            (SELECT count(*) FROM reports WHERE reported_user_id = $1
               AND status IN ('pending', 'reviewing')) AS open_reports_received,
            (SELECT count(*) FROM reports WHERE reporter_user_id = $1) AS reports_made,
            (SELECT count(*) FROM blocked_users WHERE blocked_user_id = $1) AS blocked_by_count,
            coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                           'id', r.id, 'category', r.category, 'status', r.status,
                           'event_id', r.event_id, 'created_at', r.created_at)
                       ORDER BY r.created_at DESC)
                FROM (SELECT * FROM reports WHERE reported_user_id = $1
                      ORDER BY created_at DESC LIMIT 10) r
            ), '[]'::jsonb) AS recent_reports_received
        """,
        user_id,
    )
    return msgspec.convert(dict(row), SafetyHistory)


async def lock_user_moderation(
    conn: asyncpg.Connection, user_id: uuid.UUID
) -> asyncpg.Record | None:
    """status and is_verified of the user, locked until the transaction ends."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT status, is_verified FROM users WHERE id = $1 FOR UPDATE", user_id
    )
    return row


async def set_user_moderation(
    conn: asyncpg.Connection, user_id: uuid.UUID, status: str, is_verified: bool
) -> None:
    await conn.execute(
        "UPDATE users SET status = $2, is_verified = $3, updated_at = now() WHERE id = $1",
        user_id,
        status,
        is_verified,
    )


async def revoke_user_sessions(conn: asyncpg.Connection, user_id: uuid.UUID, reason: str) -> int:
    """Sign the user out everywhere; the number of sessions revoked."""
    result: str = await conn.execute(
        """
        UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL
        """,
        user_id,
        reason,
    )
    return int(result.split()[-1])
