"""Matching benchmark: the candidate query and whole waves on synthetic populations.

    .venv/bin/python bench/matching.py [--sizes 10000,100000,1000000] [--events 30]

For each size it loads a clustered synthetic population with COPY into a
throwaway embedded PostgreSQL in a temp dir (or an empty `--database-url`),
publishes events, and times the candidate query as the matching worker runs
it and whole waves (`Matcher.run_wave`). It then checks the query against an
independent brute-force ranking in numpy: the recall of the top k, and the
whole filtered set. Not a test: run by hand, see bench/README.md. Everything
it starts is stopped and deleted on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import os
import re
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast, get_args
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import numpy.typing as npt
import structlog
from fanout import machine_facts
from rest import _machine_ticks, git_revision

from db.embedded import start_embedded_postgres
from db.migrate import migrate
from db.pool import connect, create_pool
from db.queries import matching as q
from db.queries.profiles import Gender
from server.matching.waves import acceptance_rate, wave_size
from server.settings import Settings
from workers.embeddings import Embeddings
from workers.matching import ACCEPTANCE_WINDOW, Matcher

ROOT = Path(__file__).resolve().parent.parent

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Mask = npt.NDArray[np.bool_]

MODEL_ID = "bench:clustered:384"
STALE_MODEL_ID = "bench:stale:384"  # vectors of another model: ignored by matching
DIM = 384  # the local model's
CLUSTERS = 60
LOW64 = (1 << 64) - 1
US = 1_000_000  # microseconds per second
# Goals per wave (ms) by percentile, and for recall.
WAVE_GOALS_MS = {100_000: {0.99: 50.0}, 1_000_000: {0.5: 150.0, 0.99: 500.0}}
RECALL_GOAL = 0.99
# The bench runs one query at a time (one core at most); more than this much of
# the machine busy means something else competes for the CPU.
IDLE_WARNING = 15.0
BUSY_WARNING = 100.0 / (os.cpu_count() or 1) + 10

# The brute force's own copy of the rules (docs/MATCHING.md), on purpose not
# imported from the code under test.
EARTH_RADIUS_MILES = 3958.7613
EXACT_UNKNOWN_RELIABILITY = 0.9
DAY_FIRST_HOUR, DAY_LAST_HOUR = 5, 16  # local start hours counted as "day"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TAKEN = ("pending_payment", "confirmed")
BUSY_EVENT_STATUSES = ("published", "completed")
SCORE_TIE = 1e-6  # pgvector sums cosines in float32: scores closer than this may swap

GENDERS: tuple[str, ...] = get_args(Gender)  # bit g of a person's interested_in
GENDER_SHARES = (0.46, 0.46, 0.04, 0.01, 0.01, 0.01, 0.005, 0.005)
USER_STATUSES = ("active", "suspended", "verification_pending", "banned")

# (name, latitude, longitude, zone), largest first: people are spread over them
# by a Zipf-like law (the first holds ~14%).
METROS: tuple[tuple[str, float, float, str], ...] = (
    ("New York", 40.7128, -74.0060, "America/New_York"),
    ("Los Angeles", 34.0522, -118.2437, "America/Los_Angeles"),
    ("Chicago", 41.8781, -87.6298, "America/Chicago"),
    ("Dallas", 32.7767, -96.7970, "America/Chicago"),
    ("Houston", 29.7604, -95.3698, "America/Chicago"),
    ("Washington", 38.9072, -77.0369, "America/New_York"),
    ("Philadelphia", 39.9526, -75.1652, "America/New_York"),
    ("Miami", 25.7617, -80.1918, "America/New_York"),
    ("Atlanta", 33.7490, -84.3880, "America/New_York"),
    ("Boston", 42.3601, -71.0589, "America/New_York"),
    ("Phoenix", 33.4484, -112.0740, "America/Phoenix"),
    ("San Francisco", 37.7749, -122.4194, "America/Los_Angeles"),
    ("Riverside", 33.9806, -117.3755, "America/Los_Angeles"),
    ("Detroit", 42.3314, -83.0458, "America/Detroit"),
    ("Seattle", 47.6062, -122.3321, "America/Los_Angeles"),
    ("Minneapolis", 44.9778, -93.2650, "America/Chicago"),
    ("San Diego", 32.7157, -117.1611, "America/Los_Angeles"),
    ("Tampa", 27.9506, -82.4572, "America/New_York"),
    ("Denver", 39.7392, -104.9903, "America/Denver"),
    ("Baltimore", 39.2904, -76.6122, "America/New_York"),
    ("St. Louis", 38.6270, -90.1994, "America/Chicago"),
    ("Orlando", 28.5383, -81.3792, "America/New_York"),
    ("Charlotte", 35.2271, -80.8431, "America/New_York"),
    ("San Antonio", 29.4241, -98.4936, "America/Chicago"),
    ("Portland", 45.5152, -122.6784, "America/Los_Angeles"),
    ("Sacramento", 38.5816, -121.4944, "America/Los_Angeles"),
    ("Pittsburgh", 40.4406, -79.9959, "America/New_York"),
    ("Austin", 30.2672, -97.7431, "America/Chicago"),
    ("Las Vegas", 36.1699, -115.1398, "America/Los_Angeles"),
    ("Cincinnati", 39.1031, -84.5120, "America/New_York"),
    ("Kansas City", 39.0997, -94.5786, "America/Chicago"),
    ("Columbus", 39.9612, -82.9988, "America/New_York"),
    ("Indianapolis", 39.7684, -86.1581, "America/Indiana/Indianapolis"),
    ("Cleveland", 41.4993, -81.6944, "America/New_York"),
    ("Nashville", 36.1627, -86.7816, "America/Chicago"),
    ("Salt Lake City", 40.7608, -111.8910, "America/Denver"),
    ("New Orleans", 29.9511, -90.0715, "America/Chicago"),
    ("Honolulu", 21.3069, -157.8583, "Pacific/Honolulu"),
    ("Anchorage", 61.2181, -149.9003, "America/Anchorage"),
    ("Boise", 43.6150, -116.2023, "America/Boise"),
)
METRO_WEIGHTS = 1 / np.arange(1, len(METROS) + 1) ** 0.7
METRO_WEIGHTS /= METRO_WEIGHTS.sum()
METRO_LAT = np.array([m[1] for m in METROS])
METRO_LNG = np.array([m[2] for m in METROS])
MILES_PER_DEGREE = 69.09
SMALL_METROS = 15  # "a few events in small metros" come from the last ones

# The edge probe: people placed just inside their reach, due north, east, south
# and west of each measured event, and otherwise eligible.
EDGE_REACHES = (1, 5, 10, 25)
EDGE_BEARINGS = ((0.0, "N"), (90.0, "E"), (180.0, "S"), (270.0, "W"))
EDGE_INSIDE = 1 - 1e-7  # of the reach: ~0.03 inch in at 5 miles

AGE_WINDOWS = ((21, 35), (25, 45), (30, 60), (18, 30), (35, 70), (21, 65))
PRICE_RANGES = (None, "$", "$$", "$$$", "$$$$")
LOCAL_HOURS = (10, 11, 13, 15, 18, 19, 20, 21)


# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------


def unit_rows(rows: npt.NDArray[np.floating[Any]]) -> F32:
    out = np.asarray(rows, dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


@dataclass
class Population:
    """One row per user (index i is user i and their profile); ids are
    uuid(hi << 64 | i), so the index is the id's low 64 bits."""

    n: int
    user_hi: U64
    profile_hi: U64
    metro: I64
    status: I64  # index into USER_STATUSES
    has_home: Mask
    lat: F64
    lng: F64
    distance: I64
    birth: I64  # days since 1970-01-01
    price: I64  # 0 = NULL (every level)
    has_prefs: Mask
    cells: npt.NDArray[np.int8]  # (n, 14): 0 green, 1 yellow, 2 red; weekday * 2 + night
    lead: I64
    gender: I64
    interested: I64  # bit g = GENDERS[g]
    pos: F32  # (n, DIM)
    pos_model: I64  # 0 none, 1 current, 2 stale model
    neg: F32  # (number of negative rows, DIM)
    neg_of: I64  # row of neg, -1 none
    neg_model: I64  # per neg row: 1 current, 2 stale
    has_metrics: Mask
    absentee: F64  # NaN = NULL
    contribution: F64
    interest_user: I64  # profile_interests rows
    interest_id: I64

    def user_id(self, i: int) -> uuid.UUID:
        return uuid.UUID(int=(int(self.user_hi[i]) << 64) | i)

    def profile_id(self, i: int) -> uuid.UUID:
        return uuid.UUID(int=(int(self.profile_hi[i]) << 64) | i)

    @property
    def active(self) -> Mask:
        return cast(Mask, self.status == 0)


