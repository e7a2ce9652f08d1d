"""Staff rules: moderation of reports, tickets and accounts, and the audit trail.

Every change and its admin_actions row are written in one transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar, cast

import asyncpg
import msgspec

from db.queries import admin as q
from db.queries import users as users_q
from server.admin.guards import role_allowed
from server.admin.schemas import (
    AdminAction,
    AdminPrivate,
    AdminReport,
    AdminSafety,
    AdminTicket,
    AdminUser,
    ReportPatch,
    StaffRole,
    TicketPatch,
    UserPatch,
)
from server.auth.check import BLOCKED_STATUSES
from server.errors import ApiError
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.safety.schemas import ReportStatus
from server.support.schemas import TicketStatus

S = TypeVar("S", bound=msgspec.Struct)

CursorKey = tuple[datetime, uuid.UUID]

# A report in one of these has been decided: resolved_at/by say when and by whom.
CLOSED_REPORT_STATUSES: frozenset[ReportStatus] = frozenset({"resolved", "dismissed"})


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Not found")


def _after(page: PageParams) -> CursorKey | None:
    # A tuple alias is not a `type` to mypy, though msgspec decodes it fine.
    key_type = cast("type[CursorKey]", CursorKey)
    return decode_cursor(page.cursor, key_type) if page.cursor else None


def _convert(row: asyncpg.Record, kind: type[S]) -> S:
    # strict=False: jsonb sub-objects carry uuids as strings.
    return msgspec.convert(dict(row), kind, strict=False)


def _page(rows: list[asyncpg.Record], page: PageParams, kind: type[S]) -> Page[S]:
    items, next_cursor = make_page(rows, page.limit, lambda r: (r["created_at"], r["id"]))
    return Page(items=[_convert(r, kind) for r in items], next_cursor=next_cursor)


# ── Reports ────────────────────────────────────────────────────────────────


async def list_reports(
    conn: asyncpg.Connection, status: ReportStatus | None, page: PageParams
) -> Page[AdminReport]:
    rows = await q.list_reports(conn, status, _after(page), page.limit + 1)
    return _page(rows, page, AdminReport)


async def reports_queue(
    conn: asyncpg.Connection,
    status: ReportStatus | None,
    category: str | None,
    page: PageParams,
) -> Page[AdminReport]:
    """Oldest first, for working through the queue (the staff console)."""
    rows = await q.list_reports(
        conn, status, _after(page), page.limit + 1, category=category, oldest_first=True
    )
    return _page(rows, page, AdminReport)


async def get_report(conn: asyncpg.Connection, report_id: uuid.UUID) -> AdminReport:
    row = await q.get_report(conn, report_id)
    if row is None:
        raise _not_found()
    return _convert(row, AdminReport)


async def update_report(
    conn: asyncpg.Connection, staff_user_id: uuid.UUID, report_id: uuid.UUID, patch: ReportPatch
) -> AdminReport:
    """Move a report to a status; closing it stamps resolved_at/by, reopening clears them.

    Sending the current status changes nothing in the report (a first decision
    keeps its time and author) but is still recorded, with its note.
    """
    async with conn.transaction():
        before = await q.lock_report_status(conn, report_id)
        if before is None:
            raise _not_found()
        if patch.status != before:
            closed = patch.status in CLOSED_REPORT_STATUSES
            await q.set_report_status(
                conn, report_id, patch.status, staff_user_id if closed else None
            )
        await q.record_action(
            conn,
            staff_user_id,
            "report.update",
            "report",
            str(report_id),
            {"from": before, "to": patch.status, "note": patch.note},
        )
        return await get_report(conn, report_id)


# ── Support tickets ────────────────────────────────────────────────────────


async def list_tickets(
    conn: asyncpg.Connection, status: TicketStatus | None, page: PageParams
) -> Page[AdminTicket]:
    rows = await q.list_tickets(conn, status, _after(page), page.limit + 1)
    return _page(rows, page, AdminTicket)


async def get_ticket(conn: asyncpg.Connection, ticket_id: uuid.UUID) -> AdminTicket:
    row = await q.get_ticket(conn, ticket_id)
    if row is None:
        raise _not_found()
    return _convert(row, AdminTicket)


async def update_ticket(
    conn: asyncpg.Connection, staff_user_id: uuid.UUID, ticket_id: uuid.UUID, patch: TicketPatch
) -> AdminTicket:
    """Sending the current status changes nothing but is still recorded."""
    async with conn.transaction():
        before = await q.lock_ticket_status(conn, ticket_id)
        if before is None:
            raise _not_found()
        if patch.status != before:
            await q.set_ticket_status(conn, ticket_id, patch.status)
        await q.record_action(
            conn,
            staff_user_id,
            "ticket.update",
            "support_ticket",
            str(ticket_id),
            {"from": before, "to": patch.status},
        )
        return await get_ticket(conn, ticket_id)


# ── Users ──────────────────────────────────────────────────────────────────


async def get_user(conn: asyncpg.Connection, user_id: uuid.UUID, shown_to: StaffRole) -> AdminUser:
    """The account as `shown_to` may see it (schemas.AdminUser)."""
    row = await q.get_user(conn, user_id)
    if row is None:
        raise _not_found()
    stored = dict(row)
    safety = None
    if role_allowed(shown_to, ("moderator",)):
        history = await q.safety_history(conn, user_id)
        actions = await q.list_actions(conn, "user", str(user_id), None, 20)
        safety = msgspec.convert(
            {
                **msgspec.structs.asdict(history),
                "moderation_actions": [dict(a) for a in actions],
            },
            AdminSafety,
            strict=False,
        )
    private = msgspec.convert(stored, AdminPrivate, strict=False) if shown_to == "admin" else None
    return msgspec.convert(
        {**stored, "shown_to": shown_to, "safety": safety, "private": private},
        AdminUser,
        strict=False,
    )


async def update_user(
    conn: asyncpg.Connection,
    staff_user_id: uuid.UUID,
    staff_role: StaffRole,
    user_id: uuid.UUID,
    patch: UserPatch,
    reason: str | None = None,
) -> AdminUser:
    """Set status and/or is_verified; `reason` goes into the audit record.

    Nobody changes their own account here (409 cannot_change_self), only
    admins change another staff member's (403 insufficient_role), and
    suspending or banning signs the person out of every session.
    """
    if patch.status is msgspec.UNSET and patch.is_verified is msgspec.UNSET:
        raise ApiError(422, "validation_error", "Send status, is_verified or both")
    if user_id == staff_user_id:
        raise ApiError(409, "cannot_change_self", "Staff cannot change their own account")
    async with conn.transaction():
        before = await q.lock_user_moderation(conn, user_id)
        if before is None:
            raise _not_found()
        target_role = await q.lock_staff_role(conn, user_id)
        if target_role is not None and staff_role != "admin":
            raise ApiError(
                403, "insufficient_role", "Only an admin may change another staff member"
            )
        status: str = before["status"] if patch.status is msgspec.UNSET else patch.status
        is_verified: bool = (
            before["is_verified"] if patch.is_verified is msgspec.UNSET else patch.is_verified
        )
        await q.set_user_moderation(conn, user_id, status, is_verified)
        revoked = 0
        if status in BLOCKED_STATUSES:
            revoked = await q.revoke_user_sessions(conn, user_id, status)
        await q.record_action(
            conn,
            staff_user_id,
            "user.update",
            "user",
            str(user_id),
            {
                "before": {"status": before["status"], "is_verified": before["is_verified"]},
                "after": {"status": status, "is_verified": is_verified},
                "sessions_revoked": revoked,
                **({"reason": reason} if reason else {}),
            },
        )
        return await get_user(conn, user_id, staff_role)


# ── Audit trail ────────────────────────────────────────────────────────────


async def list_actions(
    conn: asyncpg.Connection,
    target_type: str | None,
    target_id: str | None,
    page: PageParams,
    staff_user_id: uuid.UUID | None = None,
) -> Page[AdminAction]:
    rows = await q.list_actions(
        conn, target_type, target_id, _after(page), page.limit + 1, staff_user_id
    )
    return _page(rows, page, AdminAction)


# ── Staff accounts (command line) ──────────────────────────────────────────


class StaffGrant(msgspec.Struct):
    user_id: uuid.UUID
    role: StaffRole
    previous_role: str | None
    user_created: bool


async def grant_staff(conn: asyncpg.Connection, phone: str, role: StaffRole) -> StaffGrant:
    """Make the person with this E.164 number staff with `role` (creating the user if new)."""
    async with conn.transaction():
        user_id, created = await users_q.get_or_create_by_phone(conn, phone)
        previous = await q.lock_staff_role(conn, user_id)
        await q.upsert_staff(conn, user_id, role)
        details: dict[str, Any] = {
            "via": "cli",
            "role": role,
            "previous_role": previous,
            "user_created": created,
        }
        await q.record_action(conn, None, "staff.grant", "user", str(user_id), details)
    return StaffGrant(user_id=user_id, role=role, previous_role=previous, user_created=created)


async def revoke_staff(conn: asyncpg.Connection, phone: str) -> tuple[uuid.UUID, str] | None:
    """Remove the staff account of this E.164 number: (user id, former role), None if not staff."""
    async with conn.transaction():
        user_id = await q.user_id_by_phone(conn, phone)
        if user_id is None:
            return None
        role = await q.delete_staff(conn, user_id)
        if role is None:
            return None
        await q.record_action(
            conn, None, "staff.revoke", "user", str(user_id), {"via": "cli", "role": role}
        )
    return user_id, role
