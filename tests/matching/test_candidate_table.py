"""match_candidates cannot drift from the tables it is derived from.

Every kind of change that feeds it is made the way the app makes it (the API,
or the job that computes vectors or metrics), and after each one the kept
table equals the view over the source tables row for row, and the search over
the table ranks exactly what the same search over the source tables ranks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import asyncpg
import numpy as np
import pytest
from builders import Kit
from helpers import bearer
from matching.population import CENTRE, Event, axis, event, person, set_event_vector

from db.pool import connect
from db.queries import matching as q
from db.queries.metrics import refresh_member_metrics
from server.matching.slots import availability_slot
from workers.maintenance import RECLUSTER_BELOW, keep_match_candidates_in_order
from workers.matching import Matcher


async def _search(
    db_conn: asyncpg.Connection, matcher: Matcher, ev: Event, source: q.CandidateSource
) -> list[q.RankedCandidate]:
    row = await q.wave_event(db_conn, ev.id)
    assert row is not None
    search = matcher.candidate_search(
        row, row["event_vector"].to_numpy(), dt.datetime.now(dt.UTC), limit=10**6
    )
    return await q.ranked_candidates(db_conn, search, source)


async def _in_step(
    db_conn: asyncpg.Connection, matcher: Matcher, ev: Event, profile_id: str
) -> q.RankedCandidate | None:
    """Assert the table matches its sources; the person's ranked row, if any."""
    assert await q.drifted_candidates(db_conn) == []
    kept = await _search(db_conn, matcher, ev, "match_candidates")
    computed = await _search(db_conn, matcher, ev, "match_candidates_computed")
    assert [(c.profile_id, c.score) for c in kept] == [(c.profile_id, c.score) for c in computed]
    return next((c for c in kept if str(c.profile_id) == profile_id), None)


async def _ok(response: Any, status: int = 200) -> None:
    assert response.status_code == status, response.text


