"""Hand-made people and events for the matching tests, written straight to the
database (the matcher reads only the database, so tests need no HTTP)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt

from db.queries import matching as q
from workers.matching import Matcher

# Midtown Manhattan; one degree of latitude is ~69.05 miles.
CENTRE = (40.7580, -73.9855)
MILES_PER_DEGREE_LAT = 69.05
EARTH_RADIUS_MILES = 3958.7613


def north_of_centre(miles: float) -> tuple[float, float]:
    return CENTRE[0] + miles / MILES_PER_DEGREE_LAT, CENTRE[1]


def east_of_centre(miles: float) -> tuple[float, float]:
    """The point due east at exactly `miles` on the sphere distance_miles() uses."""
    lat = math.radians(CENTRE[0])
    half = math.asin(math.sin(miles / (2 * EARTH_RADIUS_MILES)) / math.cos(lat))
    return CENTRE[0], CENTRE[1] + math.degrees(2 * half)


def years_before(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year - years)


@dataclass
class Person:
    user_id: uuid.UUID
    profile_id: uuid.UUID


@dataclass
class Event:
    id: uuid.UUID
    host: Person
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_date: dt.date


_counter = iter(range(10**6))


async def person(
    conn: asyncpg.Connection,
    *,
    age_on: tuple[dt.date, int] | None = None,
    birth_date: dt.date | None = None,
    home: tuple[float, float] | None = CENTRE,
    distance: int = 25,
    price: int | None = None,
    availability: dict[str, dict[str, str]] | None = None,
    lead_days: int = 3,
    status: str = "active",
    gender: str = "Woman",
    interested_in: tuple[str, ...] = ("Man", "Woman"),
    profile: bool = True,
    first_name: str = "Sam",
) -> Person:
    """A user (30 years old unless told) with a social profile unless told."""
    if birth_date is None:
        day, years = age_on or (dt.date.today(), 30)
        birth_date = years_before(day, years) - dt.timedelta(days=100)
    n = next(_counter)
    user_id: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO users (phone_number, birth_date, home_latitude, home_longitude,
                           distance_preference, price_sensitivity, availability_preferences,
                           min_lead_time_days, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
        """,
        f"+1303555{n:04d}{uuid.uuid4().int % 1000:03d}",
        birth_date,
        home[0] if home else None,
        home[1] if home else None,
        distance,
        price,
        availability or {},
        lead_days,
        status,
    )
    profile_id = uuid.UUID(int=0)
    if profile:
        profile_id = await conn.fetchval(
            """
            INSERT INTO social_profiles (user_id, first_name, gender, interested_in)
            VALUES ($1, $2, $3, $4) RETURNING id
            """,
            user_id,
            first_name,
            gender,
            list(interested_in),
        )
    return Person(user_id, profile_id)


async def host(conn: asyncpg.Connection, name: str = "Maya") -> tuple[Person, uuid.UUID]:
    """A host with a social profile and no home (so never a candidate); returns
    (person, host_profiles.id)."""
    someone = await person(conn, first_name=name, home=None)
    host_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO host_profiles (user_id, host_name) VALUES ($1, $2) RETURNING id",
        someone.user_id,
        name,
    )
    return someone, host_id


