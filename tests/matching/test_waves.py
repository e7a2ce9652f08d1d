"""Waves: sized to fill the event at the observed acceptance rate, repeated when
invitations expire or are declined, never inviting anyone twice, whatever runs
twice or races."""

from __future__ import annotations

import asyncio
import datetime as dt
import math

import asyncpg
import pytest
from matching.population import event, invite, person

from jobs.contract import MATCH_EVENT
from server.matching.waves import acceptance_rate, invitation_expiry, wave_size
from server.settings import Settings
from workers.embeddings import Embeddings
from workers.matching import Matcher

PRIOR = Settings().matching_prior_acceptance_rate


async def invited(conn: asyncpg.Connection, event_id: object) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT profile_id, status, wave, match_reason, expires_at FROM invitations "
        "WHERE event_id = $1 ORDER BY wave, match_score DESC",
        event_id,
    )


def test_wave_size_fills_the_remaining_places_at_the_rate() -> None:
    assert wave_size(max_attendees=8, taken=0, open_invitations=0, rate=0.5, max_wave=40) == 16
    assert wave_size(max_attendees=8, taken=6, open_invitations=0, rate=0.5, max_wave=40) == 4
    # Open invitations are expected to bring rate x their number.
    assert wave_size(max_attendees=8, taken=6, open_invitations=4, rate=0.5, max_wave=40) == 0
    assert wave_size(max_attendees=8, taken=6, open_invitations=3, rate=0.5, max_wave=40) == 1
    assert wave_size(max_attendees=8, taken=8, open_invitations=0, rate=0.5, max_wave=40) == 0
    assert wave_size(max_attendees=100, taken=0, open_invitations=0, rate=0.1, max_wave=40) == 40


def test_acceptance_rate_starts_at_the_prior_and_follows_history() -> None:
    assert acceptance_rate(0, 0, 0.35) == pytest.approx(0.35)
    assert acceptance_rate(900, 1000, 0.35) == pytest.approx((900 + 7) / 1020)
    assert acceptance_rate(0, 10_000, 0.35) == 0.05  # never below the floor


def test_invitations_close_before_the_invitees_lead_time() -> None:
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    start = now + dt.timedelta(days=4)
    ttl = dt.timedelta(hours=24)
    assert invitation_expiry(now=now, ttl=ttl, starts_at=start, lead_time_days=1) == now + ttl
    assert invitation_expiry(
        now=now,
        ttl=ttl,
        starts_at=start,
        lead_time_days=3,
    ) == start - dt.timedelta(days=3)


async def test_publish_wave_invites_enough_to_fill_the_event(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, max_attendees=6)
    people = [await person(db_conn) for _ in range(30)]
    result = await matcher.run_wave(ev.id)
    expected = math.ceil(6 / PRIOR)
    assert result.outcome == "invited"
    rows = await invited(db_conn, ev.id)
    assert len(rows) == len(result.invited) == expected
    assert {r["profile_id"] for r in rows} <= {p.profile_id for p in people}
    assert all(r["status"] == "sent" and r["wave"] == 1 and r["match_reason"] for r in rows)
    for r in rows:
        assert r["expires_at"] <= ev.starts_at - dt.timedelta(days=3)
    # Each invitee is told, in the wave's own transaction, with the reason.
    told = await db_conn.fetch(
        "SELECT sp.id AS profile_id, n.data FROM notifications n "
        "JOIN social_profiles sp ON sp.user_id = n.user_id WHERE n.kind = 'invitation_received'"
    )
    assert {t["profile_id"] for t in told} == {r["profile_id"] for r in rows}
    reasons = {r["profile_id"]: r["match_reason"] for r in rows}
    assert all(t["data"]["match_reason"] == reasons[t["profile_id"]] for t in told)


async def test_running_the_wave_again_invites_nobody_more(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, max_attendees=4)
    for _ in range(30):
        await person(db_conn)
    first = await matcher.run_wave(ev.id)
    again = await matcher.run_wave(ev.id)
    assert first.outcome == "invited"
    assert again.outcome == "covered" and again.invited == []
    assert len(await invited(db_conn, ev.id)) == len(first.invited)


async def test_racing_workers_never_invite_anyone_twice_nor_too_many(
    db_conn: asyncpg.Connection,
    pool: asyncpg.Pool,
    embeddings: Embeddings,
    settings: Settings,
) -> None:
    """Four workers (own Matcher objects, own connections) run the same wave at
    once: together they send exactly one wave's worth, each person once."""
    ev = await event(db_conn, max_attendees=5)
    for _ in range(60):
        await person(db_conn)
    workers = [Matcher(pool, embeddings, settings) for _ in range(4)]
    results = await asyncio.gather(*(w.run_wave(ev.id) for w in workers))
    rows = await invited(db_conn, ev.id)
    profile_ids = [r["profile_id"] for r in rows]
    assert len(profile_ids) == len(set(profile_ids)) == math.ceil(5 / PRIOR)
    told = await db_conn.fetchval(
        "SELECT count(*) FROM notifications WHERE kind = 'invitation_received'"
    )
    assert told == len(profile_ids)  # nobody told twice
    assert sorted(r.outcome for r in results) == ["covered", "covered", "covered", "invited"]


