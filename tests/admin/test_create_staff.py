"""`python -m server create-staff`: the only way to make staff, recorded like every admin action.

Runs the real command as a subprocess of this interpreter from the repo root,
against the test's database, with an environment stripped of every Momento
setting the test did not set.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
from helpers import TEST_PHONE_PREFIX, bearer
from litestar.testing import AsyncTestClient

from server.settings import ENV_NAMES

Client = AsyncTestClient[Any]
REPO_ROOT = Path(__file__).parents[2]
JWT_SECRET = "create-staff-test-secret-" + "x" * 40


def number() -> tuple[str, str]:
    """A test number typed the way a person would, and its E.164 form."""
    suffix = f"{random.randrange(10_000):04d}"
    local = TEST_PHONE_PREFIX.removeprefix("+1")
    return f"({local[:3]}) {local[3:]}-{suffix}", f"{TEST_PHONE_PREFIX}{suffix}"


async def create_staff(
    database_url: str, data_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES.values()}
    env.update(
        MOMENTO_ENV="test",
        MOMENTO_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        JWT_SECRET=JWT_SECRET,
    )
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server", "create-staff", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def audit(db: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT staff_user_id, action, target_type, target_id, details FROM admin_actions "
        "ORDER BY created_at, id"
    )
    return rows


async def test_create_staff_then_sign_in_and_use_the_admin_routes(
    client: Client, sign_in: Any, database_url: str, db_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    typed, e164 = number()
    result = await create_staff(database_url, tmp_path, typed)
    assert result.returncode == 0, result.stderr
    user_id = await db_conn.fetchval("SELECT id FROM users WHERE phone_number = $1", e164)
    assert user_id is not None  # created, with the number normalised like sign-in does
    assert f"user_id={user_id}" in result.stdout
    assert "role=admin" in result.stdout
    assert (
        await db_conn.fetchval("SELECT role FROM staff_accounts WHERE user_id = $1", user_id)
        == "admin"
    )
    [action] = await audit(db_conn)
    assert action["staff_user_id"] is None
    assert (action["action"], action["target_type"], action["target_id"]) == (
        "staff.grant",
        "user",
        str(user_id),
    )
    assert action["details"]["via"] == "cli"
    assert action["details"]["role"] == "admin"
    assert action["details"]["user_created"] is True

    tokens = await sign_in(e164)
    assert tokens["user_id"] == str(user_id)
    assert tokens["is_new_user"] is False
    r = await client.get("/v1/admin/actions", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    assert [a["action"] for a in r.json()["items"]] == ["staff.grant"]


async def test_roles_change_and_revoke_on_an_existing_user(
    client: Client, sign_in: Any, database_url: str, db_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    typed, e164 = number()
    tokens = await sign_in(e164)
    before = (await client.get("/v1/admin/reports", headers=bearer(tokens))).json()
    assert before["code"] == "staff_only"

    result = await create_staff(database_url, tmp_path, typed, "--role", "support")
    assert result.returncode == 0, result.stderr
    assert f"user_id={tokens['user_id']} role=support" in result.stdout
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 1  # nobody new
    # The same token now reaches what support may, and only that.
    r = await client.get("/v1/admin/support-tickets", headers=bearer(tokens))
    assert r.status_code == 200
    r = await client.get("/v1/admin/reports", headers=bearer(tokens))
    assert (r.status_code, r.json()["code"]) == (403, "insufficient_role")

    result = await create_staff(database_url, tmp_path, e164, "--role", "moderator")
    assert result.returncode == 0, result.stderr
    assert (await client.get("/v1/admin/reports", headers=bearer(tokens))).status_code == 200

    result = await create_staff(database_url, tmp_path, e164, "--revoke")
    assert result.returncode == 0, result.stderr
    assert "revoked" in result.stdout
    r = await client.get("/v1/admin/reports", headers=bearer(tokens))
    assert (r.status_code, r.json()["code"]) == (403, "staff_only")
    # Still a member: revoking staff does not sign them out of the app.
    assert (await client.get("/v1/me", headers=bearer(tokens))).status_code == 200

    actions = await audit(db_conn)
    assert [(a["action"], a["staff_user_id"]) for a in actions] == [
        ("staff.grant", None),
        ("staff.grant", None),
        ("staff.revoke", None),
    ]
    assert {a["target_id"] for a in actions} == {tokens["user_id"]}
    assert actions[0]["details"]["user_created"] is False
    assert actions[1]["details"]["previous_role"] == "support"
    assert actions[2]["details"] == {"via": "cli", "role": "moderator"}

    # Revoking someone who is not staff changes nothing and says so.
    result = await create_staff(database_url, tmp_path, e164, "--revoke")
    assert result.returncode == 1
    assert "not a staff member" in result.stderr
    assert len(await audit(db_conn)) == 3


async def test_invalid_numbers_and_roles_are_refused(
    database_url: str, db_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    for phone, message in [
        ("12345", "not a valid phone number"),
        ("+44 20 7946 0958", "US-only"),
    ]:
        result = await create_staff(database_url, tmp_path, phone)
        assert result.returncode == 2, result.stdout
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    _, e164 = number()
    result = await create_staff(database_url, tmp_path, e164, "--role", "owner")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 0
    assert await db_conn.fetchval("SELECT count(*) FROM staff_accounts") == 0
    assert await audit(db_conn) == []


async def test_revoking_an_unknown_number_creates_nobody(
    database_url: str, db_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    _, e164 = number()
    result = await create_staff(database_url, tmp_path, e164, "--revoke")
    assert result.returncode == 1
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 0
