"""After-event benchmark: completing a big event, and a burst of check-ins.

    .venv/bin/python bench/after_event.py [--attendees 100] [--events 50] [--per-event 20]

Completion (in this process, on a throwaway embedded PostgreSQL): an event of
`--attendees` people who all checked in is completed as the lifecycle job does
it (`complete_finished_events`: n*(n-1) Memory Book entries with snapshots, in
one transaction), then every attendee's reliability and contribution are
recomputed as the metrics job does, one after another. The peer, in the same
run: the same n*(n-1) pairs INSERT...SELECTed into an unindexed scratch table,
the floor of writing that many rows.

Check-in burst (the real app as a uvicorn process on the same database, no
Redis, as on the embedded default): `--events` events happening now, each
with `--per-event` confirmed invitees, and all their check-ins fired at once
at a fixed concurrency; the peer is the same number of `GET /v1/me` by the same
people at the same concurrency, right after.

Not a test: run by hand on an idle machine (bench/README.md). Everything it
starts is stopped and deleted on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import asyncpg
import httpx
from fanout import machine_facts
from rest import (
    HOST,
    JWT_SECRET,
    TEST_OTP_CODE,
    TEST_PHONE_PREFIX,
    Server,
    git_revision,
    sign_in_users,
    start_postgres,
    started,
    uvicorn_options,
)

from db.pool import connect
from db.queries import metrics as metrics_q
from server.events.lifecycle import complete_finished_events

ROOT = Path(__file__).resolve().parent.parent
# The place every bench event happens at, and where everyone checks in from.
PLACE = (40.73, -74.0)


# ── Seeding, straight in SQL (the routes are not what is measured here) ──


async def seed_people(
    conn: asyncpg.Connection, user_ids: Sequence[uuid.UUID] | None, count: int
) -> list[uuid.UUID]:
    """Social profiles for the given users (or for `count` new ones); their profile ids."""
    if user_ids is None:
        user_ids = await conn.fetchval(
            "WITH u AS (INSERT INTO users (phone_number, birth_date) "
            "SELECT '+1999' || lpad(n::text, 7, '0') || floor(random() * 1000)::text, "
            "'1994-05-01' FROM generate_series(1, $1) n RETURNING id) "
            "SELECT array_agg(id) FROM u",
            count,
        )
    profile_ids: list[uuid.UUID] = await conn.fetchval(
        "WITH p AS (INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
        "SELECT u, 'Guest ' || left(u::text, 4), 'Woman', ARRAY['Man'] "
        "FROM unnest($1::uuid[]) u RETURNING id) SELECT array_agg(id) FROM p",
        list(user_ids),
    )
    return profile_ids


async def seed_host(conn: asyncpg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    """A host and the place: (host_id, location_id)."""
    user_id = await conn.fetchval(
        "INSERT INTO users (phone_number) VALUES ('+19990000000') RETURNING id"
    )
    host_id = await conn.fetchval(
        "INSERT INTO host_profiles (user_id, host_name) VALUES ($1, 'Bench host') RETURNING id",
        user_id,
    )
    location_id = await conn.fetchval(
        "INSERT INTO locations (name, latitude, longitude) VALUES ('Bench place', $1, $2) "
        "RETURNING id",
        *PLACE,
    )
    return host_id, location_id


async def seed_event(
    conn: asyncpg.Connection,
    host_id: uuid.UUID,
    location_id: uuid.UUID,
    profile_ids: Sequence[uuid.UUID],
    starts_at: dt.datetime,
    *,
    attended: bool,
) -> uuid.UUID:
    """A published one-stop event of two hours with everyone confirmed (and, if
    `attended`, checked in)."""
    ends_at = starts_at + dt.timedelta(hours=2)
    event_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO events (host_id, title, status, min_attendees, max_attendees, age_min, "
        "age_max, published_at, starts_at, ends_at) "
        "VALUES ($1, 'Bench supper', 'published', 1, $2, 18, 99, $3, $3, $4) RETURNING id",
        host_id,
        max(len(profile_ids), 1),
        starts_at,
        ends_at,
    )
    await conn.execute(
        'INSERT INTO event_itinerary_stops (event_id, location_id, "order", start_time, end_time) '
        "VALUES ($1, $2, 1, $3, $4)",
        event_id,
        location_id,
        starts_at,
        ends_at,
    )
    await conn.execute(
        "INSERT INTO invitations (event_id, profile_id, status, wave) "
        "SELECT $1, p, 'confirmed', 1 FROM unnest($2::uuid[]) p",
        event_id,
        list(profile_ids),
    )
    if attended:
        await conn.execute(
            "INSERT INTO attendance (event_id, profile_id, status, source, check_in_latitude, "
            "check_in_longitude) SELECT $1, p, 'attended', 'check_in', $3, $4 "
            "FROM unnest($2::uuid[]) p",
            event_id,
            list(profile_ids),
            *PLACE,
        )
    return event_id


# ── Completion ──


class Completion:
    def __init__(self, attendees: int) -> None:
        self.attendees = attendees
        self.complete_ms: list[float] = []
        self.metrics_ms: list[float] = []
        self.floor_ms: list[float] = []
        self.entries = 0


async def run_completion(url: str, attendees: int, rounds: int) -> Completion:
    result = Completion(attendees)
    conn = await connect(url)
    try:
        host_id, location_id = await seed_host(conn)
        for _ in range(rounds):
            people = await seed_people(conn, None, attendees)
            started_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
            event_id = await seed_event(
                conn, host_id, location_id, people, started_at, attended=True
            )
            user_ids = await conn.fetchval(
                "SELECT array_agg(user_id) FROM social_profiles WHERE id = ANY($1)", people
            )
            t0 = time.perf_counter()
            async with conn.transaction():
                assert await complete_finished_events(conn, dt.datetime.now(dt.UTC)) == 1
            result.complete_ms.append((time.perf_counter() - t0) * 1000)
            result.entries = await conn.fetchval(
                "SELECT count(*) FROM connections WHERE event_id = $1", event_id
            )
            t0 = time.perf_counter()
            for user_id in user_ids:
                async with conn.transaction():
                    await metrics_q.refresh_member_metrics(conn, user_id)
            result.metrics_ms.append((time.perf_counter() - t0) * 1000)
            # The peer: the same pairs, written into a table without indexes or checks.
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS scratch (LIKE connections) ON COMMIT DELETE ROWS"
            )
            t0 = time.perf_counter()
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO scratch (id, user_profile_id, connected_profile_id, event_id, "
                    "connected_profile_snapshot_name, was_photo_authentic, is_favorite, "
                    "wants_to_connect_again, does_not_want_to_connect_again, created_at, "
                    "updated_at) SELECT gen_random_uuid(), a.profile_id, b.profile_id, $1, "
                    "'x', false, false, false, false, now(), now() FROM attendance a "
                    "JOIN attendance b ON b.event_id = a.event_id AND b.profile_id <> a.profile_id "
                    "WHERE a.event_id = $1",
                    event_id,
                )
            result.floor_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        await conn.close()
    return result


# ── Check-in burst ──


class Burst:
    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies_ms: list[float] = []
        self.statuses: dict[int, int] = {}
        self.seconds = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def fire(
    name: str,
    port: int,
    calls: Sequence[Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]],
    concurrency: int,
) -> Burst:
    burst = Burst(name)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", timeout=60, limits=limits
    ) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(call: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]) -> None:
            async with gate:
                t0 = time.perf_counter()
                r = await call(client)
                burst.latencies_ms.append((time.perf_counter() - t0) * 1000)
                burst.statuses[r.status_code] = burst.statuses.get(r.status_code, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one(call) for call in calls))
        burst.seconds = time.perf_counter() - t0
    return burst


async def run_burst(
    url: str, port: int, events: int, per_event: int, concurrency: int
) -> tuple[Burst, Burst]:
    users = await sign_in_users(port, events * per_event)
    conn = await connect(url)
    try:
        host_id = await conn.fetchval("SELECT id FROM host_profiles LIMIT 1")
        location_id = await conn.fetchval("SELECT id FROM locations LIMIT 1")
        profiles = await seed_people(conn, [uuid.UUID(u) for u, _ in users], 0)
        now = dt.datetime.now(dt.UTC)
        event_ids = []
        for e in range(events):
            group = profiles[e * per_event : (e + 1) * per_event]
            start = now - dt.timedelta(minutes=10)
            event_ids.append(
                await seed_event(conn, host_id, location_id, group, start, attended=False)
            )
    finally:
        await conn.close()
    here = {"latitude": PLACE[0], "longitude": PLACE[1] + 0.0005, "accuracy_meters": 15.0}

    def check_in(
        event_id: uuid.UUID, token: str
    ) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
        headers = {"Authorization": f"Bearer {token}"}
        return lambda c: c.post(f"/v1/events/{event_id}/check-in", json=here, headers=headers)

    def me(token: str) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
        headers = {"Authorization": f"Bearer {token}"}
        return lambda c: c.get("/v1/me", headers=headers)

    calls = [check_in(event_ids[i // per_event], token) for i, (_, token) in enumerate(users)]
    checked_in = await fire("check-in", port, calls, concurrency)
    peer = await fire("GET /v1/me", port, [me(token) for _, token in users], concurrency)
    return checked_in, peer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attendees", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--per-event", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="momento-bench-")))
        print(f"starting embedded PostgreSQL in {tmp} ...", file=sys.stderr)
        handle, url, _ = start_postgres(tmp)
        stack.callback(handle.cleanup)
        done = asyncio.run(run_completion(url, args.attendees, args.rounds))

        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {
            "DATABASE_URL": url,
            "JWT_SECRET": JWT_SECRET,
            "MOMENTO_ENV": "test",
            "AUTH_TEST_PHONE_PREFIX": TEST_PHONE_PREFIX,
            "AUTH_TEST_OTP_CODE": TEST_OTP_CODE,
            "LOG_LEVEL": "WARNING",
            "ACCESS_TOKEN_TTL_SECONDS": "86400",
            "OTP_SENDS_PER_IP_PER_HOUR": "1000000",
            "OTP_VERIFIES_PER_IP_PER_HOUR": "1000000",
        }
        argv_ = [
            sys.executable,
            "-m",
            "uvicorn",
            *uvicorn_options(),
            "--factory",
            "server.app:create_app",
        ]
        server = stack.enter_context(started(Server("real", argv_, env, tmp / "real.log")))
        server.wait_ready("/health")
        checked_in, peer = asyncio.run(
            run_burst(url, server.port, args.events, args.per_event, args.concurrency)
        )

    print(f"\n{machine_facts()} · {git_revision()}\n")
    print(
        f"Completion of an event of {done.attendees} attendees "
        f"({done.entries} Memory Book entries), "
        f"median of {len(done.complete_ms)} rounds:"
    )
    floor = statistics.median(done.floor_ms)
    complete = statistics.median(done.complete_ms)
    metrics = statistics.median(done.metrics_ms)
    print("| step | ms | vs the floor |")
    print("|---|---:|---:|")
    print(f"| complete (entries with snapshots) | {complete:,.1f} | {complete / floor:.1f}x |")
    print(f"| metrics of {done.attendees} people | {metrics:,.1f} | {metrics / floor:.1f}x |")
    print(f"| floor: the same rows, bare insert | {floor:,.1f} | 1.0x |")
    total = args.events * args.per_event
    print(
        f"\nBurst of {total} check-ins across {args.events} events, concurrency {args.concurrency}:"
    )
    print("| requests | per second | p50 ms | p99 ms | statuses | vs GET /v1/me |")
    print("|---|---:|---:|---:|---|---:|")
    for burst in (checked_in, peer):
        ratio = burst.rate / peer.rate if peer.rate else 0.0
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(burst.statuses.items()))
        print(
            f"| {burst.name} | {burst.rate:,.0f} | {burst.pct(0.5):.1f} | {burst.pct(0.99):.1f} "
            f"| {statuses} | {ratio:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
