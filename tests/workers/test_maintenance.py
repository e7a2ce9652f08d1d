"""The maintenance job and the in-process job queue."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from helpers import make_phone
from litestar.testing import AsyncTestClient

from db.pool import create_pool
from server.app import create_app
from server.settings import Settings
from workers.maintenance import KEEP_DAYS, purge_auth_records


async def test_purge_drops_only_long_dead_records(
    database_url: str, db_conn: asyncpg.Connection
) -> None:
    user_id = await db_conn.fetchval(
        "INSERT INTO users (phone_number) VALUES ($1) RETURNING id", make_phone()
    )
    old = f"now() - interval '{KEEP_DAYS + 1} days'"
    await db_conn.execute(
        f"""
        INSERT INTO otp_codes (phone_number, code_hash, expires_at) VALUES
            ('+12025550001', 'h', {old}),
            ('+12025550002', 'h', now() + interval '5 minutes')
        """
    )
    live_session = await db_conn.fetchval(
        "INSERT INTO auth_sessions (user_id) VALUES ($1) RETURNING id", user_id
    )
    dead_session = await db_conn.fetchval(
        f"INSERT INTO auth_sessions (user_id, revoked_at) VALUES ($1, {old}) RETURNING id",
        user_id,
    )
    await db_conn.execute(
        f"""
        INSERT INTO refresh_tokens (session_id, token_hash, expires_at) VALUES
            ($1, 'live', now() + interval '30 days'),
            ($2, 'expired', {old})
        """,
        live_session,
        dead_session,
    )

    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        assert await purge_auth_records(pool) == (1, 1, 1)
    finally:
        await pool.close()
    assert await db_conn.fetchval("SELECT phone_number FROM otp_codes") == "+12025550002"
    assert await db_conn.fetchval("SELECT token_hash FROM refresh_tokens") == "live"
    sessions = await db_conn.fetch("SELECT id FROM auth_sessions")
    assert [r["id"] for r in sessions] == [live_session]


async def test_web_process_runs_the_queue_when_alone(
    settings: Settings, db_conn: asyncpg.Connection
) -> None:
    """Without Redis the workers live in the web process: they register their
    schedules on start and stop with the app."""
    app = create_app(msgspec.structs.replace(settings, run_workers_in_web=True))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).status_code == 200
        expected = {
            "purge_auth_records",
            "embed_pending",
            "expire_invitations",
            "rematch_quiet_events",
            "event_lifecycle",
            "payments_sweep",
            "notification_reminders",
            "push_receipts",
            "close_attendance",
            "recluster_match_candidates",
        }
        for _ in range(50):
            rows = await db_conn.fetch("SELECT entrypoint FROM pgqueuer_schedules")
            if len(rows) >= len(expected):
                break
            await asyncio.sleep(0.1)
        assert {r["entrypoint"] for r in rows} == expected
