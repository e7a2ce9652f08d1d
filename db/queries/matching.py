"""Matching: the event a wave works on, its exactly-ranked candidates, and the
invitations a wave writes. Also the sweeps that start new waves.

Ranking is exact: candidates are found through the reach index of
match_candidates (a GiST box around each home, sized by that person's own
distance preference), every hard filter is applied in the same scan, and only
the survivors are scored against the event vector. No approximate vector index
is involved, so no candidate can be lost to one. match_candidates is one
narrow row per person, kept by triggers from the source tables (migration
0015; docs/MATCHING.md, "The candidate table").
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import asyncpg
import msgspec
import numpy as np
import numpy.typing as npt

from db.rows import many

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


class RankedCandidate(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    profile_id: uuid.UUID
    min_lead_time_days: int
    score: float


# Where the search reads people: the kept table, or (to check that it has not
# drifted) the view that computes the same rows from the source tables.
CandidateSource = Literal["match_candidates", "match_candidates_computed"]

# $1..$27 are CandidateSearch's fields in order (the weights fill $19..$25).
# The people an event must leave out are gathered first (a few rows each) and
# probed by hash, so each candidate costs one narrow row and a cosine.
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
left_out_users AS MATERIALIZED (
    SELECT x.user_id FROM unnest($13::uuid[]) AS x(user_id) WHERE x.user_id IS NOT NULL
    UNION SELECT b.blocker_user_id FROM blocked_users b JOIN guarded g
            ON b.blocked_user_id = g.user_id
    UNION SELECT b.blocked_user_id FROM blocked_users b JOIN guarded g
            ON b.blocker_user_id = g.user_id
),
left_out_profiles AS MATERIALIZED (
    -- Already invited, in any status.
    SELECT i.profile_id FROM invitations i WHERE i.event_id = $1
    -- Either side does not want to meet someone holding a place again.
    UNION SELECT c.user_profile_id FROM connections c JOIN taken t
            ON t.profile_id = c.connected_profile_id
          WHERE c.does_not_want_to_connect_again
    UNION SELECT c.connected_profile_id FROM connections c JOIN taken t
            ON t.profile_id = c.user_profile_id
          WHERE c.does_not_want_to_connect_again
    -- Holding a place at another event overlapping this one.
    UNION SELECT i.profile_id FROM invitations i JOIN events e ON e.id = i.event_id
          WHERE e.status IN ('published', 'completed') AND e.ends_at > $10 AND e.starts_at < $11
            AND i.status IN ('pending_payment', 'confirmed')
),
connect_again AS MATERIALIZED (
    SELECT cn.user_profile_id AS profile_id, least(count(*), 3) / 3.0 AS share
    FROM connections cn JOIN taken t ON t.profile_id = cn.connected_profile_id
    WHERE cn.wants_to_connect_again
    GROUP BY cn.user_profile_id
),
candidates AS (
    SELECT c.*
    FROM {source} c
    -- GiST box_ops has box @> box (not box @> point): the stop as a zero-size box.
    WHERE reach_box(c.home_latitude, c.home_longitude, c.distance_preference)
          @> box(point($3, $2), point($3, $2))
      AND distance_miles(c.home_latitude, c.home_longitude, $2, $3) <= c.distance_preference
      AND c.birth_date <= $4::date - make_interval(years => $5)
      AND c.birth_date > $4::date - make_interval(years => $6 + 1)
      AND ($7::int IS NULL OR c.price_sensitivity >= $7)
      AND c.red_slots & (SELECT availability_slot_bit($8::text, $9::text)) = 0  -- once
      AND $10::timestamptz >= $12::timestamptz + make_interval(days => c.min_lead_time_days)
      -- NOT IN over a CTE is a hash probe per row (none of its ids is NULL).
      AND c.user_id NOT IN (SELECT user_id FROM left_out_users)
      AND c.profile_id NOT IN (SELECT profile_id FROM left_out_profiles)
),
scored AS MATERIALIZED (
    SELECT c.profile_id, c.user_id, c.min_lead_time_days,
           -- Every term but the recent invitations (which only lower a score).
           $19::float8 * (
               -- The kept vector when it is of the type and model ranked with; a
               -- person without one of that type may still have one in the source
               -- table (while a new vector version rolls out).
               CASE WHEN c.positive_type = $16 THEN
                        CASE WHEN c.positive_model = $15 THEN 1 - (c.positive <=> $14) ELSE 0 END
                    WHEN c.positive_type IS NULL THEN 0
                    ELSE coalesce((SELECT 1 - (v.vector <=> $14) FROM user_interest_vectors v
                                   WHERE v.user_id = c.user_id AND v.vector_type = $16
                                     AND v.embedding_model = $15), 0)
               END)
           - $20::float8 * (
               CASE WHEN c.negative_type = $17 THEN
                        CASE WHEN c.negative_model = $15 THEN 1 - (c.negative <=> $14) ELSE 0 END
                    WHEN c.negative_type IS NULL THEN 0
                    ELSE coalesce((SELECT 1 - (v.vector <=> $14) FROM user_interest_vectors v
                                   WHERE v.user_id = c.user_id AND v.vector_type = $17
                                     AND v.embedding_model = $15), 0)
               END)
           + $21::float8 * coalesce(c.absentee_rating, $26::float8)
           + $22::float8 * least(greatest(coalesce(c.contribution_score, 0), 0), 10) / 10
           + $23::float8 * coalesce(a.share, 0)
           + $24::float8 * coalesce((SELECT avg((t.gender = ANY(c.interested_in)
                                                 AND c.gender = ANY(t.interested_in))::int)
                                     FROM taken t), 0) AS partial
    FROM candidates c
    LEFT JOIN connect_again a ON a.profile_id = c.profile_id
),
-- The lowest full score among the best $27 partial scores is at most the
-- $27th best full score; whoever's partial score is below it cannot make
-- the cut, so only the others need their recent invitations counted.
cut AS (
    SELECT min(b.partial - $25::float8 * (SELECT count(*) FROM invitations ri
                                          WHERE ri.profile_id = b.profile_id
                                            AND ri.created_at >= $18)) AS score
    FROM (SELECT profile_id, partial FROM scored ORDER BY partial DESC, profile_id LIMIT $27) b
)
SELECT s.user_id, s.profile_id, s.min_lead_time_days,
       s.partial - $25::float8 * (SELECT count(*) FROM invitations ri
                                  WHERE ri.profile_id = s.profile_id
                                    AND ri.created_at >= $18) AS score
FROM scored s
WHERE s.partial >= (SELECT score FROM cut)
ORDER BY score DESC, s.profile_id
LIMIT $27
"""
_RANKED_FROM: dict[CandidateSource, str] = {
    source: _RANKED_CANDIDATES.replace("{source}", source) for source in get_args(CandidateSource)
}


