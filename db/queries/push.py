"""What the push worker reads and records: claimed deliveries, tickets, receipts, SMS."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def claim(conn: asyncpg.Connection, limit: int, lease_seconds: float) -> list[asyncpg.Record]:
    """Claim up to `limit` due deliveries for `lease_seconds` (a worker that dies
    meanwhile leaves them to the next one), with everything needed to send them:
    the notification, the user's phone and status, their stored switches for the
    category (NULL: the defaults), active tokens and badge count."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH claimed AS (
            UPDATE notification_deliveries d
            SET attempts = d.attempts + 1,
                available_at = now() + make_interval(secs => $2::float8)
            WHERE d.notification_id IN (
                SELECT notification_id FROM notification_deliveries
                WHERE available_at <= now()
                ORDER BY available_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED
            )
            RETURNING d.notification_id, d.attempts
        )
        SELECT n.id, n.user_id, n.kind, n.category, n.title, n.body, n.data,
               n.collapsed_count AS count, n.created_at, c.attempts,
               u.phone_number, u.status = 'active' AS active,
               s.push_enabled, s.sms_enabled,
               ARRAY(SELECT t.token FROM push_notification_tokens t
                     WHERE t.user_id = n.user_id AND t.is_active
                     ORDER BY t.created_at) AS tokens,
               ((SELECT count(*) FROM notifications x
                 WHERE x.user_id = n.user_id AND x.read_at IS NULL)
               + (SELECT coalesce(sum(cv.last_seq - cp.last_read_seq), 0)
                  FROM social_profiles sp
                  JOIN conversation_participants cp ON cp.profile_id = sp.id
                  JOIN conversations cv ON cv.id = cp.conversation_id
                  WHERE sp.user_id = n.user_id))::int AS badge
        FROM claimed c
        JOIN notifications n ON n.id = c.notification_id
        JOIN users u ON u.id = n.user_id
        LEFT JOIN user_notification_settings s
               ON s.user_id = n.user_id AND s.category = n.category
        ORDER BY n.created_at
        """,
        limit,
        lease_seconds,
    )
    return rows


async def next_due_in(conn: asyncpg.Connection) -> float | None:
    """Seconds until the next delivery is due (0: now; None: nothing queued)."""
    seconds: float | None = await conn.fetchval(
        "SELECT greatest(0, extract(epoch FROM min(available_at) - now()))::float8 "
        "FROM notification_deliveries"
    )
    return seconds


async def finish(conn: asyncpg.Connection, notification_ids: Sequence[uuid.UUID]) -> None:
    await conn.execute(
        "DELETE FROM notification_deliveries WHERE notification_id = ANY($1::uuid[])",
        list(notification_ids),
    )


async def retry_later(
    conn: asyncpg.Connection, notification_ids: Sequence[uuid.UUID], delays: Sequence[float]
) -> None:
    """Deliver these again after their delays (seconds, one per id)."""
    await conn.execute(
        """
        UPDATE notification_deliveries d
        SET available_at = now() + make_interval(secs => r.delay)
        FROM unnest($1::uuid[], $2::float8[]) AS r(id, delay)
        WHERE d.notification_id = r.id
        """,
        list(notification_ids),
        list(delays),
    )


async def record_tickets(
    conn: asyncpg.Connection,
    notification_ids: Sequence[uuid.UUID],
    tokens: Sequence[str],
    ticket_ids: Sequence[str | None],
    errors: Sequence[str | None],
) -> None:
    """One row per push message Expo answered (arrays run in parallel)."""
    await conn.execute(
        """
        INSERT INTO push_tickets (notification_id, token, ticket_id, status, error)
        SELECT n, t, i, CASE WHEN e IS NULL THEN 'ok' ELSE 'error' END, e
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS r(n, t, i, e)
        """,
        list(notification_ids),
        list(tokens),
        list(ticket_ids),
        list(errors),
    )


async def deactivate_tokens(conn: asyncpg.Connection, tokens: Sequence[str]) -> None:
    """Expo says these devices are gone: never push to them again (until re-registered)."""
    await conn.execute(
        "UPDATE push_notification_tokens SET is_active = false, updated_at = now() "
        "WHERE token = ANY($1::text[]) AND is_active",
        list(tokens),
    )


async def touch_tokens(conn: asyncpg.Connection, tokens: Sequence[str]) -> None:
    await conn.execute(
        "UPDATE push_notification_tokens SET last_used_at = now() WHERE token = ANY($1::text[])",
        list(tokens),
    )


async def tickets_to_check(
    conn: asyncpg.Connection, older_than: datetime, limit: int
) -> list[asyncpg.Record]:
    """Accepted tickets whose receipt is due: (id, ticket_id, token)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, ticket_id, token FROM push_tickets
        WHERE ticket_id IS NOT NULL AND receipt_checked_at IS NULL AND created_at <= $1
        ORDER BY created_at
        LIMIT $2
        """,
        older_than,
        limit,
    )
    return rows


async def record_receipts(
    conn: asyncpg.Connection,
    ids: Sequence[uuid.UUID],
    statuses: Sequence[str],
    errors: Sequence[str | None],
) -> None:
    await conn.execute(
        """
        UPDATE push_tickets p
        SET receipt_checked_at = now(), receipt_status = r.status, receipt_error = r.error
        FROM unnest($1::uuid[], $2::text[], $3::text[]) AS r(id, status, error)
        WHERE p.id = r.id
        """,
        list(ids),
        list(statuses),
        list(errors),
    )


async def purge_tickets(conn: asyncpg.Connection, older_than: datetime) -> int:
    status: str = await conn.execute(
        "DELETE FROM push_tickets WHERE created_at < $1 "
        "AND (ticket_id IS NULL OR receipt_checked_at IS NOT NULL)",
        older_than,
    )
    return int(status.split()[-1])


async def claim_sms(
    conn: asyncpg.Connection, notification_id: uuid.UUID, user_id: uuid.UUID, daily_cap: int
) -> bool:
    """Record that this notification goes out by SMS, unless it did already or the
    user got `daily_cap` of them in the last 24 hours. Call in a transaction."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('notification_sms:' || $1))", str(user_id)
    )
    sent = await conn.fetchval(
        """
        INSERT INTO notification_sms (notification_id, user_id)
        SELECT $1, $2
        WHERE (SELECT count(*) FROM notification_sms
               WHERE user_id = $2 AND sent_at > now() - interval '24 hours') < $3
        ON CONFLICT (notification_id) DO NOTHING
        RETURNING true
        """,
        notification_id,
        user_id,
        daily_cap,
    )
    return bool(sent)


async def release_sms(conn: asyncpg.Connection, notification_id: uuid.UUID) -> None:
    """The SMS could not be sent: it may be tried again."""
    await conn.execute("DELETE FROM notification_sms WHERE notification_id = $1", notification_id)
