"""Real attendance moves ranking: the metrics job's recompute (not hand-set
scores) puts a person with recent no-shows below an otherwise identical one."""

from __future__ import annotations

import datetime as dt

import asyncpg
from matching.population import Person, event, invite, person
from matching.test_ranking import ranked

from db.queries.metrics import refresh_member_metrics
from workers.matching import Matcher


async def _went(conn: asyncpg.Connection, someone: Person, status: str, days_ago: int) -> None:
    past = await event(conn, starts_in=dt.timedelta(days=-days_ago))
    await invite(conn, past, someone, "confirmed")
    await conn.execute(
        "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, $3)",
        past.id,
        someone.profile_id,
        status,
    )


async def test_two_recent_no_shows_rank_below_a_reliable_twin(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, max_attendees=1)
    reliable, flaky = await person(db_conn), await person(db_conn)
    for days_ago in (10, 20):
        await _went(db_conn, reliable, "attended", days_ago)
        await _went(db_conn, flaky, "no_show", days_ago)
    for someone in (reliable, flaky):
        await refresh_member_metrics(db_conn, someone.user_id)
    scores = dict(
        await db_conn.fetch(
            "SELECT user_id, absentee_rating FROM user_internal_metrics WHERE user_id = ANY($1)",
            [reliable.user_id, flaky.user_id],
        )
    )
    assert scores[flaky.user_id] < 0.9 < scores[reliable.user_id]
    assert await ranked(db_conn, matcher, ev, [flaky, reliable]) == [reliable, flaky]


async def test_recent_records_weigh_more_than_old_ones(db_conn: asyncpg.Connection) -> None:
    reformed, lapsed = await person(db_conn), await person(db_conn)
    await _went(db_conn, reformed, "no_show", 700)
    await _went(db_conn, reformed, "attended", 5)
    await _went(db_conn, lapsed, "attended", 700)
    await _went(db_conn, lapsed, "no_show", 5)
    for someone in (reformed, lapsed):
        await refresh_member_metrics(db_conn, someone.user_id)
    rows = dict(await db_conn.fetch("SELECT user_id, absentee_rating FROM user_internal_metrics"))
    assert rows[reformed.user_id] > rows[lapsed.user_id]
