"""The candidate query returns the complete filtered set, ranked exactly: on a
random population, a wave's ranking equals a brute-force one computed here in
numpy from the same rows (recall 1.0, same order)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import cast

import asyncpg
import numpy as np
import pytest
from matching.population import (
    CENTRE,
    EARTH_RADIUS_MILES,
    axis,
    candidates,
    event,
    set_event_vector,
)

from db.queries import matching as q
from server.matching.slots import availability_slot
from workers.matching import UNKNOWN_RELIABILITY, Matcher

PEOPLE = 1500


async def _population(
    conn: asyncpg.Connection, rng: np.random.Generator, dim: int, model: str, positive: str
) -> None:
    ids = [uuid.uuid4() for _ in range(PEOPLE)]
    today = dt.date.today()
    users = []
    for n, user_id in enumerate(ids):
        availability = {
            day: {slot: "red" for slot in ("day", "night") if rng.random() < 0.3}
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
        users.append(
            (
                user_id,
                f"+1404555{n:06d}",
                today - dt.timedelta(days=int(rng.integers(18 * 365, 70 * 365))),
                CENTRE[0] + float(rng.normal(0, 0.4)),
                CENTRE[1] + float(rng.normal(0, 0.5)),
                int(rng.choice([5, 10, 25, 50])),
                None if rng.random() < 0.3 else int(rng.integers(1, 5)),
                availability,
                int(rng.integers(0, 8)),
                "active" if rng.random() < 0.97 else "suspended",
            )
        )
    await conn.executemany(
        """
        INSERT INTO users (id, phone_number, birth_date, home_latitude, home_longitude,
                           distance_preference, price_sensitivity, availability_preferences,
                           min_lead_time_days, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        users,
    )
    await conn.execute(
        "INSERT INTO social_profiles (user_id, gender, interested_in) "
        "SELECT id, 'Woman', ARRAY['Man'] FROM users WHERE phone_number LIKE '+1404555%'"
    )
    centres = rng.normal(size=(8, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 8, PEOPLE)] + rng.normal(0, 0.6, (PEOPLE, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    await conn.executemany(
        "INSERT INTO user_interest_vectors (user_id, vector, embedding_model, vector_type) "
        "VALUES ($1, $2, $3, $4)",
        [
            (u, vectors[i].astype(np.float32), model, positive)
            for i, u in enumerate(ids)
            if rng.random() < 0.9
        ],
    )
    await conn.executemany(
        "INSERT INTO user_internal_metrics (user_id, absentee_rating) VALUES ($1, $2)",
        [(u, float(rng.random())) for u in ids if rng.random() < 0.5],
    )


async def _brute_force(
    conn: asyncpg.Connection, ev_id: uuid.UUID, now: dt.datetime, model: str, positive: str
) -> list[tuple[float, uuid.UUID]]:
    """Every hard filter that this population exercises, and the score, from raw rows."""
    e = await conn.fetchrow(
        """
        SELECT e.*, e.starts_at AT TIME ZONE e.timezone AS local_start,
               l.latitude, l.longitude
        FROM events e JOIN event_itinerary_stops s ON s.event_id = e.id
        JOIN locations l ON l.id = s.location_id WHERE e.id = $1
        """,
        ev_id,
    )
    assert e is not None
    weekday, slot = availability_slot(e["local_start"])
    event_date = e["local_start"].date()
    event_vector = e["event_vector"].to_numpy()
    rows = await conn.fetch(
        """
        SELECT u.*, sp.id AS profile_id, v.vector, m.absentee_rating
        FROM users u JOIN social_profiles sp ON sp.user_id = u.id
        LEFT JOIN user_interest_vectors v
               ON v.user_id = u.id AND v.vector_type = $1 AND v.embedding_model = $2
        LEFT JOIN user_internal_metrics m ON m.user_id = u.id
        """,
        positive,
        model,
    )
    lat1, lng1 = math.radians(e["latitude"]), math.radians(e["longitude"])
    ranked = []
    for r in rows:
        if r["status"] != "active" or r["home_latitude"] is None or r["birth_date"] is None:
            continue
        lat2, lng2 = math.radians(r["home_latitude"]), math.radians(r["home_longitude"])
        a = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
        )
        if 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a))) > r["distance_preference"]:
            continue
        born = r["birth_date"]
        age = (
            event_date.year
            - born.year
            - ((event_date.month, event_date.day) < (born.month, born.day))
        )
        if not e["age_min"] <= age <= e["age_max"]:
            continue
        if e["price_level"] is not None and (r["price_sensitivity"] or 4) < e["price_level"]:
            continue
        if r["availability_preferences"].get(weekday, {}).get(slot) == "red":
            continue
        if e["starts_at"] < now + dt.timedelta(days=r["min_lead_time_days"]):
            continue
        similarity = 0.0 if r["vector"] is None else float(r["vector"].to_numpy() @ event_vector)
        reliability = UNKNOWN_RELIABILITY if r["absentee_rating"] is None else r["absentee_rating"]
        ranked.append((1.0 * similarity + 0.3 * reliability, r["profile_id"]))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    return ranked


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_ranking_is_exact_and_complete(
    db_conn: asyncpg.Connection, matcher: Matcher, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    dim, model = matcher.embeddings.embedder.dimension, matcher.embeddings.model_id
    positive = matcher.embeddings.positive_type
    await _population(db_conn, rng, dim, model, positive)
    ev = await event(
        db_conn,
        age_min=25,
        age_max=40,
        price_range=["$", "$$", "$$$", "$$$$"][seed % 4],
        starts_in=dt.timedelta(days=4 + seed),
        local_hour=[10, 19, 22][seed % 3],
    )
    vector = rng.normal(size=dim).astype(np.float32)
    await set_event_vector(db_conn, ev, vector / np.linalg.norm(vector), model)

    expected = await _brute_force(db_conn, ev.id, dt.datetime.now(dt.UTC), model, positive)
    assert len(expected) > 20  # the filters leave a real population to rank
    found = await candidates(db_conn, matcher, ev)
    assert found == {p for _, p in expected}

    result = await matcher.run_wave(ev.id)
    order = await db_conn.fetch(
        "SELECT profile_id, match_score FROM invitations WHERE event_id = $1 "
        "ORDER BY match_score DESC, profile_id",
        ev.id,
    )
    top = expected[: len(result.invited)]
    assert [r["profile_id"] for r in order] == [p for _, p in top]
    for row, (score, _) in zip(order, top, strict=True):
        assert row["match_score"] == pytest.approx(score, abs=1e-5)


async def test_the_reach_index_serves_the_search(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    """With planner statistics, the search starts from the candidates' reach
    index (not a scan of everyone), so its cost follows who can reach the event."""
    rng = np.random.default_rng(7)
    dim, model = matcher.embeddings.embedder.dimension, matcher.embeddings.model_id
    await _population(db_conn, rng, dim, model, matcher.embeddings.positive_type)
    await db_conn.execute("ANALYZE")
    ev = await event(db_conn)
    row = await q.wave_event(db_conn, ev.id)
    assert row is not None
    search = matcher.candidate_search(row, axis(dim, 1), dt.datetime.now(dt.UTC), limit=10)
    sent = _Capture()
    await q.ranked_candidates(cast(asyncpg.Connection, sent), search)
    plan = await db_conn.fetch("EXPLAIN " + sent.query, *sent.args)
    text = "\n".join(r[0] for r in plan)
    assert "match_candidates_reach_idx" in text, text


class _Capture:
    """Stands in for a connection to learn the statement the search sends."""

    query = ""
    args: tuple[object, ...] = ()

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        self.query, self.args = query, args
        return []
