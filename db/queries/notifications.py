"""Push tokens and notification settings (only the categories a user changed are stored)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

DEVICE_COLUMNS = "token, platform, device_id, is_active, created_at, updated_at"

# First keys of the two-int advisory locks that serialise one user's changes.
_PUSH_TOKENS_LOCK = 0x70757368  # "push"
_SETTINGS_LOCK = 0x6E736574  # "nset"


async def _lock(conn: asyncpg.Connection, kind: int, user_id: uuid.UUID) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2::uuid::text))", kind, user_id)


async def lock_user_tokens(conn: asyncpg.Connection, user_id: uuid.UUID) -> None:
    """Serialise one user's token changes until the transaction ends."""
    await _lock(conn, _PUSH_TOKENS_LOCK, user_id)


async def upsert_push_token(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    token: str,
    platform: str,
    device_id: str | None,
) -> tuple[asyncpg.Record, bool]:
    """Register a token to the user, moving it from whoever had it; (row, new to this user).

    A token that changes hands starts afresh for its new owner (created_at,
    last_used_at); any token registered again is active again.
    """
    row = await conn.fetchrow(
        f"""
        WITH previous AS (SELECT user_id FROM push_notification_tokens WHERE token = $2)
        INSERT INTO push_notification_tokens AS t (user_id, token, platform, device_id)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (token) DO UPDATE SET
            user_id = EXCLUDED.user_id,
            platform = EXCLUDED.platform,
            device_id = EXCLUDED.device_id,
            is_active = true,
            created_at = CASE WHEN t.user_id = EXCLUDED.user_id THEN t.created_at ELSE now() END,
            last_used_at = CASE WHEN t.user_id = EXCLUDED.user_id THEN t.last_used_at END,
            updated_at = now()
        RETURNING {DEVICE_COLUMNS},
                  (SELECT user_id FROM previous) IS DISTINCT FROM $1 AS created
        """,
        user_id,
        token,
        platform,
        device_id,
    )
    assert row is not None
    return row, row["created"]


async def delete_device_tokens_except(
    conn: asyncpg.Connection, user_id: uuid.UUID, device_id: str, keep_token: str
) -> None:
    """One token per device: drop the user's other tokens of this device."""
    await conn.execute(
        "DELETE FROM push_notification_tokens "
        "WHERE user_id = $1 AND device_id = $2 AND token <> $3",
        user_id,
        device_id,
        keep_token,
    )


async def delete_push_token(conn: asyncpg.Connection, user_id: uuid.UUID, token: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM push_notification_tokens WHERE user_id = $1 AND token = $2",
        user_id,
        token,
    )
    return status != "DELETE 0"


async def active_push_tokens(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[str]:
    """For the sender: where to push to this user."""
    tokens: list[str] = [
        r["token"]
        for r in await conn.fetch(
            "SELECT token FROM push_notification_tokens WHERE user_id = $1 AND is_active "
            "ORDER BY created_at",
            user_id,
        )
    ]
    return tokens


# ── Settings ──


async def stored_settings(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[asyncpg.Record]:
    """The categories the user changed: (category, push_enabled, sms_enabled)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT category, push_enabled, sms_enabled FROM user_notification_settings "
        "WHERE user_id = $1",
        user_id,
    )
    return rows


async def upsert_settings(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    categories: Sequence[str],
    push: Sequence[bool | None],
    sms: Sequence[bool | None],
    default_push: Sequence[bool],
    default_sms: Sequence[bool],
) -> None:
    """Change the given categories; None keeps a switch (or its default when no row yet).

    The arrays run in parallel, one element per category. Call inside a transaction:
    it holds a per-user lock so concurrent changes of one user do not deadlock.
    """
    await _lock(conn, _SETTINGS_LOCK, user_id)
    args = (user_id, list(categories), list(push), list(sms), list(default_push), list(default_sms))
    changes = """
        unnest($2::text[], $3::boolean[], $4::boolean[], $5::boolean[], $6::boolean[])
        AS c(category, push, sms, default_push, default_sms)
    """
    # Rows for categories still on their defaults first, then the switches sent.
    await conn.execute(
        f"""
        INSERT INTO user_notification_settings (user_id, category, push_enabled, sms_enabled)
        SELECT $1, c.category, c.default_push, c.default_sms FROM {changes}
        ORDER BY c.category
        ON CONFLICT (user_id, category) DO NOTHING
        """,
        *args,
    )
    await conn.execute(
        f"""
        UPDATE user_notification_settings s
        SET push_enabled = coalesce(c.push, s.push_enabled),
            sms_enabled = coalesce(c.sms, s.sms_enabled),
            updated_at = now()
        FROM {changes}
        WHERE s.user_id = $1 AND s.category = c.category
        """,
        *args,
    )
