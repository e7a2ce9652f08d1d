"""Ranking order on a small hand-made population: each signal moves people the
way docs/MATCHING.md says, with everything else equal."""

from __future__ import annotations

import dataclasses
import datetime as dt

import asyncpg
from matching.population import (
    Event,
    Person,
    axis,
    event,
    invite,
    person,
    set_event_vector,
    set_user_vector,
)

from db.queries import matching as q
from workers.matching import Matcher


async def ranked(
    conn: asyncpg.Connection, matcher: Matcher, ev: Event, people: list[Person]
) -> list[Person]:
    """Invite everyone in one wave and return `people` in the order of their score."""
    result = await matcher.run_wave(ev.id)
    assert result.outcome == "invited", result
    scores = dict(
        await conn.fetch(
            "SELECT profile_id, match_score FROM invitations WHERE event_id = $1 AND wave = 1",
            ev.id,
        )
    )
    assert set(scores) >= {p.profile_id for p in people}
    return sorted(people, key=lambda p: -scores[p.profile_id])


async def test_interest_similarity_orders_people(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    dim, model = matcher.embeddings.embedder.dimension, matcher.embeddings.model_id
    ev = await event(db_conn, max_attendees=2)
    await set_event_vector(db_conn, ev, axis(dim, 1), model)
    close, middling, far, unknown = [await person(db_conn) for _ in range(4)]
    await set_user_vector(
        db_conn, close, matcher.embeddings.positive_type, axis(dim, 1, 0.1), model
    )
    await set_user_vector(
        db_conn, middling, matcher.embeddings.positive_type, axis(dim, 1, 1), model
    )
    await set_user_vector(db_conn, far, matcher.embeddings.positive_type, axis(dim, -1, 0.2), model)
    assert await ranked(db_conn, matcher, ev, [far, unknown, middling, close]) == [
        close,
        middling,
        unknown,
        far,
    ]


async def test_dislikes_push_people_down(db_conn: asyncpg.Connection, matcher: Matcher) -> None:
    dim, model = matcher.embeddings.embedder.dimension, matcher.embeddings.model_id
    ev = await event(db_conn, max_attendees=1)
    await set_event_vector(db_conn, ev, axis(dim, 1), model)
    keen, wary = await person(db_conn), await person(db_conn)
    for someone in (keen, wary):
        await set_user_vector(
            db_conn, someone, matcher.embeddings.positive_type, axis(dim, 1, 0.5), model
        )
    await set_user_vector(db_conn, wary, matcher.embeddings.negative_type, axis(dim, 1), model)
    assert await ranked(db_conn, matcher, ev, [wary, keen]) == [keen, wary]


async def test_vectors_of_another_model_are_ignored(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    dim, model = matcher.embeddings.embedder.dimension, matcher.embeddings.model_id
    ev = await event(db_conn, max_attendees=1)
    await set_event_vector(db_conn, ev, axis(dim, 1), model)
    current, stale = await person(db_conn), await person(db_conn)
    await set_user_vector(
        db_conn, current, matcher.embeddings.positive_type, axis(dim, 1, 1), model
    )
    # A perfect match, but from another model: its similarity means nothing.
    await set_user_vector(db_conn, stale, matcher.embeddings.positive_type, axis(dim, 1), "old:m:1")
    assert await ranked(db_conn, matcher, ev, [stale, current]) == [current, stale]


async def test_reliability_and_contribution(db_conn: asyncpg.Connection, matcher: Matcher) -> None:
    ev = await event(db_conn, max_attendees=2)
    flaky, steady, helpful, new = [await person(db_conn) for _ in range(4)]
    for someone, absentee, contribution in [
        (flaky, 0.2, 0.0),
        (steady, 1.0, 0.0),
        (helpful, 1.0, 8.0),
    ]:
        await db_conn.execute(
            "INSERT INTO user_internal_metrics (user_id, absentee_rating, contribution_score) "
            "VALUES ($1, $2, $3)",
            someone.user_id,
            absentee,
            contribution,
        )
    # Unknown reliability counts as 0.9: behind a perfect record, ahead of a poor one.
    assert await ranked(db_conn, matcher, ev, [flaky, new, steady, helpful]) == [
        helpful,
        steady,
        new,
        flaky,
    ]


async def test_group_signals_and_recent_invitations(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, max_attendees=3)
    attendee = await person(db_conn, gender="Man", interested_in=("Woman",))
    await invite(db_conn, ev, attendee, "confirmed")
    mutual = await person(db_conn, gender="Woman", interested_in=("Man",))
    one_sided = await person(db_conn, gender="Woman", interested_in=("Woman",))
    friend = await person(db_conn, gender="Woman", interested_in=("Woman",))
    await db_conn.execute(
        "INSERT INTO connections (user_profile_id, connected_profile_id, wants_to_connect_again) "
        "VALUES ($1, $2, true)",
        friend.profile_id,
        attendee.profile_id,
    )
    busy = await person(db_conn, gender="Woman", interested_in=("Woman",))
    for _ in range(4):
        elsewhere = await event(db_conn, starts_in=dt.timedelta(days=30))
        await invite(db_conn, elsewhere, busy, "declined")
    # Group fit (0.2 x 1) beats one "connect again" (0.2 x 1/3); 4 recent
    # invitations cost 4 x 0.05.
    assert await ranked(db_conn, matcher, ev, [busy, one_sided, friend, mutual]) == [
        mutual,
        friend,
        one_sided,
        busy,
    ]


async def test_a_short_wave_is_the_top_of_the_full_ranking(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    """The search counts recent invitations only for people who can still make
    the cut: for every wave size, the wave is exactly the first people of the
    full ranking, including when invitations push the most reliable down."""
    ev = await event(db_conn, max_attendees=2)
    reliability_and_invites = [(1.0, 4), (0.95, 0), (0.9, 2), (0.85, 0), (0.8, 1), (0.7, 0)]
    people = [await person(db_conn) for _ in reliability_and_invites]
    for someone, (absentee, invites) in zip(people, reliability_and_invites, strict=True):
        await db_conn.execute(
            "INSERT INTO user_internal_metrics (user_id, absentee_rating) VALUES ($1, $2)",
            someone.user_id,
            absentee,
        )
        for _ in range(invites):
            await invite(db_conn, await event(db_conn, starts_in=dt.timedelta(days=40)), someone)
    row = await q.wave_event(db_conn, ev.id)
    assert row is not None
    now = dt.datetime.now(dt.UTC)
    search = matcher.candidate_search(
        row, axis(matcher.embeddings.embedder.dimension, 1), now, limit=100
    )
    full = await q.ranked_candidates(db_conn, search)
    # 0.3 x reliability - 0.05 x invitations: 0.10, 0.285, 0.17, 0.255, 0.19, 0.21
    assert [c.profile_id for c in full] == [people[i].profile_id for i in (1, 3, 5, 4, 2, 0)]
    for k in range(1, len(people) + 1):
        short = await q.ranked_candidates(db_conn, dataclasses.replace(search, limit=k))
        assert short == full[:k], k
