"""Blocks and reports.

A block is between users; the API names people by social profile id. Who may
see whom is decided in SQL by `user_visible_to` (0003_visibility_rules.sql),
which every query that shows one user to another calls; this module only
writes and lists blocks. Blocking and reporting work whatever already stands
between the two (a block the other way, a suspension): only an unknown
profile is 404, so neither act reveals anything.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from db.queries import events as events_q
from db.queries import safety as q
from server.auth.service import Auth
from server.errors import ApiError
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.safety.schemas import Block, BlockedProfile, Report, ReportIn

REPORTS_PER_DAY = 20
DAY = 24 * 3600


def _no_profile() -> ApiError:
    return ApiError(404, "not_found", "No such profile")


async def _owner(conn: asyncpg.Connection, profile_id: uuid.UUID) -> uuid.UUID:
    owner = await q.profile_owner(conn, profile_id)
    if owner is None:
        raise _no_profile()
    return owner


# ── Blocks ──


async def block(
    conn: asyncpg.Connection, user_id: uuid.UUID, profile_id: uuid.UUID
) -> tuple[Block, bool]:
    """Block the person behind profile_id; (block, created). Idempotent."""
    async with conn.transaction():
        target = await _owner(conn, profile_id)
        if target == user_id:
            raise ApiError(422, "cannot_block_self", "You cannot block yourself")
        try:
            created_at, created = await q.upsert_block(conn, user_id, target)
        except asyncpg.ForeignKeyViolationError:
            raise _no_profile() from None  # their account was deleted meanwhile
        await q.forget_likes_between(conn, user_id, target)
    return Block(profile_id=profile_id, created_at=created_at), created


async def unblock(conn: asyncpg.Connection, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    """Idempotent: no block (or yourself) is fine; an unknown profile is 404."""
    target = await _owner(conn, profile_id)
    await q.delete_block(conn, user_id, target)


async def list_blocks(
    conn: asyncpg.Connection, user_id: uuid.UUID, page: PageParams
) -> Page[BlockedProfile]:
    after = decode_cursor(page.cursor, tuple[datetime, uuid.UUID]) if page.cursor else None
    rows = await q.list_blocks(conn, user_id, after, page.limit + 1)
    items, cursor = make_page(rows, page.limit, key=lambda r: (r["created_at"], r["profile_id"]))
    return Page(items=[msgspec.convert(dict(r), BlockedProfile) for r in items], next_cursor=cursor)


# ── Reports ──


def _report(row: asyncpg.Record) -> Report:
    return msgspec.convert(dict(row), Report)


async def report(
    conn: asyncpg.Connection, auth: Auth, user_id: uuid.UUID, data: ReportIn
) -> Report:
    """File a report. A retry with the same client_id returns the first report."""
    if data.client_id is not None:
        existing = await q.report_by_client_id(conn, user_id, data.client_id)
        if existing is not None:
            return _report(existing)
    target = await _owner(conn, data.reported_profile_id)
    if target == user_id:
        raise ApiError(422, "cannot_report_self", "You cannot report yourself")
    if data.event_id is not None and not await events_q.event_exists(conn, data.event_id):
        raise _unknown_event()
    await auth.limit("reports", str(user_id), REPORTS_PER_DAY, window=DAY)
    comments = data.comments.strip() if data.comments else None
    async with conn.transaction():
        try:
            report_id = await q.insert_report(
                conn,
                reporter_user=user_id,
                reported_user=target,
                category=data.category,
                comments=comments or None,
                event_id=data.event_id,
                client_id=data.client_id,
            )
        except asyncpg.ForeignKeyViolationError as exc:  # deleted meanwhile
            if exc.constraint_name == "reports_event_id_fkey":
                raise _unknown_event() from None
            raise _no_profile() from None
        if report_id is None:
            # The same client_id by a concurrent request that won the race.
            assert data.client_id is not None
            row = await q.report_by_client_id(conn, user_id, data.client_id)
        else:
            row = await q.report_by_id(conn, report_id)
    assert row is not None
    return _report(row)


def _unknown_event() -> ApiError:
    return ApiError(404, "unknown_event", "No such event")
