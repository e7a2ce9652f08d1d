"""Matching: the event a wave works on, its exactly-ranked candidates, and the
invitations a wave writes. Also the sweeps that start new waves.

Ranking is exact: candidates are found through the users' reach index (a GiST
box around each home, sized by that user's own distance preference), every
hard filter is applied in the same scan, and only the survivors are scored
against the event vector. No approximate vector index is involved, so no
candidate can be lost to one (docs/MATCHING.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import numpy as np
import numpy.typing as npt

# Statuses that hold a place at the event (counted against max_attendees, and
# the people matching must keep apart from blocked or unwanted newcomers).
TAKEN_STATUSES = ("pending_payment", "confirmed")


async def lock_event_for_matching(conn: asyncpg.Connection, event_id: uuid.UUID) -> None:
    """Serialise waves of one event (transaction-scoped); accepts are not blocked."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('match_event:' || $1, 0))",
        str(event_id),
    )


async def wave_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> asyncpg.Record | None:
    """What a wave needs to know about the event: its rules, place, time, counts."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT e.id, e.status, e.title, e.description, e.event_vector, e.embedding_model,
               e.max_attendees, e.age_min, e.age_max, e.price_level, e.timezone,
               e.starts_at, e.ends_at, e.match_waves,
               hp.user_id AS host_user_id, hp.host_name,
               sp.id AS host_profile_id,
               l.latitude, l.longitude,
               (e.starts_at AT TIME ZONE e.timezone) AS local_start,
               (SELECT count(*) FROM invitations i
                 WHERE i.event_id = e.id AND i.status = ANY($2::text[])) AS taken,
               (SELECT count(*) FROM invitations i
                 WHERE i.event_id = e.id AND i.status = 'sent') AS open_invitations,
               ARRAY(SELECT c.user_id FROM event_collaborators c
                      WHERE c.event_id = e.id AND c.user_id IS NOT NULL) AS collaborator_user_ids
        FROM events e
        JOIN host_profiles hp ON hp.id = e.host_id
        LEFT JOIN social_profiles sp ON sp.user_id = hp.user_id
        LEFT JOIN LATERAL (
            SELECT loc.latitude, loc.longitude
            FROM event_itinerary_stops s JOIN locations loc ON loc.id = s.location_id
            WHERE s.event_id = e.id ORDER BY s."order" LIMIT 1
        ) l ON true
        WHERE e.id = $1
        """,
        event_id,
        list(TAKEN_STATUSES),
    )
    return row


