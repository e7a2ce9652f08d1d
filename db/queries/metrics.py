"""The internal scores matching ranks by (docs/MATCHING.md "Reliability and
contribution"): recomputed from the database for one person at a time."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

# A record's weight halves every HALF_LIFE_DAYS after its event ended.
HALF_LIFE_DAYS = 180.0

_REFRESH = """
WITH me AS (SELECT id AS profile_id FROM social_profiles WHERE user_id = $1),
weighted AS (
    SELECT a.status,
           power(0.5, greatest(extract(epoch FROM $2 - coalesce(e.ends_at, a.created_at)), 0)
                      / 86400 / $3) AS w
    FROM me JOIN attendance a ON a.profile_id = me.profile_id JOIN events e ON e.id = a.event_id
),
att AS (
    SELECT coalesce(sum(w * CASE status WHEN 'attended' THEN 1.0
                                        WHEN 'check_in_abandoned' THEN 0.5 ELSE 0.0 END), 0)
               AS kept,
           coalesce(sum(w), 0) AS total,
           coalesce(sum(w) FILTER (WHERE status = 'attended'), 0) AS attended
    FROM weighted
),
kudos AS (
    SELECT coalesce(sum(power(0.5, greatest(extract(epoch FROM $2 - k.created_at), 0)
                                   / 86400 / $3)), 0) AS received
    FROM me JOIN attendee_kudos k ON k.receiver_profile_id = me.profile_id
)
INSERT INTO user_internal_metrics (user_id, absentee_rating, contribution_score)
SELECT $1,
       -- As if from two earlier events kept at 0.9: one slip of a newcomer doesn't sink them.
       (att.kept + 1.8) / (att.total + 2.0),
       -- 0 for a newcomer, 5 at five recent kudos-or-two-attendances' worth, never 10.
       10 * (kudos.received + 0.5 * att.attended) / (kudos.received + 0.5 * att.attended + 5)
FROM att, kudos
WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
ON CONFLICT (user_id) DO UPDATE
    SET absentee_rating = EXCLUDED.absentee_rating,
        contribution_score = EXCLUDED.contribution_score,
        updated_at = now()
"""


async def refresh_member_metrics(
    conn: asyncpg.Connection, user_id: uuid.UUID, now: datetime | None = None
) -> None:
    """absentee_rating (0 never turns up .. 1 always does) and contribution_score
    (0..10) of one user, from their attendance and the kudos they received."""
    await conn.execute(_REFRESH, user_id, now or datetime.now().astimezone(), HALF_LIFE_DAYS)
