"""The whole app under load: a Locust scenario against 2 web processes, a worker,
PostgreSQL and Redis on this machine (bench/README.md "Load").

    .venv/bin/python bench/load.py [--stages 150,200,250,300,400] [--seconds 30]

Starts a throwaway embedded PostgreSQL, two `uvicorn server.app:create_app`
processes and one `python -m workers` on a Redis (`--redis-url`, default the
machine's, under a key prefix of its own), seeds people in groups of ten
(each group: a board event all of them attend, an upcoming event they are
invited to, partners who may chat), then runs bench/locustfile.py headless
once per stage with that many users, new people each stage. It prints, per
stage and route, requests/s, p50/p99 and failures, the CPU each process
used, and the highest stage whose every route kept p99 < 200 ms with no
failure. Not a CI test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fanout import machine_facts
from rest import (
    HOST,
    JWT_SECRET,
    TEST_OTP_CODE,
    TEST_PHONE_PREFIX,
    Server,
    _on_sigterm,
    _tree,
    _tree_ticks,
    git_revision,
    run_main,
    sign_in_users,
    start_postgres,
    started,
    uvicorn_options,
)

from gateway.transport import PROTOCOL

ROOT = Path(__file__).resolve().parent.parent
GROUP = 10
P99_LIMIT_MS = 200.0


def _env(url: str, redis_url: str, prefix: str, data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MOMENTO_ENV": "test",
        "MOMENTO_DATA_DIR": str(data),
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "RUN_WORKERS_IN_WEB": "false",
        "JWT_SECRET": JWT_SECRET,
        "AUTH_TEST_PHONE_PREFIX": TEST_PHONE_PREFIX,
        "AUTH_TEST_OTP_CODE": TEST_OTP_CODE,
        # Everyone signs in from 127.0.0.1: the per-IP limits would stop the bench.
        "OTP_SENDS_PER_IP_PER_HOUR": "1000000",
        "OTP_VERIFIES_PER_IP_PER_HOUR": "1000000",
        "LOG_LEVEL": "WARNING",
    }


async def _published(http: httpx.AsyncClient, location_id: str, hours: float, title: str) -> str:
    start = time.time() + hours * 3600
    stop = {
        "location_id": location_id,
        "start_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
        "end_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 7200)),
    }
    body = {
        "title": title,
        "min_attendees": 2,
        "max_attendees": GROUP,
        "age_min": 18,
        "age_max": 99,
        "stops": [stop],
    }
    r = await http.post("/v1/events", json=body)
    assert r.status_code == 201, r.text
    event_id: str = r.json()["id"]
    r = await http.post(f"/v1/events/{event_id}/publish")
    assert r.status_code == 200, r.text
    return event_id


async def seed(port: int, url: str, count: int) -> list[dict[str, Any]]:
    """`count` people (a multiple of GROUP) with what the scenario needs."""
    [(_, token)] = await sign_in_users(port, 1)
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        profile = {"gender": "Woman", "interested_in": ["Man"], "first_name": "Host"}
        assert (await http.put("/v1/me/social-profile", json=profile)).status_code == 201
        assert (
            await http.put("/v1/me/host-profile", json={"host_name": "Bench"})
        ).status_code == 201
        place = {"name": "Hall", "address": "1 Main St", "latitude": 40.73, "longitude": -74.0}
        location_id = (await http.post("/v1/locations", json=place)).json()["id"]
        groups = []
        for g in range(count // GROUP):
            board = await _published(http, location_id, 48, f"Board {g}")
            upcoming = await _published(http, location_id, 72, f"Upcoming {g}")
            groups.append((board, upcoming))
    conn = await asyncpg.connect(url)
    people: list[dict[str, Any]] = []
    try:
        for n in range(count):
            phone = f"{TEST_PHONE_PREFIX}{1000 + n:04d}"
            user_id = await conn.fetchval(
                "INSERT INTO users (phone_number) VALUES ($1) RETURNING id", phone
            )
            profile_id = await conn.fetchval(
                "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
                "VALUES ($1, $2, 'Woman', ARRAY['Man']) RETURNING id",
                user_id,
                f"Person {n}",
            )
            board, upcoming = groups[n // GROUP]
            await conn.execute(
                "INSERT INTO invitations (event_id, profile_id, status, wave) "
                "VALUES ($1, $2, 'confirmed', 1)",
                uuid.UUID(board),
                profile_id,
            )
            # Partners "attended together": what a conversation needs.
            await conn.execute(
                "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, 'attended')",
                uuid.UUID(board),
                profile_id,
            )
            invitation_id = await conn.fetchval(
                "INSERT INTO invitations (event_id, profile_id, status, wave) "
                "VALUES ($1, $2, 'sent', 1) RETURNING id",
                uuid.UUID(upcoming),
                profile_id,
            )
            people.append(
                {
                    "phone": phone,
                    "code": TEST_OTP_CODE,
                    "profile_id": str(profile_id),
                    "board_event_id": board,
                    "invitation_id": str(invitation_id),
                }
            )
    finally:
        await conn.close()
    for n, person in enumerate(people):
        person["partner_profile_id"] = people[n ^ 1]["profile_id"]
    await _drained(url)
    return people


async def _drained(url: str, seconds: float = 120) -> None:
    """Wait for the matching waves the seeding's publishes queued to finish, so
    the stages measure the scenario alone."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(int(seconds * 2)):
            if not await conn.fetchval("SELECT count(*) FROM pgqueuer"):
                return
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def _stats(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _ticks(pids: dict[str, int]) -> dict[str, dict[int, int]]:
    return {name: _tree_ticks(_tree(pid)) for name, pid in pids.items()}


def _cpu(before: dict[str, dict[int, int]], seconds: float) -> dict[str, float]:
    hz = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, start in before.items():
        end = _tree_ticks(set(start))
        used[name] = 100.0 * sum(end[p] - start[p] for p in start if p in end) / hz / seconds
    return used


def run_stage(
    users: int, seconds: int, people: Path, hosts: str, out: Path, pids: dict[str, int]
) -> tuple[list[dict[str, str]], dict[str, float]]:
    prefix = out / f"stage_{users}"
    locust = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(max(1, users // 5)),
            "-t",
            f"{seconds}s",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            # Steady state only: the ramp-up's sign-ins are left out of the figures.
            "--reset-stats",
        ],
        env={**os.environ, "LOAD_PEOPLE": str(people), "LOAD_HOSTS": hosts},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    time.sleep(min(5, seconds / 4))  # past the ramp-up and the sign-ins
    measured = {**pids, "locust": locust.pid}
    before = _ticks(measured)
    started_at = time.monotonic()
    time.sleep(max(1, seconds - 8))
    cpu = _cpu(before, time.monotonic() - started_at)
    locust.wait(timeout=seconds + 60)
    return _stats(Path(f"{prefix}_stats.csv")), cpu


def _ok(rows: list[dict[str, str]]) -> bool:
    return all(
        float(r["99%"] or 0) < P99_LIMIT_MS and int(r["Failure Count"]) == 0
        for r in rows
        if r["Name"] != "Aggregated"
    )


def render(users: int, rows: list[dict[str, str]], cpu: dict[str, float]) -> str:
    lines = [
        f"\n### {users} users: {'p99 < 200 ms, no failures' if _ok(rows) else 'over the bar'}\n",
        "| route | requests/s | p50 ms | p99 ms | failures |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        name = r["Name"] if r["Type"] != "WS" else f"WS {r['Name']}"
        lines.append(
            f"| {name} | {float(r['Requests/s']):.1f} | {r['50%']} | {r['99%']} | "
            f"{r['Failure Count']} |"
        )
    lines.append("\nCPU (% of one core): " + ", ".join(f"{k} {v:.0f}%" for k, v in cpu.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", default="150,200,250,300,400")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    stages = [int(s) for s in args.stages.split(",")]
    total = sum(-(-s // GROUP) * GROUP for s in stages)
    print(f"# Load: {machine_facts()}, revision {git_revision()}")
    with tempfile.TemporaryDirectory(prefix="momento-load-") as tmp_name:
        tmp = Path(tmp_name)
        handle, url, pg_pid = start_postgres(tmp)
        env = _env(url, args.redis_url, f"bench:{uuid.uuid4().hex}:", tmp)
        argv_web = [
            sys.executable,
            "-m",
            "uvicorn",
            "--ws",
            PROTOCOL,
            "--factory",
            "server.app:create_app",
        ]
        web = [
            Server(f"web{i}", [*argv_web, *uvicorn_options()], env, tmp / f"web{i}.log")
            for i in (1, 2)
        ]
        worker = subprocess.Popen(
            [sys.executable, "-m", "workers"],
            cwd=ROOT,
            env=env,
            stdout=(tmp / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            with started(web[0]), started(web[1]):
                for server in web:
                    server.wait_ready("/health")
                people = asyncio.run(seed(web[0].port, url, total))
                hosts = ",".join(f"http://{HOST}:{s.port}" for s in web)
                pids = {"web1": web[0].proc.pid, "web2": web[1].proc.pid, "worker": worker.pid}
                if pg_pid:
                    pids["postgres"] = pg_pid
                offset, best = 0, None
                for users in stages:
                    share = tmp / f"people_{users}.json"
                    share.write_text(json.dumps(people[offset : offset + users]))
                    offset += -(-users // GROUP) * GROUP
                    rows, cpu = run_stage(users, args.seconds, share, hosts, tmp, pids)
                    print(render(users, rows, cpu), flush=True)
                    if _ok(rows):
                        best = users
                print(f"\nHighest stage with p99 < 200 ms and no failures: {best} users")
        finally:
            worker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(10)
            handle.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "the servers, the worker and PostgreSQL"))