async def observed_acceptance(conn: asyncpg.Connection, since: dt.datetime) -> tuple[int, int]:
    """(accepted, answered-or-expired) invitations created since `since`. Invitations
    cancelled with their event before anyone answered say nothing and are left out."""
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE status IN ('pending_payment', 'confirmed', 'payment_failed')
                                   OR (status = 'cancelled' AND responded_at IS NOT NULL
                                       AND decline_reason IS NULL)) AS accepted,
               count(*) FILTER (WHERE status NOT IN ('sent', 'cancelled')
                                   OR (status = 'cancelled' AND responded_at IS NOT NULL))
                   AS resolved
        FROM invitations
        WHERE created_at >= $1
        """,
        since,
    )
    assert row is not None
    return int(row["accepted"]), int(row["resolved"])


@dataclass(frozen=True, kw_only=True)
class CandidateSearch:
    """Everything the candidate query filters and ranks on (docs/MATCHING.md)."""

    event_id: uuid.UUID
    latitude: float  # the first stop
    longitude: float
    event_date: dt.date  # local date of the start, for ages
    age_min: int
    age_max: int
    price_level: int | None
    weekday: str  # availability_preferences keys
    slot: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    now: dt.datetime
    excluded_user_ids: list[uuid.UUID]  # host and collaborators
    event_vector: npt.NDArray[np.float32]
    model_id: str
    positive_type: str
    negative_type: str
    recent_since: dt.datetime
    weights: tuple[float, float, float, float, float, float, float]
    unknown_reliability: float
    limit: int


# $1..$27 are CandidateSearch's fields in order (the weights fill $19..$25).
_RANKED_CANDIDATES = """
WITH taken AS (
    SELECT sp.id AS profile_id, sp.user_id, sp.gender, sp.interested_in
    FROM invitations i JOIN social_profiles sp ON sp.id = i.profile_id
    WHERE i.event_id = $1 AND i.status IN ('pending_payment', 'confirmed')
),
-- Blocks are checked against the host, the collaborators and everyone taking a place.
guarded AS (
    SELECT unnest($13::uuid[]) AS user_id
    UNION SELECT user_id FROM taken
),
candidates AS (
    SELECT u.id AS user_id, sp.id AS profile_id, sp.gender, sp.interested_in,
           u.min_lead_time_days
    FROM users u
    JOIN social_profiles sp ON sp.user_id = u.id
    WHERE u.status = 'active'
      AND u.home_latitude IS NOT NULL
      -- GiST box_ops has box @> box (not box @> point): the stop as a zero-size box.
      AND reach_box(u.home_latitude, u.home_longitude, u.distance_preference)
          @> box(point($3, $2), point($3, $2))
      AND distance_miles(u.home_latitude, u.home_longitude, $2, $3) <= u.distance_preference
      AND u.birth_date <= $4::date - make_interval(years => $5)
      AND u.birth_date > $4::date - make_interval(years => $6 + 1)
      AND ($7::int IS NULL OR coalesce(u.price_sensitivity, 4) >= $7)
      AND coalesce(u.availability_preferences -> $8::text ->> $9::text, '') <> 'red'
      AND $10::timestamptz >= $12::timestamptz + make_interval(days => u.min_lead_time_days)
      AND u.id <> ALL($13::uuid[])
      AND NOT EXISTS (SELECT 1 FROM invitations i
                      WHERE i.event_id = $1 AND i.profile_id = sp.id)
      AND NOT EXISTS (SELECT 1 FROM blocked_users b JOIN guarded g
                        ON b.blocked_user_id = g.user_id
                      WHERE b.blocker_user_id = u.id)
      AND NOT EXISTS (SELECT 1 FROM blocked_users b JOIN guarded g
                        ON b.blocker_user_id = g.user_id
                      WHERE b.blocked_user_id = u.id)
      AND NOT EXISTS (SELECT 1 FROM connections c JOIN taken t
                        ON t.profile_id = c.connected_profile_id
                      WHERE c.user_profile_id = sp.id AND c.does_not_want_to_connect_again)
      AND NOT EXISTS (SELECT 1 FROM connections c JOIN taken t
                        ON t.profile_id = c.user_profile_id
                      WHERE c.connected_profile_id = sp.id AND c.does_not_want_to_connect_again)
      AND NOT EXISTS (SELECT 1 FROM invitations i JOIN events e ON e.id = i.event_id
                      WHERE i.profile_id = sp.id
                        AND i.status IN ('pending_payment', 'confirmed')
                        AND e.status IN ('published', 'completed')
                        AND e.starts_at < $11 AND e.ends_at > $10)
),
scored AS (
    SELECT c.user_id, c.profile_id, c.min_lead_time_days,
           coalesce(1 - (pv.vector <=> $14), 0) AS interest_similarity,
           coalesce(1 - (nv.vector <=> $14), 0) AS dislike_similarity,
           coalesce(m.absentee_rating, $26::float8) AS reliability,
           least(greatest(coalesce(m.contribution_score, 0), 0), 10) / 10 AS contribution,
           (SELECT least(count(*), 3) / 3.0 FROM connections cn JOIN taken t
              ON t.profile_id = cn.connected_profile_id
            WHERE cn.user_profile_id = c.profile_id AND cn.wants_to_connect_again)
               AS connect_again,
           coalesce((SELECT avg((t.gender = ANY(c.interested_in)
                                 AND c.gender = ANY(t.interested_in))::int)
                     FROM taken t), 0) AS group_fit,
           (SELECT count(*) FROM invitations ri
            WHERE ri.profile_id = c.profile_id AND ri.created_at >= $18) AS recent_invites
    FROM candidates c
    LEFT JOIN user_interest_vectors pv
           ON pv.user_id = c.user_id AND pv.vector_type = $16 AND pv.embedding_model = $15
    LEFT JOIN user_interest_vectors nv
           ON nv.user_id = c.user_id AND nv.vector_type = $17 AND nv.embedding_model = $15
    LEFT JOIN user_internal_metrics m ON m.user_id = c.user_id
)
SELECT user_id, profile_id, min_lead_time_days,
       $19::float8 * interest_similarity - $20::float8 * dislike_similarity
       + $21::float8 * reliability + $22::float8 * contribution
       + $23::float8 * connect_again + $24::float8 * group_fit
       - $25::float8 * recent_invites AS score
FROM scored
ORDER BY score DESC, profile_id
LIMIT $27
"""


async def ranked_candidates(conn: asyncpg.Connection, q: CandidateSearch) -> list[asyncpg.Record]:
    """The best `q.limit` people passing every hard filter, best first:
    (user_id, profile_id, min_lead_time_days, score)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        _RANKED_CANDIDATES,
        q.event_id,
        q.latitude,
        q.longitude,
        q.event_date,
        q.age_min,
        q.age_max,
        q.price_level,
        q.weekday,
        q.slot,
        q.starts_at,
        q.ends_at,
        q.now,
        q.excluded_user_ids,
        q.event_vector,
        q.model_id,
        q.positive_type,
        q.negative_type,
        q.recent_since,
        *q.weights,
        q.unknown_reliability,
        q.limit,
    )
    return rows