def clustered(
    rng: np.random.Generator,
    centres: F32,
    primary: I64,
    secondary: I64 | None,
    noise: float,
) -> F32:
    """centre (+ 0.6 x a second centre where secondary >= 0) + gaussian noise, unit length."""
    out = np.empty((len(primary), DIM), dtype=np.float32)
    chunk = 100_000
    for lo in range(0, len(primary), chunk):
        hi = min(len(primary), lo + chunk)
        v = centres[primary[lo:hi]].copy()
        if secondary is not None:
            second = secondary[lo:hi]
            mixed = second >= 0
            v[mixed] += 0.6 * centres[second[mixed]]
        v += noise * rng.standard_normal((hi - lo, DIM), dtype=np.float32)
        out[lo:hi] = unit_rows(v)
    return out


def cluster_weights() -> F64:
    w = 1 / np.sqrt(np.arange(1, CLUSTERS + 1))
    return cast(F64, w / w.sum())


def generate_population(
    n: int, rng: np.random.Generator, today: dt.date, centres: F32, interest_cluster: I64
) -> Population:
    metro = rng.choice(len(METROS), size=n, p=METRO_WEIGHTS)
    # Bigger metros sprawl more: 10..20 miles.
    sigma = 10 + 10 * np.sqrt(METRO_WEIGHTS / METRO_WEIGHTS.max())
    lat = METRO_LAT[metro] + rng.normal(size=n) * sigma[metro] / MILES_PER_DEGREE
    lng = METRO_LNG[metro] + rng.normal(size=n) * sigma[metro] / (
        MILES_PER_DEGREE * np.cos(np.radians(METRO_LAT[metro]))
    )
    age_years = 18 + 53 * rng.beta(2.0, 3.5, size=n)  # 18..70, mostly 25-40
    birth = (today - dt.date(1970, 1, 1)).days - np.floor(age_years * 365.2425).astype(np.int64)
    status = rng.choice(4, size=n, p=(0.98, 0.008, 0.008, 0.004))
    gender = rng.choice(len(GENDERS), size=n, p=GENDER_SHARES)
    # Interested in: the other binary gender, the same, both, everyone, or any mix.
    everyone = (1 << len(GENDERS)) - 1
    choice = rng.choice(5, size=n, p=(0.62, 0.1, 0.15, 0.1, 0.03))
    other = np.where(gender == 0, 1 << 1, np.where(gender == 1, 1 << 0, 0b11))
    same = np.where(gender <= 1, 1 << gender, 0b11)
    interested = np.select(
        [choice == 0, choice == 1, choice == 2, choice == 3],
        [other, same, np.full(n, 0b11), np.full(n, everyone)],
        rng.integers(1, everyone + 1, size=n),
    )

    weights = cluster_weights()
    primary = rng.choice(CLUSTERS, size=n, p=weights)
    secondary = np.where(rng.random(n) < 0.3, rng.choice(CLUSTERS, size=n, p=weights), -1)
    pos = clustered(rng, centres, primary, secondary, noise=0.068)
    has_neg = rng.random(n) < 0.2
    neg_of = np.where(has_neg, np.cumsum(has_neg) - 1, -1)
    neg = clustered(rng, centres, rng.choice(CLUSTERS, size=int(has_neg.sum())), None, 0.068)

    # Interests: mostly from the person's own cluster, some at random.
    per_user = rng.integers(3, 9, size=n)
    users = np.repeat(np.arange(n), per_user)
    members = [np.flatnonzero(interest_cluster == c) for c in range(CLUSTERS)]
    sizes = np.array([len(m) for m in members])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.concatenate(members)
    own_cluster = primary[users]
    picked = flat[offsets[own_cluster] + (rng.random(len(users)) * sizes[own_cluster]).astype(int)]
    random_pick = rng.integers(0, len(interest_cluster), size=len(users))
    chosen = np.where(rng.random(len(users)) < 0.7, picked, random_pick)
    pairs = np.unique(users * len(interest_cluster) + chosen)

    has_metrics = rng.random(n) < 0.5
    absentee = np.where(rng.random(n) < 0.15, np.nan, rng.beta(6, 1.5, size=n))
    contribution = np.where(rng.random(n) < 0.2, np.nan, rng.uniform(-2, 12, size=n))
    return Population(
        n=n,
        user_hi=rng.integers(0, 2**63, size=n, dtype=np.uint64),
        profile_hi=rng.integers(0, 2**63, size=n, dtype=np.uint64),
        metro=metro,
        status=status,
        has_home=rng.random(n) >= 0.01,
        lat=lat,
        lng=lng,
        distance=rng.choice([5, 10, 25, 50, 100], size=n, p=(0.15, 0.25, 0.35, 0.15, 0.10)),
        birth=birth,
        price=rng.choice(5, size=n, p=(0.3, 0.1, 0.25, 0.2, 0.15)),
        has_prefs=rng.random(n) < 0.8,
        cells=rng.choice(3, size=(n, 14), p=(0.5, 0.25, 0.25)).astype(np.int8),
        lead=rng.choice(8, size=n, p=(0.1, 0.15, 0.2, 0.2, 0.1, 0.1, 0.05, 0.1)),
        gender=gender,
        interested=interested,
        pos=pos,
        pos_model=rng.choice(3, size=n, p=(0.1, 0.88, 0.02)),
        neg=neg,
        neg_of=neg_of,
        neg_model=np.where(rng.random(len(neg)) < 0.03, 2, 1),
        has_metrics=has_metrics,
        absentee=np.where(has_metrics, absentee, np.nan),
        contribution=np.where(has_metrics, contribution, np.nan),
        interest_user=pairs // len(interest_cluster),
        interest_id=pairs % len(interest_cluster),
    )