async def test_every_kind_of_change_keeps_the_table_exact(
    kit: Kit, db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    client, dim, model = (
        kit.client,
        matcher.embeddings.embedder.dimension,
        matcher.embeddings.model_id,
    )
    ev = await event(db_conn, price_range="$$")
    await set_event_vector(db_conn, ev, axis(dim, 1), model)
    weekday, slot = availability_slot(
        await db_conn.fetchval(
            "SELECT $1::timestamptz AT TIME ZONE 'America/New_York'", ev.starts_at
        )
    )
    me = await kit.person("Robin")
    auth, pid, uid = bearer(me), me["profile_id"], uuid.UUID(me["user_id"])

    async def patch_me(**body: Any) -> None:
        await _ok(await client.patch("/v1/me", headers=auth, json=body))

    # A new member has no home or birth date yet: not a candidate.
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await patch_me(birth_date="1994-05-01", home_latitude=CENTRE[0], home_longitude=CENTRE[1])
    first = await _in_step(db_conn, matcher, ev, pid)
    assert first is not None

    # Preferences: each one that keeps them out, then back.
    await patch_me(availability_preferences={weekday: {slot: "red"}})
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await patch_me(availability_preferences={weekday: {slot: "green"}})
    assert await _in_step(db_conn, matcher, ev, pid) is not None
    await patch_me(price_sensitivity=1)
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await patch_me(price_sensitivity=None)
    await patch_me(home_latitude=CENTRE[0] + 1.0, home_longitude=CENTRE[1])  # ~69 miles north
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await patch_me(distance_preference=100)
    assert await _in_step(db_conn, matcher, ev, pid) is not None
    await patch_me(
        home_latitude=CENTRE[0],
        home_longitude=CENTRE[1],
        distance_preference=25,
        min_lead_time_days=60,
    )
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await patch_me(min_lead_time_days=2, birth_date="1950-01-01")  # past the age_max of 60
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await patch_me(birth_date="1994-05-01")

    # The profile (gender and interested_in count once someone holds a place).
    await _ok(
        await client.patch(
            "/v1/me/social-profile",
            headers=auth,
            json={"gender": "Man", "interested_in": ["Woman"]},
        )
    )
    assert await _in_step(db_conn, matcher, ev, pid) is not None

    # Interests, then a like, each recomputed by the vector job.
    catalog = await db_conn.fetch("SELECT id FROM interests ORDER BY name LIMIT 3")
    await _ok(
        await client.put(
            "/v1/me/interests", headers=auth, json={"interest_ids": [r["id"] for r in catalog]}
        )
    )
    await matcher.embeddings.refresh_user_vectors(uid)
    with_interests = await _in_step(db_conn, matcher, ev, pid)
    assert with_interests is not None and with_interests.score != first.score
    other = await kit.person("Kai")
    await _ok(
        await client.put(
            "/v1/me/interests",
            headers=bearer(other),
            json={"interest_ids": [r["id"] for r in catalog[:1]]},
        )
    )
    await _ok(await client.put(f"/v1/profiles/{other['profile_id']}/like", headers=auth), 204)
    await matcher.embeddings.refresh_user_vectors(uid)
    liked = await _in_step(db_conn, matcher, ev, pid)
    assert liked is not None and liked.score != with_interests.score

    # Metrics, as the refresh_member_metrics job computes them.
    past = await event(db_conn, starts_in=dt.timedelta(days=-20), status="completed")
    await db_conn.execute(
        "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, 'no_show')",
        past.id,
        uuid.UUID(pid),
    )
    await refresh_member_metrics(db_conn, uid)
    unreliable = await _in_step(db_conn, matcher, ev, pid)
    assert unreliable is not None and unreliable.score < liked.score

    # Status, set by staff.
    staff = await kit.person("Staff")
    await db_conn.execute(
        "INSERT INTO staff_accounts (user_id, role) VALUES ($1, 'moderator')",
        uuid.UUID(staff["user_id"]),
    )
    for status, present in (("suspended", False), ("active", True)):
        await _ok(
            await client.patch(
                f"/v1/admin/users/{uid}", headers=bearer(staff), json={"status": status}
            )
        )
        assert (await _in_step(db_conn, matcher, ev, pid) is not None) is present
    # Suspension signed them out.
    phone = await db_conn.fetchval("SELECT phone_number FROM users WHERE id = $1", uid)
    auth = bearer(await kit.sign_in(phone))

    # Blocks are read at search time, from blocked_users: the host blocks them.
    host_profile = await db_conn.fetchval(
        "SELECT id FROM social_profiles WHERE user_id = $1", ev.host.user_id
    )
    await db_conn.execute(
        "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)",
        ev.host.user_id,
        uid,
    )
    assert host_profile is not None
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await db_conn.execute("DELETE FROM blocked_users WHERE blocked_user_id = $1", uid)
    await _ok(
        await client.post("/v1/blocks", headers=auth, json={"profile_id": str(host_profile)}), 201
    )
    assert await _in_step(db_conn, matcher, ev, pid) is None
    await _ok(await client.delete(f"/v1/blocks/{host_profile}", headers=auth), 204)
    assert await _in_step(db_conn, matcher, ev, pid) is not None

    # Deleting the account removes the row.
    await _ok(await client.delete("/v1/me", headers=auth), 204)
    assert await _in_step(db_conn, matcher, ev, pid) is None
    assert (
        await db_conn.fetchval("SELECT count(*) FROM match_candidates WHERE user_id = $1", uid) == 0
    )


async def test_concurrent_changes_to_one_person_both_land(
    kit: Kit, db_conn: asyncpg.Connection, database_url: str, matcher: Matcher
) -> None:
    """Two transactions change the same person at once (their preferences and
    their vector): whichever refreshes the row last must see both changes, not
    only its own snapshot's."""
    dim, model = matcher.embeddings.embedder.dimension, matcher.embeddings.model_id
    me = await kit.person("Robin")
    uid = uuid.UUID(me["user_id"])
    await db_conn.execute(
        "UPDATE users SET birth_date = '1994-05-01', home_latitude = $2, home_longitude = $3 "
        "WHERE id = $1",
        uid,
        *CENTRE,
    )
    first, second = await connect(database_url), await connect(database_url)
    try:
        one, two = first.transaction(), second.transaction()
        await one.start()
        await two.start()
        await first.execute("UPDATE users SET distance_preference = 40 WHERE id = $1", uid)
        vector = asyncio.create_task(
            second.execute(
                "INSERT INTO user_interest_vectors (user_id, vector, embedding_model, vector_type) "
                "VALUES ($1, $2, $3, $4)",
                uid,
                axis(dim, 1),
                model,
                matcher.embeddings.positive_type,
            )
        )
        await asyncio.sleep(0.3)
        assert not vector.done()  # waits for the first refresh to commit
        await one.commit()
        await vector
        await two.commit()
    finally:
        await first.close()
        await second.close()
    assert await q.drifted_candidates(db_conn) == []
    row = await db_conn.fetchrow(
        "SELECT distance_preference, positive_type FROM match_candidates WHERE user_id = $1", uid
    )
    assert row is not None
    assert (row["distance_preference"], row["positive_type"]) == (
        40,
        matcher.embeddings.positive_type,
    )


async def test_a_repeatable_read_change_is_refused(kit: Kit, db_conn: asyncpg.Connection) -> None:
    """Its snapshot could not see a change committed while it waited, so it
    must not write the row; nothing of it is kept."""
    me = await kit.person("Robin")
    uid = uuid.UUID(me["user_id"])
    with pytest.raises(asyncpg.RaiseError, match="READ COMMITTED"):
        async with db_conn.transaction(isolation="repeatable_read"):
            await db_conn.execute("UPDATE users SET distance_preference = 40 WHERE id = $1", uid)
    assert await db_conn.fetchval("SELECT distance_preference FROM users WHERE id = $1", uid) == 25


async def _scattered(db_conn: asyncpg.Connection, rng: np.random.Generator, n: int) -> None:
    """People added in an order unrelated to where they live."""
    for _ in range(n):
        await person(db_conn, home=(float(rng.uniform(25, 48)), float(rng.uniform(-124, -70))))


async def test_the_nightly_job_puts_the_table_back_in_geographic_order(
    db_conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await _scattered(db_conn, np.random.default_rng(3), 300)
    order = await q.match_candidates_order(db_conn)
    assert order is not None and order < RECLUSTER_BELOW
    assert await keep_match_candidates_in_order(pool) is True
    order = await q.match_candidates_order(db_conn)
    assert order is not None and order > 0.99
    # In order now: the next run leaves it alone.
    assert await keep_match_candidates_in_order(pool) is False
    assert await q.drifted_candidates(db_conn) == []


async def test_the_nightly_job_gives_way_to_a_running_search(
    db_conn: asyncpg.Connection, pool: asyncpg.Pool, database_url: str
) -> None:
    """A long search holds the table: the job gives up after its lock timeout
    instead of queueing every search and profile change behind it."""
    await _scattered(db_conn, np.random.default_rng(4), 100)
    search = await connect(database_url)
    try:
        async with search.transaction():
            await search.execute("SELECT count(*) FROM match_candidates")
            assert await keep_match_candidates_in_order(pool, lock_timeout_ms=200) is False
    finally:
        await search.close()
    order = await q.match_candidates_order(db_conn)
    assert order is not None and order < RECLUSTER_BELOW
