"""Signing staff in and out of the console, and who a console request is.

A console sign-in proves the phone number with the API's own code check, and
is an ordinary auth session plus a random cookie token (its SHA-256 stored,
migration 0016). Every request re-checks it like an API request (the same
check_sign_in, so suspension and revocation end it at once), then the staff
role (so removing the staff account ends it too), then the idle timeout.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import cast

import asyncpg
import msgspec

from db.queries import admin as admin_q
from db.queries import auth as auth_q
from db.queries import staff_console as q
from db.queries import users as users_q
from server.admin.schemas import StaffRole
from server.auth.check import check_sign_in
from server.auth.phone import us_phone
from server.auth.service import Auth, check_code, consume_code, hash_token, request_code
from server.auth.tokens import Identity
from server.errors import ApiError

COOKIE = "momento_staff"


class StaffMember(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    session_id: uuid.UUID
    role: StaffRole


async def send_code(auth: Auth, conn: asyncpg.Connection, raw_phone: str, ip: str) -> None:
    """Send a code only to staff numbers; the page says the same either way,
    so the form does not tell who is staff."""
    if await _staff_user(conn, raw_phone) is not None:
        await request_code(auth, conn, raw_phone, ip)


async def _staff_user(conn: asyncpg.Connection, raw_phone: str) -> uuid.UUID | None:
    user_id = await users_q.user_id_by_phone(conn, us_phone(raw_phone))
    if user_id is None or await admin_q.staff_role(conn, user_id) is None:
        return None
    return user_id


async def sign_in(
    auth: Auth,
    conn: asyncpg.Connection,
    raw_phone: str,
    code: str,
    ip: str,
    user_agent: str | None,
) -> str:
    """The cookie token of a new console session; ApiError for a wrong code
    (401), or a number that is not staff (403 staff_only)."""
    checked = await check_code(auth, conn, raw_phone, code, ip)
    token = secrets.token_urlsafe(32)
    async with conn.transaction():
        await consume_code(conn, checked)
        user_id = await _staff_user(conn, checked.phone)
        if user_id is None:
            raise ApiError(403, "staff_only", "This number is not a Momento staff account")
        await q.open_console_session(
            conn, hash_token(token), user_id, (user_agent or "")[:300] or None
        )
    return token


async def current_staff(
    auth: Auth, conn: asyncpg.Connection, token: str | None, idle_minutes: int
) -> StaffMember | None:
    """Who the cookie signs in, or None (no cookie, idle, revoked, suspended,
    or no longer staff)."""
    if not token:
        return None
    session = await q.touch_console_session(conn, hash_token(token), idle_minutes * 60)
    if session is None:
        return None
    identity = Identity(user_id=session.user_id, session_id=session.session_id, expires_at=0)
    try:
        await check_sign_in(auth.sessions, identity, functools.partial(_given, conn))
    except ApiError:
        return None
    role = await admin_q.staff_role(conn, session.user_id)
    if role is None:
        return None
    return StaffMember(
        user_id=session.user_id, session_id=session.session_id, role=cast(StaffRole, role)
    )


@contextlib.asynccontextmanager
async def _given(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """The connection the request already holds, where the check asks for one."""
    yield conn


async def sign_out(conn: asyncpg.Connection, token: str | None) -> None:
    if not token:
        return
    async with conn.transaction():
        session_id = await q.close_console_session(conn, hash_token(token))
        if session_id is not None:
            await auth_q.revoke_session(conn, session_id, "logout")