async def event(
    conn: asyncpg.Connection,
    *,
    starts_in: dt.timedelta = dt.timedelta(days=10),
    hours: float = 3,
    place: tuple[float, float] = CENTRE,
    age_min: int = 21,
    age_max: int = 60,
    price_range: str | None = None,
    max_attendees: int = 8,
    min_attendees: int = 2,
    timezone: str = "America/New_York",
    status: str = "published",
    title: str = "Sunset hike and picnic",
    description: str = "A relaxed hike along the river, then a picnic at golden hour.",
    local_hour: int | None = 19,
) -> Event:
    """A published event with one stop at `place`. The start is `starts_in` from
    now, moved to `local_hour` o'clock local time when given."""
    the_host, host_id = await host(conn)
    start = dt.datetime.now(dt.UTC) + starts_in
    if local_hour is not None:
        start = await conn.fetchval(
            "SELECT (date_trunc('day', $1::timestamptz AT TIME ZONE $2) "
            "+ make_interval(hours => $3)) AT TIME ZONE $2",
            start,
            timezone,
            local_hour,
        )
    end = start + dt.timedelta(hours=hours)
    cost = {"range": price_range} if price_range else None
    event_id: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO events (host_id, title, description, status, min_attendees, max_attendees,
                            age_min, age_max, estimated_event_cost, timezone, starts_at, ends_at,
                            published_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now()) RETURNING id
        """,
        host_id,
        title,
        description,
        status,
        min(min_attendees, max_attendees),
        max_attendees,
        age_min,
        age_max,
        cost,
        timezone,
        start,
        end,
    )
    location_id = await conn.fetchval(
        "INSERT INTO locations (latitude, longitude) VALUES ($1, $2) RETURNING id", *place
    )
    await conn.execute(
        """
        INSERT INTO event_itinerary_stops (event_id, location_id, "order", start_time, end_time)
        VALUES ($1, $2, 1, $3, $4)
        """,
        event_id,
        location_id,
        start,
        end,
    )
    local_date: dt.date = await conn.fetchval(
        "SELECT ($1::timestamptz AT TIME ZONE $2)::date", start, timezone
    )
    return Event(event_id, the_host, start, end, local_date)


async def invite(
    conn: asyncpg.Connection,
    ev: Event | uuid.UUID,
    someone: Person,
    status: str = "sent",
    **columns: Any,
) -> uuid.UUID:
    event_id = ev.id if isinstance(ev, Event) else ev
    extra = "".join(f", {c}" for c in columns)
    values = "".join(f", ${i + 4}" for i in range(len(columns)))
    invitation_id: uuid.UUID = await conn.fetchval(
        f"INSERT INTO invitations (event_id, profile_id, status{extra}) "
        f"VALUES ($1, $2, $3{values}) RETURNING id",
        event_id,
        someone.profile_id,
        status,
        *columns.values(),
    )
    return invitation_id


def unit(vector: npt.ArrayLike) -> npt.NDArray[np.float32]:
    v = np.asarray(vector, dtype=np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


def axis(dimension: int, *weights: float) -> npt.NDArray[np.float32]:
    """A unit vector over the first few axes, e.g. axis(384, 1, 1) ~ 45 degrees."""
    v = np.zeros(dimension, dtype=np.float32)
    v[: len(weights)] = weights
    return unit(v)


async def set_event_vector(
    conn: asyncpg.Connection, ev: Event, vector: npt.NDArray[np.float32], model_id: str
) -> None:
    await conn.execute(
        "UPDATE events SET event_vector = $2, embedding_model = $3 WHERE id = $1",
        ev.id,
        vector,
        model_id,
    )


async def set_user_vector(
    conn: asyncpg.Connection,
    someone: Person,
    vector_type: str,
    vector: npt.NDArray[np.float32],
    model_id: str,
) -> None:
    await conn.execute(
        "INSERT INTO user_interest_vectors (user_id, vector, embedding_model, vector_type) "
        "VALUES ($1, $2, $3, $4)",
        someone.user_id,
        vector,
        model_id,
        vector_type,
    )


async def candidates(conn: asyncpg.Connection, matcher: Matcher, ev: Event) -> set[uuid.UUID]:
    """Profile ids of everyone passing the hard filters for `ev` (ranked against
    the event's vector, or an arbitrary one when it has none)."""
    row = await q.wave_event(conn, ev.id)
    assert row is not None
    vector = (
        row["event_vector"].to_numpy()
        if row["event_vector"] is not None
        else axis(matcher.embeddings.embedder.dimension, 1)
    )
    search = matcher.candidate_search(row, vector, dt.datetime.now(dt.UTC), limit=10**6)
    rows = await q.ranked_candidates(conn, search)
    return {r.profile_id for r in rows}
