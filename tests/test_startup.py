"""The commands a deployment runs: they refuse a bad environment before
starting anything, and `python -m server` migrates, serves and stops cleanly.

Each command runs as a real subprocess of this interpreter from the repo root,
with an environment stripped of every Momento setting the test did not set.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from helpers import free_port

from db.migrate import load_migrations
from server.settings import ENV_NAMES

REPO_ROOT = Path(__file__).parents[1]
JWT_SECRET = "startup-test-secret-" + "x" * 40


def clean_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """os.environ without any Momento setting (a developer's DATABASE_URL must not leak in)."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES.values()}
    env["MOMENTO_DATA_DIR"] = str(data_dir)
    env.update(settings)
    return env


def run_command(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# ── Refusals ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("module", ["server", "workers"])
def test_production_without_settings_refuses_to_start(tmp_path: Path, module: str) -> None:
    data_dir = tmp_path / "data"
    started = time.monotonic()

    result = run_command(module, clean_env(data_dir, MOMENTO_ENV="production"))

    assert result.returncode != 0
    assert time.monotonic() - started < 60
    for problem in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "Twilio"):
        assert problem in result.stderr, result.stderr
    assert "Traceback" not in result.stderr  # a message for operators, not a crash
    # Nothing was started: no embedded database, no generated secret.
    assert not data_dir.exists()


def test_workers_without_database_url_refuse_outside_production(tmp_path: Path) -> None:
    """Standalone workers need a shared database; the embedded one belongs to the web process."""
    result = run_command("workers", clean_env(tmp_path, MOMENTO_ENV="dev", JWT_SECRET=JWT_SECRET))
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr, result.stderr
    assert not (tmp_path / "postgres").exists()


# ── A real start and stop ───────────────────────────────────────────────────


def start(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """The test's own clean-up: whatever happened, the process must not outlive the test."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def wait_until_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited early with {proc.returncode}"
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"/health did not answer within {timeout} s")


def serve_then_sigterm(env: dict[str, str], log_path: Path) -> None:
    """Start `python -m server run`, check /health and /ready, SIGTERM it: it must exit 0."""
    proc = start(["server", "run"], env, log_path)
    try:
        base_url = f"http://127.0.0.1:{env['PORT']}"
        wait_until_healthy(base_url, proc, timeout=30)

        assert httpx.get(f"{base_url}/health", timeout=5).json() == {"status": "ok"}
        ready = httpx.get(f"{base_url}/ready", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["database"] == "ok"

        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=15)  # graceful shutdown is capped at 10 s
        assert returncode == 0, f"exit code {returncode} after SIGTERM"
    finally:
        stop(proc)


def with_output(exc: AssertionError, log_path: Path) -> AssertionError:
    return AssertionError(f"{exc}\n--- process output ---\n{log_path.read_text()}")


async def test_server_migrates_serves_and_stops_gracefully_on_sigterm(
    empty_database: str, tmp_path: Path
) -> None:
    env = clean_env(
        tmp_path,
        MOMENTO_ENV="test",
        DATABASE_URL=empty_database,
        PORT=str(free_port()),
        JWT_SECRET=JWT_SECRET,
    )
    log_path = tmp_path / "server.log"
    try:
        await asyncio.to_thread(serve_then_sigterm, env, log_path)
    except AssertionError as exc:
        raise with_output(exc, log_path) from exc

    # It migrated the empty database on the way up.
    conn = await asyncpg.connect(empty_database)
    try:
        rows = await conn.fetch("SELECT name FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r["name"] for r in rows] == [m.name for m in load_migrations()]


def test_embedded_database_is_stopped_when_the_server_is(tmp_path: Path) -> None:
    """Without DATABASE_URL the server owns an embedded PostgreSQL: SIGTERM must stop it too."""
    data_dir = tmp_path / "data"
    postmaster_pid = data_dir / "postgres" / "postmaster.pid"
    env = clean_env(data_dir, MOMENTO_ENV="test", PORT=str(free_port()), JWT_SECRET=JWT_SECRET)
    log_path = tmp_path / "server.log"
    try:
        serve_then_sigterm(env, log_path)
        assert not postmaster_pid.exists(), "the embedded PostgreSQL is still running"
    except AssertionError as exc:
        raise with_output(exc, log_path) from exc
    finally:
        if postmaster_pid.exists():  # left behind by our server: fast-shutdown it by its pid
            os.kill(int(postmaster_pid.read_text().split()[0]), signal.SIGINT)
            deadline = time.monotonic() + 15
            while postmaster_pid.exists() and time.monotonic() < deadline:
                time.sleep(0.1)


async def test_workers_run_until_sigterm_then_exit_cleanly(
    database_url: str, db_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """`python -m workers` connects, then on SIGTERM finishes and closes its connections."""
    database = urlsplit(database_url).path.lstrip("/")
    count_others = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
    )
    env = clean_env(tmp_path, MOMENTO_ENV="test", DATABASE_URL=database_url, JWT_SECRET=JWT_SECRET)
    log_path = tmp_path / "workers.log"
    proc = await asyncio.to_thread(start, ["workers"], env, log_path)
    try:
        async with asyncio.timeout(30):
            while await db_conn.fetchval(count_others, database) == 0:
                assert proc.poll() is None, f"the workers exited early with {proc.returncode}"
                await asyncio.sleep(0.2)

        proc.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(proc.wait, 15)
        assert returncode == 0, f"exit code {returncode} after SIGTERM"
        assert await db_conn.fetchval(count_others, database) == 0  # pool closed
    except (AssertionError, TimeoutError) as exc:
        raise with_output(AssertionError(str(exc) or repr(exc)), log_path) from exc
    finally:
        await asyncio.to_thread(stop, proc)
