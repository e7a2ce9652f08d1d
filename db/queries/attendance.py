"""Attendance records and the reliability score computed from them."""

from __future__ import annotations

import uuid

import asyncpg

# Statuses that count against someone's reliability (data model: absentee_rating).
UNRELIABLE = ("cancelled_late", "no_show", "check_in_abandoned")


async def record(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    profile_id: uuid.UUID,
    status: str,
    reported_by: uuid.UUID | None,
) -> None:
    await conn.execute(
        """
        INSERT INTO attendance (event_id, profile_id, status, reported_by_profile_id)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (event_id, profile_id) DO UPDATE
            SET status = EXCLUDED.status,
                reported_by_profile_id = EXCLUDED.reported_by_profile_id,
                updated_at = now()
        """,
        event_id,
        profile_id,
        status,
        reported_by,
    )


async def refresh_reliability(conn: asyncpg.Connection, profile_id: uuid.UUID) -> None:
    """absentee_rating from 0 (never turns up) to 1 (always does): attended over
    all records, pulled toward 0.9 as if from two earlier events, so one late
    cancellation of a newcomer doesn't sink them (matching ranks on it)."""
    await conn.execute(
        """
        INSERT INTO user_internal_metrics (user_id, absentee_rating)
        SELECT sp.user_id,
               (count(*) FILTER (WHERE a.status = 'attended') + 1.8) / (count(a.id) + 2.0)
        FROM social_profiles sp
        LEFT JOIN attendance a ON a.profile_id = sp.id
        WHERE sp.id = $1
        GROUP BY sp.user_id
        ON CONFLICT (user_id) DO UPDATE
            SET absentee_rating = EXCLUDED.absentee_rating, updated_at = now()
        """,
        profile_id,
    )
