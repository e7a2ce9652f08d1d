"""Every hard filter of matching, with one person on each side of each boundary.

Each test builds one published event and a few people who differ only in the
filtered property, runs the real candidate query, and checks exactly who
comes back. Someone who fails any hard filter must never be invited.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest
from matching.population import (
    CENTRE,
    Event,
    Person,
    candidates,
    east_of_centre,
    event,
    invite,
    north_of_centre,
    person,
    years_before,
)

from server.matching.slots import availability_slot
from workers.matching import Matcher


def ids(*people: Person) -> set[uuid.UUID]:
    return {p.profile_id for p in people}


async def test_only_active_people_with_a_social_profile(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn)
    active = await person(db_conn)
    suspended = await person(db_conn, status="suspended")
    banned = await person(db_conn, status="banned")
    pending = await person(db_conn, status="verification_pending")
    await person(db_conn, profile=False)
    assert await candidates(db_conn, matcher, ev) == ids(active)
    assert not ids(suspended, banned, pending) & await candidates(db_conn, matcher, ev)


async def test_age_is_taken_on_the_event_date(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, age_min=25, age_max=35)
    day = ev.local_date
    turns_25_that_day = await person(db_conn, birth_date=years_before(day, 25))
    turns_25_next_day = await person(
        db_conn, birth_date=years_before(day, 25) + dt.timedelta(days=1)
    )
    last_day_of_35 = await person(db_conn, birth_date=years_before(day, 36) + dt.timedelta(days=1))
    turns_36_that_day = await person(db_conn, birth_date=years_before(day, 36))
    no_birth_date = await person(db_conn)
    await db_conn.execute("UPDATE users SET birth_date = NULL WHERE id = $1", no_birth_date.user_id)
    found = await candidates(db_conn, matcher, ev)
    assert found == ids(turns_25_that_day, last_day_of_35)
    assert not ids(turns_25_next_day, turns_36_that_day, no_birth_date) & found


async def test_distance_uses_each_persons_own_radius(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, place=CENTRE)
    inside = await person(db_conn, home=north_of_centre(24.8), distance=25)
    outside = await person(db_conn, home=north_of_centre(25.2), distance=25)
    far_but_willing = await person(db_conn, home=north_of_centre(79.5), distance=80)
    far_and_unwilling = await person(db_conn, home=north_of_centre(80.5), distance=80)
    near_but_homebody = await person(db_conn, home=north_of_centre(1.2), distance=1)
    # East-west too: a degree of longitude is shorter away from the equator.
    east = await person(db_conn, home=(CENTRE[0], CENTRE[1] + 24.8 / 52.3), distance=25)
    no_home = await person(db_conn, home=None)
    # The reach index's boxes must never cut off anyone inside their radius,
    # however small: due east is where a box's width is tightest.
    east_edges = [
        await person(db_conn, home=east_of_centre(0.9999 * miles), distance=miles)
        for miles in (1, 5, 10, 100)
    ]
    just_past_east = await person(db_conn, home=east_of_centre(1.0001), distance=1)
    found = await candidates(db_conn, matcher, ev)
    assert found == ids(inside, far_but_willing, east, *east_edges)
    assert just_past_east.profile_id not in found
    assert not ids(outside, far_and_unwilling, near_but_homebody, no_home) & found


async def test_price_level_within_price_sensitivity(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, price_range="$$$")
    at_limit = await person(db_conn, price=3)
    above = await person(db_conn, price=4)
    below = await person(db_conn, price=2)
    unset = await person(db_conn, price=None)
    assert await candidates(db_conn, matcher, ev) == ids(at_limit, above, unset)
    assert below.profile_id not in await candidates(db_conn, matcher, ev)


async def test_an_event_without_a_price_range_passes_every_price_filter(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, price_range=None)
    thrifty = await person(db_conn, price=1)
    assert await candidates(db_conn, matcher, ev) == ids(thrifty)


@pytest.mark.parametrize(("local_hour", "slot"), [(19, "night"), (10, "day"), (4, "night")])
async def test_availability_red_slot_is_excluded(
    db_conn: asyncpg.Connection, matcher: Matcher, local_hour: int, slot: str
) -> None:
    ev = await event(db_conn, local_hour=local_hour, starts_in=dt.timedelta(days=12))
    weekday, computed_slot = availability_slot(
        await db_conn.fetchval(
            "SELECT starts_at AT TIME ZONE timezone FROM events WHERE id = $1", ev.id
        )
    )
    assert computed_slot == slot
    other_slot = "day" if slot == "night" else "night"
    other_day = "mon" if weekday != "mon" else "tue"
    red = await person(db_conn, availability={weekday: {slot: "red"}})
    yellow = await person(db_conn, availability={weekday: {slot: "yellow"}})
    red_other_slot = await person(db_conn, availability={weekday: {other_slot: "red"}})
    red_other_day = await person(db_conn, availability={other_day: {slot: "red"}})
    silent = await person(db_conn, availability={})
    found = await candidates(db_conn, matcher, ev)
    assert found == ids(yellow, red_other_slot, red_other_day, silent)
    assert red.profile_id not in found


async def test_weekday_and_slot_are_local_to_the_event(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    # 21:00 in Los Angeles is already the next day in UTC.
    ev = await event(db_conn, timezone="America/Los_Angeles", local_hour=21)
    local = await db_conn.fetchval(
        "SELECT starts_at AT TIME ZONE 'America/Los_Angeles' FROM events WHERE id = $1", ev.id
    )
    weekday, slot = availability_slot(local)
    assert slot == "night"
    red_locally = await person(db_conn, availability={weekday: {"night": "red"}})
    utc_weekday, _ = availability_slot(ev.starts_at.astimezone(dt.UTC).replace(tzinfo=None))
    assert utc_weekday != weekday
    red_on_the_utc_day = await person(db_conn, availability={utc_weekday: {"night": "red"}})
    found = await candidates(db_conn, matcher, ev)
    assert found == ids(red_on_the_utc_day)
    assert red_locally.profile_id not in found


async def test_lead_time_is_respected(db_conn: asyncpg.Connection, matcher: Matcher) -> None:
    ev = await event(db_conn, starts_in=dt.timedelta(days=3, hours=2), local_hour=None)
    wants_3_days = await person(db_conn, lead_days=3)
    wants_4_days = await person(db_conn, lead_days=4)
    spontaneous = await person(db_conn, lead_days=0)
    assert await candidates(db_conn, matcher, ev) == ids(wants_3_days, spontaneous)
    assert wants_4_days.profile_id not in await candidates(db_conn, matcher, ev)


async def test_blocks_with_the_host_or_anyone_taking_a_place(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn)
    attendee = await person(db_conn)
    await invite(db_conn, ev, attendee, "confirmed")
    holder = await person(db_conn)
    await invite(db_conn, ev, holder, "pending_payment")
    declined = await person(db_conn)
    await invite(db_conn, ev, declined, "declined")
    stranger = await person(db_conn)

    blocked_host = await person(db_conn)
    blocked_by_host = await person(db_conn)
    blocked_attendee = await person(db_conn)
    blocked_by_holder = await person(db_conn)
    blocked_someone_who_declined = await person(db_conn)
    blocked_stranger = await person(db_conn)
    fine = await person(db_conn)
    for blocker, blocked in [
        (blocked_host, ev.host),
        (ev.host, blocked_by_host),
        (blocked_attendee, attendee),
        (holder, blocked_by_holder),
        (blocked_someone_who_declined, declined),
        (blocked_stranger, stranger),
    ]:
        await db_conn.execute(
            "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)",
            blocker.user_id,
            blocked.user_id,
        )
    found = await candidates(db_conn, matcher, ev)
    assert found == ids(stranger, fine, blocked_someone_who_declined, blocked_stranger)
    assert not ids(blocked_host, blocked_by_host, blocked_attendee, blocked_by_holder) & found


async def test_does_not_want_to_connect_again_with_anyone_confirmed(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn)
    attendee = await person(db_conn)
    await invite(db_conn, ev, attendee, "confirmed")
    avoids_attendee = await person(db_conn)
    avoided_by_attendee = await person(db_conn)
    likes_attendee = await person(db_conn)
    avoids_someone_else = await person(db_conn)
    someone_else = await person(db_conn, home=None)
    for owner, other, avoid in [
        (avoids_attendee, attendee, True),
        (attendee, avoided_by_attendee, True),
        (likes_attendee, attendee, False),
        (avoids_someone_else, someone_else, True),
    ]:
        await db_conn.execute(
            """
            INSERT INTO connections (user_profile_id, connected_profile_id,
                                     does_not_want_to_connect_again, wants_to_connect_again)
            VALUES ($1, $2, $3, NOT $3)
            """,
            owner.profile_id,
            other.profile_id,
            avoid,
        )
    found = await candidates(db_conn, matcher, ev)
    assert found == ids(likes_attendee, avoids_someone_else)


async def test_nobody_already_invited_nor_the_host_or_collaborators(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn)
    for status in ("sent", "declined", "expired", "cancelled", "payment_failed"):
        await invite(db_conn, ev, await person(db_conn), status)
    collaborator = await person(db_conn)
    await db_conn.execute(
        "INSERT INTO event_collaborators (event_id, user_id) VALUES ($1, $2)",
        ev.id,
        collaborator.user_id,
    )
    fresh = await person(db_conn)
    assert await candidates(db_conn, matcher, ev) == ids(fresh)


async def test_no_confirmed_event_overlapping_in_time(
    db_conn: asyncpg.Connection, matcher: Matcher
) -> None:
    ev = await event(db_conn, starts_in=dt.timedelta(days=10), hours=3, local_hour=None)
    busy = await person(db_conn)
    holding = await person(db_conn)
    back_to_back = await person(db_conn)
    declined_overlap = await person(db_conn)
    cancelled_event = await person(db_conn)

    async def other_event(start: dt.datetime, hours: float, status: str = "published") -> Event:
        other = await event(db_conn, local_hour=None, starts_in=dt.timedelta(0), hours=hours)
        await db_conn.execute(
            "UPDATE events SET starts_at = $2, ends_at = $3, status = $4 WHERE id = $1",
            other.id,
            start,
            start + dt.timedelta(hours=hours),
            status,
        )
        return other

    overlapping = await other_event(ev.starts_at + dt.timedelta(hours=2), 2)
    await invite(db_conn, overlapping.id, busy, "confirmed")
    await invite(db_conn, overlapping.id, holding, "pending_payment")
    await invite(db_conn, overlapping.id, declined_overlap, "declined")
    before = await other_event(ev.starts_at - dt.timedelta(hours=2), 2)
    await invite(db_conn, before.id, back_to_back, "confirmed")
    called_off = await other_event(ev.starts_at, 3, status="cancelled")
    await invite(db_conn, called_off.id, cancelled_event, "confirmed")

    found = await candidates(db_conn, matcher, ev)
    assert ids(back_to_back, declined_overlap, cancelled_event) <= found
    assert not ids(busy, holding) & found
