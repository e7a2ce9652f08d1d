"""The staff console's sessions (migration 0016): a cookie token's hash, tied
to an auth_sessions row so that every revocation of that ends it too."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from db.rows import one


class ConsoleSession(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    session_id: uuid.UUID


async def open_console_session(
    conn: asyncpg.Connection, token_hash: str, user_id: uuid.UUID, user_agent: str | None
) -> uuid.UUID:
    """A new auth session and its console row, in the caller's transaction."""
    session_id: uuid.UUID = await conn.fetchval(
        """
        WITH s AS (
            INSERT INTO auth_sessions (user_id, user_agent) VALUES ($2, $3) RETURNING id
        )
        INSERT INTO staff_console_sessions (token_hash, session_id, user_id)
        SELECT $1, s.id, $2 FROM s
        RETURNING session_id
        """,
        token_hash,
        user_id,
        user_agent,
    )
    return session_id


async def touch_console_session(
    conn: asyncpg.Connection, token_hash: str, idle_seconds: int
) -> ConsoleSession | None:
    """The session behind a cookie, if it was used within `idle_seconds`;
    marks it used now. An idle one is not extended."""
    row = await conn.fetchrow(
        """
        UPDATE staff_console_sessions SET last_seen_at = now()
        WHERE token_hash = $1 AND last_seen_at > now() - make_interval(secs => $2)
        RETURNING user_id, session_id
        """,
        token_hash,
        idle_seconds,
    )
    return one(ConsoleSession, row)


async def close_console_session(conn: asyncpg.Connection, token_hash: str) -> uuid.UUID | None:
    """Drop the console row; its auth session, for the caller to revoke."""
    session_id: uuid.UUID | None = await conn.fetchval(
        "DELETE FROM staff_console_sessions WHERE token_hash = $1 RETURNING session_id",
        token_hash,
    )
    return session_id
