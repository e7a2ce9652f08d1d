"""Sign-in codes, sign-in sessions and refresh tokens."""

from __future__ import annotations

import uuid

import asyncpg


async def retire_codes(conn: asyncpg.Connection, phone: str) -> None:
    """Only the newest code of a phone number counts."""
    await conn.execute(
        "UPDATE otp_codes SET consumed_at = now() WHERE phone_number = $1 AND consumed_at IS NULL",
        phone,
    )


async def insert_code(
    conn: asyncpg.Connection, phone: str, code_hash: str | None, ttl_seconds: int
) -> None:
    await conn.execute(
        """
        INSERT INTO otp_codes (phone_number, code_hash, expires_at)
        VALUES ($1, $2, now() + make_interval(secs => $3))
        """,
        phone,
        code_hash,
        ttl_seconds,
    )


async def count_attempt(conn: asyncpg.Connection, phone: str) -> asyncpg.Record | None:
    """Count one more try at the phone's live code, atomically; None if it has none.

    The increment happens before the check, so concurrent guesses can never
    exceed the attempt limit between them.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        UPDATE otp_codes SET attempts = attempts + 1
        WHERE id = (
            SELECT id FROM otp_codes
            WHERE phone_number = $1 AND consumed_at IS NULL
            ORDER BY created_at DESC
            LIMIT 1
            FOR UPDATE
        )
        RETURNING id, code_hash, attempts, expires_at <= now() AS expired
        """,
        phone,
    )
    return row


async def consume_code(conn: asyncpg.Connection, code_id: uuid.UUID) -> bool:
    """Mark a code used; False when another request used it first."""
    row = await conn.fetchval(
        "UPDATE otp_codes SET consumed_at = now() WHERE id = $1 AND consumed_at IS NULL "
        "RETURNING id",
        code_id,
    )
    return row is not None


async def create_session(
    conn: asyncpg.Connection, user_id: uuid.UUID, user_agent: str | None
) -> uuid.UUID:
    session_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO auth_sessions (user_id, user_agent) VALUES ($1, $2) RETURNING id",
        user_id,
        user_agent,
    )
    return session_id


async def insert_refresh_token(
    conn: asyncpg.Connection, session_id: uuid.UUID, token_hash: str, ttl_days: int
) -> None:
    await conn.execute(
        """
        INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
        VALUES ($1, $2, now() + make_interval(days => $3))
        """,
        session_id,
        token_hash,
        ttl_days,
    )


async def lock_refresh_token(conn: asyncpg.Connection, token_hash: str) -> asyncpg.Record | None:
    """The token with its session, locked so two refreshes of it serialise."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT t.id, t.session_id, t.used_at, t.expires_at <= now() AS expired,
               s.user_id, s.revoked_at
        FROM refresh_tokens t
        JOIN auth_sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1
        FOR UPDATE OF t, s
        """,
        token_hash,
    )
    return row


async def mark_refresh_token_used(conn: asyncpg.Connection, token_id: uuid.UUID) -> None:
    await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", token_id)


async def touch_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE auth_sessions SET last_refreshed_at = now() WHERE id = $1", session_id
    )


async def revoke_session(conn: asyncpg.Connection, session_id: uuid.UUID, reason: str) -> None:
    await conn.execute(
        """
        UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
        WHERE id = $1 AND revoked_at IS NULL
        """,
        session_id,
        reason,
    )


async def session_holder(
    conn: asyncpg.Connection, user_id: uuid.UUID, session_id: uuid.UUID | None
) -> asyncpg.Record | None:
    """The user's status, and whether the token's session still stands.

    None when the user no longer exists. `session_ok` is true for tokens that
    have no session of ours (Supabase-issued).
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT u.status,
               ($2::uuid IS NULL OR EXISTS (
                   SELECT 1 FROM auth_sessions s
                   WHERE s.id = $2 AND s.user_id = u.id AND s.revoked_at IS NULL
               )) AS session_ok
        FROM users u
        WHERE u.id = $1
        """,
        user_id,
        session_id,
    )
    return row


async def purge_expired(conn: asyncpg.Connection, keep_days: int) -> tuple[int, int, int]:
    """Delete spent codes, expired refresh tokens and dead sessions older than keep_days."""
    codes = await conn.fetchval(
        """
        WITH gone AS (
            DELETE FROM otp_codes
            WHERE expires_at < now() - make_interval(days => $1) RETURNING 1
        ) SELECT count(*) FROM gone
        """,
        keep_days,
    )
    tokens = await conn.fetchval(
        """
        WITH gone AS (
            DELETE FROM refresh_tokens
            WHERE expires_at < now() - make_interval(days => $1) RETURNING 1
        ) SELECT count(*) FROM gone
        """,
        keep_days,
    )
    sessions = await conn.fetchval(
        """
        WITH gone AS (
            DELETE FROM auth_sessions s
            WHERE (s.revoked_at < now() - make_interval(days => $1))
               OR (NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id)
                   AND s.created_at < now() - make_interval(days => $1))
            RETURNING 1
        ) SELECT count(*) FROM gone
        """,
        keep_days,
    )
    return int(codes), int(tokens), int(sessions)
