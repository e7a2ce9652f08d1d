"""PostgreSQL stopped and started under traffic, and PostgreSQL too slow.

The app under test has an embedded PostgreSQL of its own, so stopping it
stops nobody else's; it serves over a real socket with the job queue inside
it (the single-process setup), REST and the WebSocket at once.

What must hold:
- while the database is down, every request is answered within the acquire
  timeout and a second: 503 `database_unavailable` (or `database_busy`)
  with Retry-After, never a 500 and never a hang;
- once it is back, requests succeed again within 15 s without restarting
  the app; the LISTEN connection is up again and a sign-out's NOTIFY ends a
  remembered sign-in at once; the job queue takes new jobs;
- a message acknowledged before the outage is still there, and one sent
  after it is stored and reaches the other side live.
- a statement held up by a lock answers 503 `database_timeout` within
  DATABASE_STATEMENT_TIMEOUT_MS and a second, instead of piling up; a
  request that finds no free connection answers 503 `database_busy` within
  DATABASE_ACQUIRE_TIMEOUT_SECONDS and a second.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from helpers import TEST_OTP_CODE, bearer, make_phone, until

from db.embedded import start_embedded_postgres
from db.migrate import migrate
from jobs.contract import enqueue_member_metrics
from tests.realtime.steps import Connect, Serve

ACQUIRE_SECONDS = 1.0
STATEMENT_MS = 1000


class Database:
    """An embedded PostgreSQL that can be stopped and started again."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.server: Any = None
        self.url = ""

    def start(self) -> None:
        self.server, self.url = start_embedded_postgres(self.pgdata, cleanup_mode="stop")

    def stop(self) -> None:
        self.server.cleanup()
        self.server = None


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(tmp_path / "pg")
    db.start()
    await migrate(db.url)
    yield db
    if db.server is not None:
        db.server.cleanup()