async def ranked_candidates(
    conn: asyncpg.Connection, q: CandidateSearch, source: CandidateSource = "match_candidates"
) -> list[RankedCandidate]:
    """The best `q.limit` people passing every hard filter, best first."""
    rows = await conn.fetch(
        _RANKED_FROM[source],
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
    return many(RankedCandidate, rows)


async def rebuild_match_candidates(conn: asyncpg.Connection) -> int:
    """Rewrite the candidate table from the source tables, in geographic order;
    the number of rows. For loads that bypass the triggers (a bulk COPY with
    session_replication_role = replica); readers wait while it runs."""
    await conn.execute("TRUNCATE match_candidates")
    # Computed in whatever order the joins give, then put in order by CLUSTER:
    # an ORDER BY on the wide rows would sort gigabytes on disk at a million.
    status: str = await conn.execute(
        "INSERT INTO match_candidates SELECT * FROM match_candidates_computed"
    )
    await recluster_match_candidates(conn)
    return int(status.rsplit(" ", 1)[1])


async def match_candidates_order(conn: asyncpg.Connection) -> float | None:
    """How closely the table's physical order follows geo_key, from a fresh
    sample: PostgreSQL's correlation, 1.0 right after CLUSTER; None if empty."""
    await conn.execute("ANALYZE match_candidates (geo_key)")
    order: float | None = await conn.fetchval(
        """
        SELECT correlation FROM pg_stats
        WHERE schemaname = current_schema() AND tablename = 'match_candidates'
          AND attname = 'geo_key'
        """
    )
    return order


async def recluster_match_candidates(
    conn: asyncpg.Connection, lock_timeout_ms: int | None = None
) -> None:
    """Rewrite the table in geo_key order (CLUSTER), however long it takes. It
    holds an exclusive lock throughout: searches and every change that
    refreshes a row wait. With `lock_timeout_ms`, give up (LockNotAvailableError)
    rather than queue everyone behind it for longer while waiting for the lock."""
    async with conn.transaction():
        await conn.execute("SET LOCAL statement_timeout = 0")
        if lock_timeout_ms is not None:
            await conn.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
        await conn.execute("CLUSTER match_candidates")


async def drifted_candidates(conn: asyncpg.Connection) -> list[uuid.UUID]:
    """People whose kept row differs from the one the source tables give now
    (missing, extra or changed): always none, unless the triggers were bypassed."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT user_id FROM (
            (SELECT * FROM match_candidates EXCEPT SELECT * FROM match_candidates_computed)
            UNION ALL
            (SELECT * FROM match_candidates_computed EXCEPT SELECT * FROM match_candidates)
        ) d
        ORDER BY user_id
        """
    )
    return [r["user_id"] for r in rows]


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