async def test_expired_invitations_bring_the_next_wave(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, max_attendees=2)
    for _ in range(20):
        await person(db_conn)
    first = await matcher.run_wave(ev.id)
    first_ids = set(first.invited)
    one = next(iter(first_ids))
    await db_conn.execute(
        "UPDATE invitations SET status = 'confirmed' WHERE event_id = $1 AND profile_id = $2",
        ev.id,
        one,
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    assert await matcher.expire_invitations(now=later) == 1
    statuses = {r["profile_id"]: r["status"] for r in await invited(db_conn, ev.id)}
    assert statuses[one] == "confirmed"
    assert {s for p, s in statuses.items() if p != one} == {"expired"}
    # The expiry queued the next wave in the same transaction.
    jobs = await db_conn.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = $1", MATCH_EVENT)
    assert [str(ev.id) in j["payload"].decode() for j in jobs] == [True]

    second = await matcher.run_wave(ev.id, now=later)
    assert second.outcome == "invited"
    assert not set(second.invited) & first_ids  # nobody is invited twice
    # One place left, taken 1: the rate now reflects 1 accepted of N answered.
    assert 1 <= len(second.invited) <= math.ceil(1 / 0.05)


async def test_a_decline_leaves_room_for_another_invitation(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, max_attendees=1)
    for _ in range(10):
        await person(db_conn)
    first = await matcher.run_wave(ev.id)
    assert len(first.invited) == math.ceil(1 / PRIOR)
    await db_conn.execute(
        "UPDATE invitations SET status = 'declined', decline_reason = 'busy', "
        "responded_at = now() WHERE event_id = $1",
        ev.id,
    )
    second = await matcher.run_wave(ev.id)
    assert second.outcome == "invited"
    assert not set(second.invited) & set(first.invited)


async def test_a_full_event_gets_no_wave(db_conn: asyncpg.Connection, matcher: Matcher) -> None:
    ev = await event(db_conn, max_attendees=2)
    for _ in range(2):
        await invite(db_conn, ev, await person(db_conn), "confirmed")
    for _ in range(5):
        await person(db_conn)
    result = await matcher.run_wave(ev.id)
    assert result.outcome == "full"
    assert len(await invited(db_conn, ev.id)) == 2


@pytest.mark.parametrize("status", ["draft", "cancelled", "completed"])
async def test_only_published_events_are_matched(
    db_conn: asyncpg.Connection, matcher: Matcher, status: str
) -> None:
    ev = await event(db_conn, status=status)
    await person(db_conn)
    assert (await matcher.run_wave(ev.id)).outcome == "closed"
    assert await invited(db_conn, ev.id) == []


async def test_match_reason_names_shared_interests_with_the_host(
    db_conn: asyncpg.Connection, matcher: Matcher, embeddings: Embeddings
) -> None:
    ev = await event(db_conn, max_attendees=1, title="Trail hike", description="Hiking upstate")
    guest = await person(db_conn)
    interests = dict(
        await db_conn.fetch(
            "SELECT name, id FROM interests WHERE name = ANY($1)", ["Hiking", "Photography"]
        )
    )
    assert len(interests) == 2
    host_profile = await db_conn.fetchval(
        "SELECT id FROM social_profiles WHERE user_id = $1", ev.host.user_id
    )
    for profile_id in (guest.profile_id, host_profile):
        await db_conn.executemany(
            "INSERT INTO profile_interests (profile_id, interest_id) VALUES ($1, $2)",
            [(profile_id, i) for i in interests.values()],
        )
    await embeddings.embed_catalog()
    await matcher.run_wave(ev.id)
    reason = await db_conn.fetchval(
        "SELECT match_reason FROM invitations WHERE profile_id = $1", guest.profile_id
    )
    # Closest to the event first.
    assert reason == "You and Maya both love hiking and photography"


async def test_the_sweep_retries_unfilled_events_with_nobody_left_to_answer(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, max_attendees=3)
    assert (await matcher.run_wave(ev.id)).outcome == "no_candidates"
    # Just tried: the sweep waits MATCHING_RETRY_MINUTES.
    assert await matcher.rematch_quiet_events() == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
    assert await matcher.rematch_quiet_events(now=later) == 1
    newcomer = await person(db_conn)
    assert (await matcher.run_wave(ev.id, now=later)).invited == [newcomer.profile_id]