async def _person(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    phone = make_phone()
    assert (await http.post("/v1/auth/otp", json={"phone_number": phone})).status_code == 202
    r = await http.post("/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE})
    tokens: dict[str, Any] = r.json()
    profile = {"gender": "Woman", "interested_in": ["Man"], "first_name": name}
    r = await http.put("/v1/me/social-profile", headers=bearer(tokens), json=profile)
    assert r.status_code == 201, r.text
    return {**tokens, "profile_id": r.json()["id"]}


async def _met(url: str, *people: dict[str, Any]) -> None:
    """The two attended an event together (straight in the database)."""
    conn = await asyncpg.connect(url)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (phone_number) VALUES ($1) RETURNING id", make_phone()
        )
        host = await conn.fetchval(
            "INSERT INTO host_profiles (user_id, host_type, host_name) "
            "VALUES ($1, 'user', 'H') RETURNING id",
            user,
        )
        event = await conn.fetchval(
            "INSERT INTO events (host_id, title) VALUES ($1, 'Picnic') RETURNING id", host
        )
        for person in people:
            await conn.execute(
                "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, 'attended')",
                event,
                uuid.UUID(person["profile_id"]),
            )
    finally:
        await conn.close()


async def test_a_database_restart_under_traffic(
    serve: Serve, ws: Connect, database: Database
) -> None:
    live = await serve(
        database_url=database.url,
        run_workers_in_web=True,
        database_acquire_timeout_seconds=ACQUIRE_SECONDS,
        # Sign-ins are remembered; only the LISTEN connection's NOTIFY ends them early.
        session_cache_seconds=300,
    )
    base = live.ws_url.replace("ws://", "http://").removesuffix("/v1/ws")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        ann, bob = await _person(http, "Ann"), await _person(http, "Bob")
        await _met(database.url, ann, bob)
        r = await http.post(
            "/v1/conversations", headers=bearer(ann), json={"profile_id": bob["profile_id"]}
        )
        conversation = r.json()["id"]
        messages = f"/v1/conversations/{conversation}/messages"
        r = await http.post(messages, headers=bearer(ann), json={"content": "before"})
        assert r.status_code == 201, r.text

        database.stop()
        for path in ("/v1/me", messages, "/v1/me/notifications"):
            started = time.monotonic()
            r = await http.get(path, headers=bearer(ann))
            assert time.monotonic() - started < ACQUIRE_SECONDS + 1, path
            assert r.status_code == 503, (path, r.text)
            assert r.json()["code"] in ("database_unavailable", "database_busy")
            assert r.headers["retry-after"] == "1"
        r = await http.post(messages, headers=bearer(ann), json={"content": "lost?"})
        assert r.status_code == 503
        r = await http.get("/ready")
        assert (r.status_code, r.json()["code"]) == (503, "not_ready")

        database.start()

        async def answers() -> bool:
            return (await http.get("/v1/me", headers=bearer(ann))).status_code == 200

        await until(answers, 15, what="the app did not get its database back")
        await until(lambda: _up(live), 15, what="the LISTEN connection did not come back")
        # It hears again: a sign-out after the outage ends the remembered sign-in at once.
        carl = await _person(http, "Carl")
        assert (await http.get("/v1/me", headers=bearer(carl))).status_code == 200
        r = await http.post("/v1/auth/logout", json={"refresh_token": carl["refresh_token"]})
        assert r.status_code == 204

        async def signed_out() -> bool:
            return (await http.get("/v1/me", headers=bearer(carl))).status_code == 401

        await until(signed_out, 5, what="the sign-out NOTIFY did not arrive")
        r = await http.get(messages, headers=bearer(bob))
        assert [m["content"] for m in r.json()["items"]] == ["before"]

        bob_socket = await ws(live, bob)
        await bob_socket.subscribe(f"conversation:{conversation}")
        r = await http.post(messages, headers=bearer(ann), json={"content": "after"})
        assert r.status_code == 201, r.text
        frame = await bob_socket.expect("message")
        assert frame["data"]["content"] == "after"

        # The queue takes jobs again: one queued now is run by the worker.
        conn = await asyncpg.connect(database.url)
        try:
            user_id = uuid.UUID(ann["user_id"])
            async with conn.transaction():
                await enqueue_member_metrics(conn, [user_id])

            async def ran() -> bool:
                row = await conn.fetchval(
                    "SELECT 1 FROM user_internal_metrics WHERE user_id = $1", user_id
                )
                return row is not None

            # Within the queue's poll interval (workers/queue.py POLL) and a margin.
            await until(ran, 15, what="the job queue did not resume")
        finally:
            await conn.close()


async def _up(live: Any) -> bool:
    return bool(live.app.state.notifications.up)


async def test_a_statement_stuck_behind_a_lock_answers_503_in_time(
    serve: Serve, database: Database
) -> None:
    live = await serve(database_url=database.url, database_statement_timeout_ms=STATEMENT_MS)
    base = live.ws_url.replace("ws://", "http://").removesuffix("/v1/ws")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        ann = await _person(http, "Ann")
        locker = await asyncpg.connect(database.url)
        try:
            async with locker.transaction():
                await locker.execute("LOCK TABLE social_profiles IN ACCESS EXCLUSIVE MODE")
                started = time.monotonic()
                results = await asyncio.gather(
                    *(http.get("/v1/me", headers=bearer(ann)) for _ in range(5))
                )
                elapsed = time.monotonic() - started
            assert {r.status_code for r in results} == {503}
            assert {r.json()["code"] for r in results} == {"database_timeout"}
            assert elapsed < STATEMENT_MS / 1000 + 1
        finally:
            await locker.close()
        r = await http.get("/v1/me", headers=bearer(ann))
        assert r.status_code == 200


async def test_no_free_connection_answers_503_busy_in_time(
    serve: Serve, database: Database
) -> None:
    live = await serve(
        database_url=database.url,
        database_pool_min=1,
        database_pool_max=1,
        database_acquire_timeout_seconds=ACQUIRE_SECONDS,
    )
    base = live.ws_url.replace("ws://", "http://").removesuffix("/v1/ws")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        ann = await _person(http, "Ann")
        pool = live.app.state.db_pool
        async with pool.acquire():  # the pool's only connection, held elsewhere
            started = time.monotonic()
            r = await http.get("/v1/me", headers=bearer(ann))
            assert time.monotonic() - started < ACQUIRE_SECONDS + 1
            assert (r.status_code, r.json()["code"]) == (503, "database_busy")
            assert r.headers["retry-after"] == "1"
        assert (await http.get("/v1/me", headers=bearer(ann))).status_code == 200


async def test_a_connection_lost_mid_request_answers_503_unavailable(
    serve: Serve, database: Database
) -> None:
    live = await serve(database_url=database.url)
    base = live.ws_url.replace("ws://", "http://").removesuffix("/v1/ws")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        ann = await _person(http, "Ann")
        locker = await asyncpg.connect(database.url)
        try:
            async with locker.transaction():
                await locker.execute("LOCK TABLE social_profiles IN ACCESS EXCLUSIVE MODE")
                asked = asyncio.create_task(http.get("/v1/me", headers=bearer(ann)))

                async def waiting() -> list[int]:
                    return [
                        r["pid"]
                        for r in await locker.fetch(
                            "SELECT pid FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                        )
                    ]

                await until(waiting, 5, what="the request never waited on the lock")
                for pid in await waiting():  # the request's connection dies mid-statement
                    await locker.execute("SELECT pg_terminate_backend($1)", pid)
                r = await asked
        finally:
            await locker.close()
        assert (r.status_code, r.json()["code"]) == (503, "database_unavailable")
        assert r.headers["retry-after"] == "1"
        assert (await http.get("/v1/me", headers=bearer(ann))).status_code == 200