def miles(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> Any:
    """distance_miles() of 0007, term for term."""
    a = (
        np.sin(np.radians(lat2 - lat1) / 2) ** 2
        + np.cos(np.radians(lat1))
        * np.cos(np.radians(lat2))
        * np.sin(np.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.minimum(1.0, np.sqrt(a)))


@dataclass
class EventRow:
    id: uuid.UUID
    host_id: uuid.UUID
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    title: str
    timezone: str = "America/New_York"
    min_attendees: int = 2
    max_attendees: int = 8
    age_min: int = 21
    age_max: int = 60
    price_range: str | None = None
    vector: F32 | None = None


@dataclass
class BenchEvent:
    index: int  # into World.events
    lat: float
    lng: float
    timezone: str
    metro: int
    host_user: int
    collaborators: list[int]
    vector: F32
    age_min: int
    age_max: int
    price_level: int | None


@dataclass
class World:
    """Everything besides the people: hosts, events and history."""

    hosts: list[tuple[uuid.UUID, int]] = field(default_factory=list)  # (host_profiles.id, user)
    events: list[EventRow] = field(default_factory=list)
    bench: list[BenchEvent] = field(default_factory=list)
    inv_event: list[int] = field(default_factory=list)
    inv_user: list[int] = field(default_factory=list)
    inv_status: list[str] = field(default_factory=list)
    inv_created: list[dt.datetime] = field(default_factory=list)
    blocks: dict[tuple[int, int], None] = field(default_factory=dict)  # (blocker, blocked)
    # (owner, connected) -> (wants_to_connect_again, does_not_want_to_connect_again)
    connections: dict[tuple[int, int], tuple[bool, bool]] = field(default_factory=dict)

    def invite(self, event: int, users: Iterable[int], status: str, created: dt.datetime) -> None:
        for u in users:
            self.inv_event.append(event)
            self.inv_user.append(int(u))
            self.inv_status.append(status)
            self.inv_created.append(created)

    def block(self, blocker: int, blocked: int) -> None:
        if blocker != blocked:
            self.blocks.setdefault((blocker, blocked), None)

    def connect(self, owner: int, other: int, *, wants: bool, does_not: bool) -> None:
        if owner != other:
            self.connections.setdefault((owner, other), (wants, does_not))


def local_start(day: dt.date, hour: int, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def same_metro_partners(pop: Population, rng: np.random.Generator, people: I64) -> I64:
    """A random person of the same metro for each of `people`."""
    order = np.argsort(pop.metro, kind="stable")
    counts = np.bincount(pop.metro, minlength=len(METROS))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    m = pop.metro[people]
    return cast(I64, order[starts[m] + (rng.random(len(people)) * counts[m]).astype(np.int64)])


def destination(lat: float, lng: float, bearing: float, distance: float) -> tuple[float, float]:
    """The point `distance` miles from (lat, lng) along the great circle leaving at `bearing`."""
    d, phi, theta = distance / EARTH_RADIUS_MILES, np.radians(lat), np.radians(bearing)
    phi2 = np.arcsin(np.sin(phi) * np.cos(d) + np.cos(phi) * np.sin(d) * np.cos(theta))
    dlng = np.arctan2(
        np.sin(theta) * np.sin(d) * np.cos(phi), np.cos(d) - np.sin(phi) * np.sin(phi2)
    )
    return float(np.degrees(phi2)), lng + float(np.degrees(dlng))


class Draw:
    """Hands out people from a shuffled pool, each at most once."""

    def __init__(self, pool: I64) -> None:
        self.pool = pool
        self.cursor = 0

    def __call__(self, k: int) -> list[int]:
        out = [int(u) for u in self.pool[self.cursor : self.cursor + k]]
        self.cursor += len(out)
        return out


def generate_world(
    pop: Population, rng: np.random.Generator, now: dt.datetime, n_events: int, centres: F32
) -> World:
    w = World()
    n = pop.n
    eligible = pop.active & pop.has_home
    used_hosts: set[int] = set()

    def new_host(user: int) -> uuid.UUID:
        host_id = uuid.uuid4()
        w.hosts.append((host_id, user))
        used_hosts.add(user)
        return host_id

    hosts = [new_host(int(u)) for u in rng.choice(n, size=max(30, n // 1000), replace=False)]

    # Past events, ~35 invitations each, ~0.6 per person over two months.
    members = [np.flatnonzero((pop.metro == m) & eligible) for m in range(len(METROS))]
    for _ in range(max(40, n // 60)):
        m = int(rng.choice(len(METROS), p=METRO_WEIGHTS))
        if not len(members[m]):
            continue
        start = now - dt.timedelta(days=float(rng.uniform(1, 60)))
        w.events.append(
            EventRow(
                uuid.uuid4(),
                hosts[int(rng.integers(len(hosts)))],
                "completed",
                start,
                start + dt.timedelta(hours=3),
                "A past event",
            )
        )
        invitees = np.unique(members[m][rng.integers(0, len(members[m]), size=35)])
        statuses = rng.choice(
            ["confirmed", "declined", "expired", "payment_failed", "cancelled"],
            size=len(invitees),
            p=(0.3, 0.35, 0.25, 0.03, 0.07),
        )
        for u, s in zip(invitees, statuses, strict=True):
            created = start - dt.timedelta(days=float(rng.uniform(1, 5)))
            w.invite(len(w.events) - 1, [int(u)], str(s), created)

    # Background blocks and Memory Book entries between people of one metro.
    blockers = rng.choice(n, size=max(10, n // 100))
    for a, b in zip(blockers, same_metro_partners(pop, rng, blockers), strict=True):
        w.block(int(a), int(b))
    owners = rng.choice(n, size=max(10, n // 20))
    for a, b, r in zip(
        owners, same_metro_partners(pop, rng, owners), rng.random(len(owners)), strict=True
    ):
        w.connect(int(a), int(b), wants=bool(r < 0.4), does_not=bool(r > 0.9))

    # The measured events: most where people are, a few in small metros.
    small = max(2, n_events // 6) if n_events >= 4 else 0
    metros = list(rng.choice(len(METROS), size=n_events - small, p=METRO_WEIGHTS))
    metros += list(rng.integers(len(METROS) - SMALL_METROS, len(METROS), size=small))
    weights = cluster_weights()
    for m in (int(x) for x in metros):
        name, clat, clng, zone = METROS[m]
        lat = clat + float(rng.normal()) * 4 / MILES_PER_DEGREE
        lng = clng + float(rng.normal()) * 4 / (MILES_PER_DEGREE * np.cos(np.radians(clat)))
        day = now.astimezone(ZoneInfo(zone)).date() + dt.timedelta(days=int(rng.integers(5, 31)))
        start = local_start(day, int(rng.choice(LOCAL_HOURS)), zone)
        end = start + dt.timedelta(hours=int(rng.integers(2, 5)))
        age_min, age_max = AGE_WINDOWS[int(rng.integers(len(AGE_WINDOWS)))]
        price = PRICE_RANGES[int(rng.choice(len(PRICE_RANGES), p=(0.3, 0.2, 0.25, 0.15, 0.1)))]
        near = np.flatnonzero(eligible & (miles(pop.lat, pop.lng, lat, lng) <= 12))
        near = rng.permutation(np.setdiff1d(near, np.fromiter(used_hosts, dtype=np.int64)))
        if len(near) < 2:
            continue  # no one to host here
        take = Draw(near)
        host_user = take(1)[0]
        collaborators = take(1) if rng.random() < 0.3 else []
        vector = clustered(rng, centres, rng.choice(CLUSTERS, size=1, p=weights), None, 0.045)[0]
        index = len(w.events)
        w.events.append(
            EventRow(
                uuid.uuid4(),
                new_host(host_user),
                "published",
                start,
                end,
                f"Evening in {name}",
                timezone=zone,
                min_attendees=int(rng.integers(2, 5)),
                max_attendees=int(rng.integers(6, 13)),
                age_min=age_min,
                age_max=age_max,
                price_range=price,
                vector=vector,
            )
        )
        w.bench.append(
            BenchEvent(
                index=index,
                lat=lat,
                lng=lng,
                timezone=zone,
                metro=m,
                host_user=host_user,
                collaborators=collaborators,
                vector=vector,
                age_min=age_min,
                age_max=age_max,
                price_level=None if price is None else len(price),
            )
        )
        recent = now - dt.timedelta(hours=float(rng.uniform(1, 72)))
        # People already holding a place, and others already asked.
        taken = take(int(rng.choice(6, p=(0.25, 0.25, 0.2, 0.15, 0.1, 0.05))))
        for u in taken:
            w.invite(index, [u], "confirmed" if rng.random() < 0.8 else "pending_payment", recent)
        for status in ("declined", "expired", "sent", "payment_failed", "cancelled", "declined"):
            w.invite(index, take(1), status, now - dt.timedelta(hours=2))
        # Blocks with the host, the collaborators and the people holding places.
        guarded = [host_user, *collaborators, *taken]
        for g in guarded:
            for u in take(2):
                w.block(u, g)
            for u in take(1):
                w.block(g, u)
        # Memory Book entries about the people holding places.
        for t in taken:
            for u in take(4):
                w.connect(u, t, wants=True, does_not=False)
            for u in take(1):
                w.connect(t, u, wants=True, does_not=False)  # the other way: no bonus
            for u in take(1):
                w.connect(u, t, wants=False, does_not=True)
            for u in take(1):
                w.connect(t, u, wants=False, does_not=True)
        if len(taken) >= 4:  # wants to see all of them again: the bonus caps at 3
            fan = take(1)
            for t in taken:
                for u in fan:
                    w.connect(u, t, wants=True, does_not=False)
        # Other events at the same time: overlapping (its people are busy), back
        # to back and cancelled (their people are free).
        host = hosts[int(rng.integers(len(hosts)))]
        hour = dt.timedelta(hours=1)
        for status, other_start, other_end, people in (
            (
                "published",
                start - hour,
                start + hour,
                {"confirmed": 8, "pending_payment": 2, "declined": 2, "sent": 1},
            ),
            ("published", start - 2 * hour, start, {"confirmed": 4}),
            ("cancelled", start, start + 2 * hour, {"confirmed": 4}),
        ):
            w.events.append(EventRow(uuid.uuid4(), host, status, other_start, other_end, "Clash"))
            for s, k in people.items():
                w.invite(len(w.events) - 1, take(k), s, recent)
    return w


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def vector_bytes(v: F32) -> bytes:
    """pgvector's binary format: dimension, unused, big-endian float32s."""
    return struct.pack(">HH", len(v), 0) + v.astype(">f4").tobytes()


def vector_rows(vectors: F32) -> Iterator[bytes]:
    header = struct.pack(">HH", DIM, 0)
    chunk = 50_000
    for lo in range(0, len(vectors), chunk):
        raw = vectors[lo : lo + chunk].astype(">f4").tobytes()
        step = DIM * 4
        for k in range(len(raw) // step):
            yield header + raw[k * step : (k + 1) * step]


def availability_json(pop: Population) -> list[str]:
    names = ("green", "yellow", "red")
    template = "{" + ", ".join(f'"{d}": {{"day": "%s", "night": "%s"}}' for d in WEEKDAYS) + "}"
    out: list[str] = []
    for has, cells in zip(pop.has_prefs, pop.cells.tolist(), strict=True):
        out.append(template % tuple(names[c] for c in cells) if has else "{}")
    return out


async def copy(
    conn: asyncpg.Connection, table: str, columns: str, records: Iterable[tuple[Any, ...]]
) -> None:
    await conn.copy_records_to_table(table, columns=columns.split(), records=records)


async def load(conn: asyncpg.Connection, pop: Population, w: World, now: dt.datetime) -> None:
    """COPY everything in. Foreign-key triggers are off (the data is consistent
    by construction); checks and indexes apply as usual."""
    await conn.set_type_codec(
        "vector", schema="public", encoder=lambda b: b, decoder=bytes, format="binary"
    )
    await conn.execute("SET session_replication_role = replica")
    epoch = dt.date(1970, 1, 1)
    statuses = [USER_STATUSES[s] for s in pop.status.tolist()]
    prefs = availability_json(pop)
    prices = pop.price.tolist()
    await copy(
        conn,
        "users",
        (
            "id phone_number birth_date status min_lead_time_days availability_preferences "
            "distance_preference price_sensitivity home_latitude home_longitude"
        ),
        (
            (
                pop.user_id(i),
                f"+1999{i:07d}",
                epoch + dt.timedelta(days=b),
                statuses[i],
                lead,
                prefs[i],
                dist,
                prices[i] or None,
                lat if home else None,
                lng if home else None,
            )
            for i, (b, lead, dist, home, lat, lng) in enumerate(
                zip(
                    pop.birth.tolist(),
                    pop.lead.tolist(),
                    pop.distance.tolist(),
                    pop.has_home.tolist(),
                    pop.lat.tolist(),
                    pop.lng.tolist(),
                    strict=True,
                )
            )
        ),
    )
    del prefs
    await copy(
        conn,
        "social_profiles",
        "id user_id first_name gender interested_in",
        (
            (
                pop.profile_id(i),
                pop.user_id(i),
                f"Person {i}",
                GENDERS[g],
                [GENDERS[k] for k in range(len(GENDERS)) if mask >> k & 1],
            )
            for i, (g, mask) in enumerate(
                zip(pop.gender.tolist(), pop.interested.tolist(), strict=True)
            )
        ),
    )
    has_pos = np.flatnonzero(pop.pos_model > 0)
    model_names = {1: MODEL_ID, 2: STALE_MODEL_ID}
    await copy(
        conn,
        "user_interest_vectors",
        "user_id vector embedding_model vector_type",
        (
            (pop.user_id(int(i)), v, model_names[int(pop.pos_model[i])], "positive_v1")
            for i, v in zip(has_pos, vector_rows(pop.pos[has_pos]), strict=True)
        ),
    )
    has_neg = np.flatnonzero(pop.neg_of >= 0)
    await copy(
        conn,
        "user_interest_vectors",
        "user_id vector embedding_model vector_type",
        (
            (pop.user_id(int(i)), v, model_names[int(pop.neg_model[pop.neg_of[i]])], "negative_v1")
            for i, v in zip(has_neg, vector_rows(pop.neg), strict=True)
        ),
    )

    def nullable(x: float) -> float | None:
        return None if np.isnan(x) else x

    await copy(
        conn,
        "user_internal_metrics",
        "user_id absentee_rating contribution_score",
        (
            (pop.user_id(int(i)), nullable(pop.absentee[i]), nullable(pop.contribution[i]))
            for i in np.flatnonzero(pop.has_metrics)
        ),
    )
    interest_ids = await conn.fetch("SELECT id FROM interests ORDER BY id")
    catalog = [r["id"] for r in interest_ids]
    await copy(
        conn,
        "profile_interests",
        "profile_id interest_id",
        (
            (pop.profile_id(u), catalog[k])
            for u, k in zip(pop.interest_user.tolist(), pop.interest_id.tolist(), strict=True)
        ),
    )

    await copy(
        conn,
        "host_profiles",
        "id user_id host_name",
        [(h, pop.user_id(u), f"Host {k}") for k, (h, u) in enumerate(w.hosts)],
    )
    await copy(
        conn,
        "events",
        (
            "id host_id title event_vector embedding_model status min_attendees max_attendees "
            "age_min age_max estimated_event_cost timezone starts_at ends_at published_at "
            "completed_at cancelled_at cancel_reason"
        ),
        [
            (
                e.id,
                e.host_id,
                e.title,
                None if e.vector is None else vector_bytes(e.vector),
                None if e.vector is None else MODEL_ID,
                e.status,
                e.min_attendees,
                e.max_attendees,
                e.age_min,
                e.age_max,
                None if e.price_range is None else f'{{"range": "{e.price_range}"}}',
                e.timezone,
                e.starts_at,
                e.ends_at,
                min(now, e.starts_at) - dt.timedelta(days=7),
                e.ends_at if e.status == "completed" else None,
                now - dt.timedelta(days=1) if e.status == "cancelled" else None,
                "host" if e.status == "cancelled" else None,
            )
            for e in w.events
        ],
    )
    locations = [uuid.uuid4() for _ in w.bench]
    await copy(
        conn,
        "locations",
        "id latitude longitude",
        [(loc, b.lat, b.lng) for loc, b in zip(locations, w.bench, strict=True)],
    )
    await copy(
        conn,
        "event_itinerary_stops",
        "event_id location_id order start_time end_time",
        [
            (w.events[b.index].id, loc, 1, w.events[b.index].starts_at, w.events[b.index].ends_at)
            for loc, b in zip(locations, w.bench, strict=True)
        ],
    )
    await copy(
        conn,
        "event_collaborators",
        "event_id user_id",
        [(w.events[b.index].id, pop.user_id(c)) for b in w.bench for c in b.collaborators],
    )
    answered = {"confirmed", "pending_payment", "declined", "payment_failed"}
    await copy(
        conn,
        "invitations",
        "event_id profile_id status created_at updated_at responded_at expires_at",
        (
            (
                w.events[e].id,
                pop.profile_id(u),
                s,
                c,
                c,
                c + dt.timedelta(hours=6) if s in answered else None,
                c + dt.timedelta(hours=24),
            )
            for e, u, s, c in zip(w.inv_event, w.inv_user, w.inv_status, w.inv_created, strict=True)
        ),
    )
    await copy(
        conn,
        "blocked_users",
        "blocker_user_id blocked_user_id",
        [(pop.user_id(a), pop.user_id(b)) for a, b in w.blocks],
    )
    await copy(
        conn,
        "connections",
        (
            "user_profile_id connected_profile_id wants_to_connect_again "
            "does_not_want_to_connect_again"
        ),
        [
            (pop.profile_id(a), pop.profile_id(b), wants, not_again)
            for (a, b), (wants, not_again) in w.connections.items()
        ],
    )
    await conn.execute("RESET session_replication_role")


async def set_interest_vectors(
    conn: asyncpg.Connection, rng: np.random.Generator, centres: F32
) -> I64:
    """Give the interest catalog vectors near the cluster centres (interest k
    belongs to cluster k mod CLUSTERS); returns each interest's cluster."""
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM interests ORDER BY id")]
    cluster = np.arange(len(ids)) % CLUSTERS
    vectors = clustered(rng, centres, cluster, None, 0.05)
    await conn.executemany(
        "UPDATE interests SET vector = $2::text::vector, embedding_model = $3 WHERE id = $1",
        [
            (i, "[" + ",".join(f"{x:.7g}" for x in v) + "]", MODEL_ID)
            for i, v in zip(ids, vectors, strict=True)
        ],
    )
    return cluster


# --------------------------------------------------------------------------
# The exact ranking, by brute force
# --------------------------------------------------------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """`date - make_interval(years => n)`: 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def micros(t: dt.datetime) -> int:
    return round(t.timestamp() * US)


@dataclass
class Exact:
    """The candidate rules and score of docs/MATCHING.md applied to every person."""

    pop: Population
    world: World
    now: dt.datetime
    session_zone: ZoneInfo
    weights: tuple[float, float, float, float, float, float, float]
    recent_days: int
    inv_event: I64 = field(init=False)
    inv_user: I64 = field(init=False)
    inv_taken: Mask = field(init=False)
    recent: I64 = field(init=False)
    ev_start: I64 = field(init=False)
    ev_end: I64 = field(init=False)
    ev_busy_status: Mask = field(init=False)
    blk: I64 = field(init=False)  # (k, 2) blocker, blocked
    con: I64 = field(init=False)  # (k, 2) owner, connected
    con_wants: Mask = field(init=False)
    con_not: Mask = field(init=False)

    def __post_init__(self) -> None:
        w = self.world
        self.inv_event = np.array(w.inv_event, dtype=np.int64)
        self.inv_user = np.array(w.inv_user, dtype=np.int64)
        self.inv_taken = np.isin(np.array(w.inv_status), TAKEN)
        since = micros(self.now - dt.timedelta(days=self.recent_days))
        created = np.array([micros(c) for c in w.inv_created], dtype=np.int64)
        self.recent = np.bincount(self.inv_user[created >= since], minlength=self.pop.n)
        self.ev_start = np.array([micros(e.starts_at) for e in w.events], dtype=np.int64)
        self.ev_end = np.array([micros(e.ends_at) for e in w.events], dtype=np.int64)
        self.ev_busy_status = np.isin(np.array([e.status for e in w.events]), BUSY_EVENT_STATUSES)
        self.blk = np.array(list(w.blocks), dtype=np.int64).reshape(-1, 2)
        self.con = np.array(list(w.connections), dtype=np.int64).reshape(-1, 2)
        flags = np.array(list(w.connections.values()), dtype=bool).reshape(-1, 2)
        self.con_wants, self.con_not = flags[:, 0], flags[:, 1]

    def checks(self, b: BenchEvent) -> dict[str, Mask]:
        """Each hard filter as a mask over everyone (True = passes)."""
        p, ev = self.pop, self.world.events[b.index]
        local = ev.starts_at.astimezone(ZoneInfo(b.timezone))
        cell = local.weekday() * 2 + (0 if DAY_FIRST_HOUR <= local.hour <= DAY_LAST_HOUR else 1)
        epoch = dt.date(1970, 1, 1)
        oldest = (years_before(local.date(), b.age_max + 1) - epoch).days
        youngest = (years_before(local.date(), b.age_min) - epoch).days
        # `now + make_interval(days => n)` steps calendar days in the session's zone.
        now_local = self.now.astimezone(self.session_zone)
        lead_ok = np.array(
            [ev.starts_at >= now_local + dt.timedelta(days=d) for d in range(int(p.lead.max()) + 1)]
        )
        taken, invited = self.taken(b), self.inv_user[self.inv_event == b.index]
        guarded = np.array([b.host_user, *b.collaborators, *taken], dtype=np.int64)
        blocked = np.concatenate(
            [
                self.blk[np.isin(self.blk[:, 1], guarded), 0],
                self.blk[np.isin(self.blk[:, 0], guarded), 1],
            ]
        )
        unwanted = np.concatenate(
            [
                self.con[np.isin(self.con[:, 1], taken) & self.con_not, 0],
                self.con[np.isin(self.con[:, 0], taken) & self.con_not, 1],
            ]
        )
        overlapping = np.flatnonzero(
            self.ev_busy_status
            & (self.ev_start < micros(ev.ends_at))
            & (self.ev_end > micros(ev.starts_at))
        )
        busy = self.inv_user[np.isin(self.inv_event, overlapping) & self.inv_taken]
        distance = miles(p.lat, p.lng, b.lat, b.lng)
        everyone = np.arange(p.n)
        return {
            "active": p.active,
            "home": p.has_home,
            "distance": p.has_home & (distance <= p.distance),
            "age": (p.birth <= youngest) & (p.birth > oldest),
            "price": np.ones(p.n, bool)
            if b.price_level is None
            else np.where(p.price == 0, 4, p.price) >= b.price_level,
            "available": ~(p.has_prefs & (p.cells[:, cell] == 2)),
            "lead": lead_ok[p.lead],
            "not host": ~np.isin(everyone, [b.host_user, *b.collaborators]),
            "not invited": ~np.isin(everyone, invited),
            "no block": ~np.isin(everyone, blocked),
            "not unwanted": ~np.isin(everyone, unwanted),
            "free": ~np.isin(everyone, busy),
        }

    def taken(self, b: BenchEvent) -> I64:
        return cast(I64, self.inv_user[(self.inv_event == b.index) & self.inv_taken])

    def rank(self, b: BenchEvent) -> tuple[I64, F64]:
        """Everyone passing every filter, best first (ties by profile id), and their scores."""
        ok = np.logical_and.reduce(list(self.checks(b).values()))
        who = np.flatnonzero(ok)
        p = self.pop
        v = b.vector.astype(np.float64)
        v_norm = float(np.linalg.norm(v))

        def cosine(rows: F32) -> F64:
            r = rows.astype(np.float64)
            return cast(F64, (r @ v) / (np.linalg.norm(r, axis=1) * v_norm))

        interest = np.zeros(len(who))
        current = p.pos_model[who] == 1
        interest[current] = cosine(p.pos[who[current]])
        dislike = np.zeros(len(who))
        row = p.neg_of[who]
        current = row >= 0
        current[current] = p.neg_model[row[current]] == 1
        dislike[current] = cosine(p.neg[row[current]])
        absentee = p.absentee[who]
        reliability = np.where(np.isnan(absentee), EXACT_UNKNOWN_RELIABILITY, absentee)
        contribution = np.clip(np.nan_to_num(p.contribution[who], nan=0.0), 0, 10) / 10
        taken = self.taken(b)
        wants = self.con[np.isin(self.con[:, 1], taken) & self.con_wants, 0]
        connect_again = np.minimum(np.bincount(wants, minlength=p.n)[who], 3) / 3.0
        group_fit = np.zeros(len(who))
        for t in taken:
            group_fit += (p.interested[who] >> p.gender[t] & 1) & (
                p.interested[t] >> p.gender[who] & 1
            )
        if len(taken):
            group_fit /= len(taken)
        w1, w2, w3, w4, w5, w6, w7 = self.weights
        score = (
            w1 * interest
            - w2 * dislike
            + w3 * reliability
            + w4 * contribution
            + w5 * connect_again
            + w6 * group_fit
            - w7 * self.recent[who]
        )
        order = np.lexsort((who, p.profile_hi[who], -score))
        return who[order], cast(F64, score[order])

    def why(self, b: BenchEvent, person: int) -> str:
        """The filters one person fails here, and their distance against their reach."""
        checks = self.checks(b)
        failed = [name for name, mask in checks.items() if not mask[person]]
        p = self.pop
        d = float(miles(p.lat[person], p.lng[person], b.lat, b.lng))
        lat, reach = float(p.lat[person]), int(p.distance[person])
        # reach_box() of 0007.
        edge = np.radians(min(abs(lat) + reach / 68.7, 89.0))
        half_width = reach / (69.17 * max(np.cos(edge), 0.01))
        in_box = abs(b.lat - lat) <= reach / 68.7 and abs(b.lng - p.lng[person]) <= half_width
        return (
            f"fails {failed or 'nothing'}; {d:.6f} of {reach} miles, "
            f"{'inside' if in_box else 'OUTSIDE'} reach_box"
        )


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


class StoredVectorsOnly:
    """An embedder for the matcher that must never be asked: every event has a
    stored vector of this model."""

    @property
    def model_id(self) -> str:
        return MODEL_ID

    @property
    def dimension(self) -> int:
        return DIM

    async def embed(self, texts: Sequence[str]) -> F32:
        raise RuntimeError("the bench's events carry vectors: nothing should be embedded")

    async def aclose(self) -> None:
        return None


class CapturingConnection:
    """Stands in for a connection to learn the statement and arguments a query
    function sends (the SQL stays where it lives, in db/queries)."""

    def __init__(self) -> None:
        self.query = ""
        self.args: tuple[object, ...] = ()

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        self.query, self.args = query, args
        return []


def sql_literal(value: object) -> str:
    """A literal for a parameter of known type (the prepared statement's)."""
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, np.ndarray):
        text = "[" + ",".join(repr(float(x)) for x in value) + "]"
    elif isinstance(value, list):
        text = "{" + ",".join(str(x) for x in value) + "}"
    elif isinstance(value, dt.date):  # datetimes too
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain(conn: asyncpg.Connection, search: q.CandidateSearch, *, generic: bool) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the candidate query, planned for these values
    or (generic) as a prepared statement's generic plan, which PostgreSQL may
    choose from a statement's sixth execution on."""
    sent = CapturingConnection()
    await q.ranked_candidates(cast(asyncpg.Connection, sent), search)
    options = "ANALYZE, BUFFERS, SETTINGS"
    if generic:
        await conn.execute(f"PREPARE bench_candidates AS {sent.query}")
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        # EXECUTE takes no bound parameters: the values go in as literals.
        values = ", ".join(sql_literal(a) for a in sent.args)
        try:
            rows = await conn.fetch(f"EXPLAIN ({options}) EXECUTE bench_candidates({values})")
        finally:
            await conn.execute("RESET plan_cache_mode")
            await conn.execute("DEALLOCATE bench_candidates")
    else:
        rows = await conn.fetch(f"EXPLAIN ({options}) {sent.query}", *sent.args)
    return re.sub(r"'\[[-0-9.e,]{200,}\]'", "'[event vector]'", "\n".join(r[0] for r in rows))


async def plan_mode_ms(conn: asyncpg.Connection, search: q.CandidateSearch, mode: str) -> float:
    """Fastest of two runs with the plan cache forced to custom or generic plans."""
    await conn.execute(f"SET plan_cache_mode = {mode}")
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        await q.ranked_candidates(conn, search)
        times.append((time.perf_counter() - t0) * 1000)
    await conn.execute("RESET plan_cache_mode")
    return min(times)


def indices(rows: Sequence[q.RankedCandidate]) -> list[int]:
    return [r.profile_id.int & LOW64 for r in rows]


@dataclass
class EventResult:
    name: str
    wave: int
    candidates: int
    query_ms: list[float]
    wave_ms: list[float]
    recall_wave: float | None
    recall_100: float | None
    ties: int  # top-k differences explained by scores within SCORE_TIE
    same_set: bool
    same_order: bool  # the full ranking, position by position
    order_ok: bool  # the full ranking best first, up to float ties (SCORE_TIE)
    score_error: float
    wave_matches_query: bool
    notes: list[str]


@dataclass
class SizeResult:
    size: int
    load_s: float
    generate_s: float
    copy_s: float
    candidates_s: float  # building match_candidates from the source tables
    candidates_mb: float  # its size on disk, with its indexes
    analyze_s: float
    acceptance_ms: float
    busy: float  # percent of all cores in use while measuring
    events: list[EventResult]
    edges: EdgeProbe
    explain: str | None = None

    def all(self, pick: str) -> list[float]:
        return [x for e in self.events for x in getattr(e, pick)]


def pct(values: Sequence[float], q_: float) -> float:
    return float(np.percentile(values, q_ * 100)) if values else float("nan")


def recall(sql: Sequence[int], exact: I64, scores: F64, k: int) -> tuple[float | None, int]:
    """|SQL top-k ∩ exact top-k| / k (k capped at the number of candidates), and
    how many differences are float-precision ties at the cut."""
    k = min(k, len(exact))
    if k == 0:
        return None, 0
    want = exact[:k]
    missing = np.setdiff1d(want, np.asarray(sql[:k], dtype=np.int64))
    cut = scores[k - 1]
    rank_of = {int(u): i for i, u in enumerate(exact)}
    ties = sum(1 for u in missing if abs(scores[rank_of[int(u)]] - cut) < SCORE_TIE)
    return 1 - len(missing) / k, ties


@dataclass
class EdgeProbe:
    placed: int
    found: int
    missed: dict[str, list[float]]  # "reach 5 E" -> latitudes of the events where missed


async def probe_edges(
    conn: asyncpg.Connection, world: World, searches: Sequence[q.CandidateSearch]
) -> EdgeProbe:
    """Add people at the edge of each event's reach, see whom the full candidate
    query finds, and remove them again."""
    people: list[tuple[uuid.UUID, uuid.UUID, str, BenchEvent]] = []
    users: list[tuple[Any, ...]] = []
    for k, b in enumerate(world.bench):
        day = world.events[b.index].starts_at.astimezone(ZoneInfo(b.timezone)).date()
        age = (b.age_min + b.age_max) // 2
        birth = years_before(day, age) - dt.timedelta(days=100)
        for reach in EDGE_REACHES:
            for bearing, label in EDGE_BEARINGS:
                lat, lng = destination(b.lat, b.lng, bearing, reach * EDGE_INSIDE)
                assert miles(lat, lng, b.lat, b.lng) < reach
                user, profile = uuid.uuid4(), uuid.uuid4()
                users.append((user, f"+1888{k:03d}{len(people):04d}", birth, reach, lat, lng))
                people.append((user, profile, f"reach {reach} mi, due {label}", b))
    await conn.executemany(
        "INSERT INTO users (id, phone_number, birth_date, distance_preference, "
        "home_latitude, home_longitude, min_lead_time_days) VALUES ($1, $2, $3, $4, $5, $6, 0)",
        users,
    )
    await conn.executemany(
        "INSERT INTO social_profiles (id, user_id, gender, interested_in) "
        "VALUES ($1, $2, 'Woman', '{Man}')",
        [(profile, user) for user, profile, *_ in people],
    )
    try:
        found: set[uuid.UUID] = set()
        for search in searches:
            rows = await q.ranked_candidates(conn, dataclasses.replace(search, limit=10**9))
            found |= {r.profile_id for r in rows}
        missed: dict[str, list[float]] = {}
        for _, profile, label, b in people:
            if profile not in found:
                missed.setdefault(label, []).append(b.lat)
        return EdgeProbe(
            placed=len(people), found=len(people) - sum(map(len, missed.values())), missed=missed
        )
    finally:
        await conn.execute("DELETE FROM users WHERE id = ANY($1::uuid[])", [u for u, *_ in people])


async def reset_wave(conn: asyncpg.Connection, event_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM invitations WHERE event_id = $1 AND wave IS NOT NULL", event_id)
    await conn.execute(
        "UPDATE events SET match_waves = 0, last_wave_at = NULL WHERE id = $1", event_id
    )


async def measure(
    url: str,
    pop: Population,
    world: World,
    now: dt.datetime,
    settings: Settings,
    args: argparse.Namespace,
) -> tuple[list[EventResult], float, EdgeProbe, str | None]:
    pool = await create_pool(url, min_size=1, max_size=2)
    query_conn = await connect(url)  # the timed queries: one connection, like a worker's
    check_conn = await connect(url)
    try:
        matcher = Matcher(pool, Embeddings(pool, StoredVectorsOnly(), settings), settings)
        zone = ZoneInfo(await check_conn.fetchval("SHOW TimeZone"))
        exact = Exact(pop, world, now, zone, matcher.weights, settings.match_recent_invite_days)
        t0 = time.perf_counter()
        accepted, resolved = await q.observed_acceptance(check_conn, now - ACCEPTANCE_WINDOW)
        acceptance_ms = (time.perf_counter() - t0) * 1000
        rate = acceptance_rate(accepted, resolved, settings.matching_prior_acceptance_rate)

        # Warm-up: the matcher reads and caches the acceptance rate, statements get prepared.
        first = world.events[world.bench[0].index].id
        await matcher.run_wave(first, now)
        await reset_wave(check_conn, first)

        results: list[EventResult] = []
        searches: list[q.CandidateSearch] = []
        for b in world.bench:
            event_id = world.events[b.index].id
            ev = await q.wave_event(check_conn, event_id)
            assert ev is not None
            size = wave_size(
                max_attendees=ev["max_attendees"],
                taken=ev["taken"],
                open_invitations=ev["open_invitations"],
                rate=rate,
                max_wave=settings.matching_max_wave_size,
            )
            search = matcher.candidate_search(ev, ev["event_vector"].to_numpy(), now, limit=size)
            searches.append(search)
            query_ms: list[float] = []
            top: list[q.RankedCandidate] = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                top = await q.ranked_candidates(query_conn, search)
                query_ms.append((time.perf_counter() - t0) * 1000)
            full = await q.ranked_candidates(check_conn, dataclasses.replace(search, limit=10**9))
            top100 = await q.ranked_candidates(check_conn, dataclasses.replace(search, limit=100))

            wave_ms: list[float] = []
            wave_matches = True
            for _ in range(args.wave_repeats):
                t0 = time.perf_counter()
                result = await matcher.run_wave(event_id, now)
                wave_ms.append((time.perf_counter() - t0) * 1000)
                expected = {r.profile_id for r in top}
                wave_matches &= set(result.invited) == expected
                await reset_wave(check_conn, event_id)

            order, scores = exact.rank(b)
            sql_full = indices(full)
            r_wave, ties_wave = recall(indices(top), order, scores, size)
            r_100, ties_100 = recall(indices(top100), order, scores, 100)
            notes: list[str] = []
            sql_set, exact_set = set(sql_full), {int(u) for u in order}
            for label, extra in (
                ("in SQL only", sql_set - exact_set),
                ("in brute force only", exact_set - sql_set),
            ):
                for person in sorted(extra)[:5]:
                    notes.append(f"{label}: person {person}: {exact.why(b, person)}")
                if len(extra) > 5:
                    notes.append(f"{label}: {len(extra) - 5} more")
            score_of = dict(zip(order.tolist(), scores.tolist(), strict=True))
            in_sql_order = np.array([score_of[u] for u in sql_full if u in score_of])
            errors = [
                abs(r.score - score_of[u])
                for r, u in zip(full, sql_full, strict=True)
                if u in score_of
            ]
            name = METROS[b.metro][0]
            results.append(
                EventResult(
                    name=name,
                    wave=size,
                    candidates=len(full),
                    query_ms=query_ms,
                    wave_ms=wave_ms,
                    recall_wave=r_wave,
                    recall_100=r_100,
                    ties=ties_wave + ties_100,
                    same_set=sql_set == exact_set,
                    same_order=sql_full == order.tolist(),
                    order_ok=bool(np.all(np.diff(in_sql_order) <= SCORE_TIE)),
                    score_error=max(errors, default=0.0),
                    wave_matches_query=wave_matches,
                    notes=notes,
                )
            )
            e = results[-1]
            print(
                f"  {name:<15} wave {size:>2}  candidates {len(full):>7,}  "
                f"query {min(query_ms):7.1f}-{max(query_ms):7.1f} ms  "
                f"wave {min(wave_ms):7.1f}-{max(wave_ms):7.1f} ms  "
                f"recall {fmt_recall(r_wave)}/{fmt_recall(r_100)}  "
                f"set {'=' if e.same_set else 'DIFFERS'}  order {'=' if e.same_order else '~'}",
                file=sys.stderr,
            )
            for note in notes:
                print(f"    {note}", file=sys.stderr)

        plans = await query_conn.fetchrow(
            "SELECT sum(custom_plans) AS custom_plans, sum(generic_plans) AS generic_plans "
            "FROM pg_prepared_statements "
            "WHERE statement LIKE '%WITH taken AS%' AND statement NOT LIKE '%pg_prepared%'"
        )
        if plans is not None and plans["custom_plans"] is not None:
            print(
                f"  the timed connection planned the candidate query {plans['custom_plans']} "
                f"times for its parameters and used a generic plan {plans['generic_plans']} times",
                file=sys.stderr,
            )
        edges = await probe_edges(check_conn, world, searches)
        explain_text = None
        if args.explain:
            slowest = max(range(len(results)), key=lambda i: float(np.median(results[i].query_ms)))
            slow = searches[slowest]
            custom = await plan_mode_ms(query_conn, slow, "force_custom_plan")
            generic = await plan_mode_ms(query_conn, slow, "force_generic_plan")
            explain_text = (
                f"{results[slowest].name}, wave {results[slowest].wave}, "
                f"{results[slowest].candidates:,} candidates; the same query takes "
                f"{custom:.0f} ms with a custom plan and {generic:.0f} ms with the generic plan "
                "(asyncpg prepares it, so from the sixth run on PostgreSQL may use the generic "
                "one):\n\n"
                + await explain(query_conn, slow, generic=False)
                + "\n\nThe same with the generic plan:\n\n"
                + await explain(query_conn, slow, generic=True)
            )
        return results, acceptance_ms, edges, explain_text
    finally:
        await query_conn.close()
        await check_conn.close()
        await pool.close()


def fmt_recall(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.3f}"


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


async def empty_tables(conn: asyncpg.Connection) -> None:
    await conn.execute("TRUNCATE users, locations CASCADE")


async def run_size(
    url: str,
    size: int,
    args: argparse.Namespace,
    settings: Settings,
    centres: F32,
    interest_cluster: I64,
) -> SizeResult:
    rng = np.random.default_rng([args.seed, size])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    print(f"{size:,} people: generating ...", file=sys.stderr)
    t0 = time.perf_counter()
    pop = generate_population(size, rng, now.date(), centres, interest_cluster)
    world = generate_world(pop, rng, now, args.events, centres)
    generate_s = time.perf_counter() - t0
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        await empty_tables(conn)
        print(
            f"  generated in {generate_s:.1f} s: {len(world.events):,} events, "
            f"{len(world.inv_event):,} invitations, {len(world.blocks):,} blocks, "
            f"{len(world.connections):,} connections, {len(pop.interest_user):,} interests; "
            "copying ...",
            file=sys.stderr,
        )
        t0 = time.perf_counter()
        await load(conn, pop, world, now)
        copy_s = time.perf_counter() - t0
        print(f"  copied in {copy_s:.1f} s; building match_candidates ...", file=sys.stderr)
        # COPY ran without triggers: the candidate table is built in one go, as
        # after a bulk import.
        t0 = time.perf_counter()
        candidate_rows = await q.rebuild_match_candidates(conn)
        candidates_s = time.perf_counter() - t0
        print(
            f"  {candidate_rows:,} candidate rows in {candidates_s:.1f} s; VACUUM ANALYZE ...",
            file=sys.stderr,
        )
        t0 = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        analyze_s = time.perf_counter() - t0
        candidates_bytes = await conn.fetchval("SELECT pg_total_relation_size('match_candidates')")
        print(f"  vacuumed and analyzed in {analyze_s:.1f} s; measuring ...", file=sys.stderr)
    finally:
        await conn.close()
    ticks = _machine_ticks()
    events, acceptance_ms, edges, explain = await measure(url, pop, world, now, settings, args)
    busy = busy_since(ticks)
    return SizeResult(
        size=size,
        load_s=generate_s + copy_s + candidates_s + analyze_s,
        generate_s=generate_s,
        copy_s=copy_s,
        candidates_s=candidates_s,
        candidates_mb=candidates_bytes / 2**20,
        analyze_s=analyze_s,
        acceptance_ms=acceptance_ms,
        busy=busy,
        events=events,
        edges=edges,
        explain=explain,
    )


def render(results: list[SizeResult]) -> str:
    header = (
        "| people | load s | match_candidates s / MB | candidates (median) "
        "| query p50 / p99 ms | wave p50 / p99 ms "
        "| recall@wave | recall@100 | filtered sets equal | reach edges found | machine busy |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for r in results:
        rw = [e.recall_wave for e in r.events if e.recall_wave is not None]
        r100 = [e.recall_100 for e in r.events if e.recall_100 is not None]
        lines.append(
            f"| {r.size:,} | {r.load_s:.0f} | {r.candidates_s:.0f} / {r.candidates_mb:,.0f} "
            f"| {int(np.median([e.candidates for e in r.events])):,} "
            f"| {pct(r.all('query_ms'), 0.5):.1f} / {pct(r.all('query_ms'), 0.99):.1f} "
            f"| {pct(r.all('wave_ms'), 0.5):.1f} / {pct(r.all('wave_ms'), 0.99):.1f} "
            f"| {recall_cell(rw)} | {recall_cell(r100)} "
            f"| {sum(e.same_set for e in r.events)}/{len(r.events)} "
            f"| {r.edges.found}/{r.edges.placed} | {r.busy:.0f}% |"
        )
    return "\n".join(lines)


def recall_cell(values: list[float]) -> str:
    if not values:
        return "n/a"
    mean, low = float(np.mean(values)), min(values)
    return f"{mean:.3f}" if low == 1 else f"{mean:.3f} (min {low:.3f})"


def busy_since(start: tuple[int, int]) -> float:
    busy, total = _machine_ticks()
    return 100.0 * (busy - start[0]) / max(1, total - start[1])


async def server_facts(url: str) -> str:
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        names = (
            "server_version",
            "shared_buffers",
            "work_mem",
            "effective_cache_size",
            "jit",
            "max_parallel_workers_per_gather",
            "random_page_cost",
            "TimeZone",
        )
        values = [await conn.fetchval(f"SHOW {name}") for name in names]
        vector = await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    finally:
        await conn.close()
    pairs = ", ".join(f"{n} {v}" for n, v in zip(names[1:], values[1:], strict=True))
    return f"PostgreSQL {values[0]}, pgvector {vector}; {pairs}"


async def run(url: str, args: argparse.Namespace, embedded: bool) -> int:
    await migrate(url)
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        if not embedded and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users)"):
            raise RuntimeError("the database already holds users: give an empty, throwaway one")
        rng = np.random.default_rng(args.seed)
        centres = unit_rows(rng.standard_normal((CLUSTERS, DIM)))
        interest_cluster = await set_interest_vectors(conn, rng, centres)
    finally:
        await conn.close()
    facts = await server_facts(url)
    ticks = _machine_ticks()
    await asyncio.sleep(1)
    if (idle_busy := busy_since(ticks)) > IDLE_WARNING:
        print(
            f"warning: the machine is already {idle_busy:.0f}% busy: expect slow, noisy numbers",
            file=sys.stderr,
        )
    settings = Settings()
    weights = Matcher(cast(asyncpg.Pool, None), cast(Embeddings, None), settings).weights
    print(f"machine: {machine_facts()}", file=sys.stderr)
    print(f"database: {facts}", file=sys.stderr)
    results: list[SizeResult] = []
    for size in args.sizes:
        result = await run_size(url, size, args, settings, centres, interest_cluster)
        results.append(result)
        print(
            f"  load {result.load_s:.0f} s (generate {result.generate_s:.0f}, "
            f"COPY {result.copy_s:.0f}, match_candidates {result.candidates_s:.0f}, "
            f"VACUUM ANALYZE {result.analyze_s:.0f}); "
            f"acceptance-rate query {result.acceptance_ms:.0f} ms (once per 5 min per worker); "
            f"machine {result.busy:.0f}% busy while measuring",
            file=sys.stderr,
        )

    print()
    print(
        f"Matching, {dt.date.today()}, {git_revision()}, {machine_facts()}\n"
        f"{facts}\n"
        f"{args.events} events per size, query x{args.repeats} and wave x{args.wave_repeats} "
        f"per event, seed {args.seed}; Settings(): max wave {settings.matching_max_wave_size}, "
        f"prior acceptance {settings.matching_prior_acceptance_rate}, weights "
        f"{', '.join(f'{w:g}' for w in weights)} "
        "(interests, dislikes, reliability, contribution, connect again, group fit, "
        "recent invitations)"
        f", recent invitations over {settings.match_recent_invite_days} days"
    )
    print()
    print(render(results))
    print()
    failed = False
    for r in results:
        for share, goal in WAVE_GOALS_MS.get(r.size, {}).items():
            waves = pct(r.all("wave_ms"), share)
            verdict = "meets" if waves <= goal else "MISSES"
            print(
                f"{r.size:,} people: wave p{share * 100:.0f} {waves:.1f} ms {verdict} "
                f"the {goal:g} ms goal"
            )
        recalls = [e.recall_wave for e in r.events if e.recall_wave is not None]
        recalls += [e.recall_100 for e in r.events if e.recall_100 is not None]
        low = min(recalls, default=1.0)
        ties = sum(e.ties for e in r.events)
        print(
            f"{r.size:,} people: lowest recall {low:.3f} "
            f"({'meets' if low >= RECALL_GOAL else 'MISSES'} the {RECALL_GOAL} goal"
            f"{f'; {ties} differences are float ties at the cut' if ties else ''}); "
            f"full order identical for {sum(e.same_order for e in r.events)}/{len(r.events)} "
            f"events, best first up to float ties for {sum(e.order_ok for e in r.events)}; "
            f"largest score difference {max(e.score_error for e in r.events):.1e}; "
            f"waves invited exactly the query's top: "
            f"{sum(e.wave_matches_query for e in r.events)}/{len(r.events)}"
        )
        if r.busy > BUSY_WARNING:
            print(
                f"{r.size:,} people: the machine was {r.busy:.0f}% busy while measuring, more "
                "than this bench uses: other load slowed these numbers"
            )
        if r.edges.missed:
            failed = True
            print(
                f"{r.size:,} people: the candidate query missed {r.edges.placed - r.edges.found} "
                f"of {r.edges.placed} people just inside their reach:"
            )
            for label, where in sorted(r.edges.missed.items(), key=lambda x: (len(x[0]), x[0])):
                print(
                    f"  {label}: missed at {len(where)} of {len(r.events)} events "
                    f"(latitudes {min(where):.1f} to {max(where):.1f})"
                )
        if not all(e.same_set for e in r.events):
            failed = True
            print(f"{r.size:,} people: the filtered sets differ (details above, on stderr)")
    for r in results:
        if r.explain:
            print(f"\nEXPLAIN of the slowest candidate query at {r.size:,} people, {r.explain}")
    return 1 if failed else 0


async def alter_system(url: str, settings: list[str]) -> None:
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        for setting in settings:
            name, value = setting.split("=", 1)  # both checked by parse_args
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    finally:
        await conn.close()


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/matching.py",
        description="Candidate query and waves of the matching worker on synthetic people.",
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="people per run, comma-separated (10k, 1m work)"
    )
    parser.add_argument("--events", type=int, default=30, help="published events measured")
    parser.add_argument("--repeats", type=int, default=3, help="timed queries per event")
    parser.add_argument("--wave-repeats", type=int, default=2, help="timed waves per event")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each size"
    )
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting for the embedded PostgreSQL, e.g. shared_buffers=4GB (repeatable)",
    )
    parser.add_argument(
        "--database-url",
        help="an EMPTY throwaway database instead of the embedded one (its tables are "
        "truncated and its interest vectors rewritten)",
    )
    args = parser.parse_args(argv)
    args.sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    if not args.sizes or min(args.sizes) < 1_000 or max(args.sizes) > 9_000_000:
        parser.error("--sizes must be between 1000 and 9000000 people")
    for setting in args.pg_setting:
        if not re.fullmatch(r"[a-z_]+=[A-Za-z0-9_.]+", setting):
            parser.error(f"--pg-setting {setting!r}: expected name=value")
    if args.pg_setting and args.database_url:
        parser.error("--pg-setting applies to the embedded PostgreSQL only")
    if args.events < 1 or args.repeats < 1 or args.wave_repeats < 1:
        parser.error("--events, --repeats and --wave-repeats must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.database_url:
        return asyncio.run(run(args.database_url, args, embedded=False))
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="momento-bench-")))
        print(f"starting embedded PostgreSQL in {tmp} ...", file=sys.stderr)
        if args.pg_setting:
            # Settings such as shared_buffers take a restart.
            handle, url = start_embedded_postgres(tmp / "pg", cleanup_mode="stop")
            try:
                asyncio.run(alter_system(url, args.pg_setting))
            finally:
                handle.cleanup()
        handle, url = start_embedded_postgres(tmp / "pg", cleanup_mode="delete")
        stack.callback(handle.cleanup)
        return asyncio.run(run(url, args, embedded=True))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: stopped PostgreSQL and deleted the temp dir", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