async def reason_material(
    conn: asyncpg.Connection,
    profile_ids: Sequence[uuid.UUID],
    host_profile_id: uuid.UUID | None,
    event_vector: npt.NDArray[np.float32],
    model_id: str,
) -> dict[uuid.UUID, tuple[list[str], list[str]]]:
    """Per invitee: (interests shared with the host, own interests), each ordered
    by closeness to the event (unembedded interests last)."""
    rows = await conn.fetch(
        """
        SELECT p.profile_id,
               ARRAY(SELECT i.name
                     FROM profile_interests pi JOIN interests i ON i.id = pi.interest_id
                     WHERE pi.profile_id = p.profile_id
                       AND EXISTS (SELECT 1 FROM profile_interests hi
                                   WHERE hi.profile_id = $2 AND hi.interest_id = pi.interest_id)
                     ORDER BY CASE WHEN i.embedding_model = $4 THEN i.vector <=> $3 END
                              NULLS LAST, i.name
                     LIMIT 3) AS shared,
               ARRAY(SELECT i.name
                     FROM profile_interests pi JOIN interests i ON i.id = pi.interest_id
                     WHERE pi.profile_id = p.profile_id
                     ORDER BY CASE WHEN i.embedding_model = $4 THEN i.vector <=> $3 END
                              NULLS LAST, i.name
                     LIMIT 3) AS own
        FROM unnest($1::uuid[]) AS p(profile_id)
        """,
        list(profile_ids),
        host_profile_id,
        event_vector,
        model_id,
    )
    return {r["profile_id"]: (list(r["shared"]), list(r["own"])) for r in rows}


async def insert_invitations(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    wave: int,
    profile_ids: Sequence[uuid.UUID],
    reasons: Sequence[str],
    expires_at: Sequence[dt.datetime],
    scores: Sequence[float],
) -> list[uuid.UUID]:
    """Invite; a profile already invited to the event is skipped (never twice).
    Returns the invited profile ids."""
    rows = await conn.fetch(
        """
        INSERT INTO invitations (event_id, profile_id, match_reason, expires_at, wave, match_score)
        SELECT $1, p, r, x, $2, s
        FROM unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::float8[]) AS t(p, r, x, s)
        ON CONFLICT (event_id, profile_id) DO NOTHING
        RETURNING profile_id
        """,
        event_id,
        wave,
        list(profile_ids),
        list(reasons),
        list(expires_at),
        list(scores),
    )
    return [r["profile_id"] for r in rows]


async def still_matchable(conn: asyncpg.Connection, event_id: uuid.UUID, now: dt.datetime) -> bool:
    """Lock the event against cancellation until the wave commits, and say whether
    it may still invite (published, not started)."""
    ok: bool | None = await conn.fetchval(
        "SELECT status = 'published' AND starts_at > $2 FROM events WHERE id = $1 FOR SHARE",
        event_id,
        now,
    )
    return bool(ok)


async def record_wave(conn: asyncpg.Connection, event_id: uuid.UUID, now: dt.datetime) -> int:
    wave: int = await conn.fetchval(
        "UPDATE events SET match_waves = match_waves + 1, last_wave_at = $2 WHERE id = $1 "
        "RETURNING match_waves",
        event_id,
        now,
    )
    return wave


async def expire_invitations(conn: asyncpg.Connection, now: dt.datetime) -> list[uuid.UUID]:
    """Expire unanswered invitations past their time; the events they belong to."""
    rows = await conn.fetch(
        """
        UPDATE invitations SET status = 'expired', updated_at = $1
        WHERE status = 'sent' AND expires_at <= $1
        RETURNING event_id
        """,
        now,
    )
    return sorted({r["event_id"] for r in rows})


async def events_needing_a_wave(
    conn: asyncpg.Connection, now: dt.datetime, quiet_since: dt.datetime
) -> list[uuid.UUID]:
    """Published, not started, not full, nobody left to answer, and no wave since
    `quiet_since`: new people may have become candidates."""
    rows = await conn.fetch(
        """
        SELECT e.id FROM events e
        WHERE e.status = 'published' AND e.starts_at > $1
          AND (e.last_wave_at IS NULL OR e.last_wave_at < $2)
          AND NOT EXISTS (SELECT 1 FROM invitations i
                          WHERE i.event_id = e.id AND i.status = 'sent')
          AND (SELECT count(*) FROM invitations i
               WHERE i.event_id = e.id AND i.status IN ('pending_payment', 'confirmed'))
              < e.max_attendees
        """,
        now,
        quiet_since,
    )
    return [r["id"] for r in rows]
