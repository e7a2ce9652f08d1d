"""The demo-data command fills a dev database through the API's own rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
from helpers import TEST_OTP_CODE, bearer
from litestar.testing import AsyncTestClient

from server.demo import FIRST_DEMO_NUMBER, PHONE_PREFIX, fill_demo_data
from server.storage.local import LocalStorage


async def test_demo_data_is_usable_and_made_once(
    client: AsyncTestClient[Any], db_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "media", "http://localhost:8000")
    summary = await fill_demo_data(db_conn, storage, 10 * 1024 * 1024, people=6)
    assert (summary.people, summary.hosts, summary.already_present) == (6, 3, False)
    assert summary.photos == 9
    assert await db_conn.fetchval("SELECT count(*) FROM social_profiles") == 6
    assert await db_conn.fetchval("SELECT count(*) FROM profile_interests") == 30
    assert len(list((tmp_path / "media").rglob("*.jpg"))) == 6 * 2 + 3  # + thumbnails

    again = await fill_demo_data(db_conn, storage, 10 * 1024 * 1024, people=6)
    assert again.already_present
    assert await db_conn.fetchval("SELECT count(*) FROM social_profiles") == 6

    # Sign in as a demo person (test prefix numbers) and look around.
    phone = f"{PHONE_PREFIX}{FIRST_DEMO_NUMBER:04d}"
    await client.post("/v1/auth/otp", json={"phone_number": phone})
    tokens = (
        await client.post("/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE})
    ).json()
    assert tokens["is_new_user"] is False
    me = (await client.get("/v1/me", headers=bearer(tokens))).json()
    assert me["social_profile"]["current_photo_id"] is not None
    discover = await client.get("/v1/discover", headers=bearer(tokens))
    assert discover.status_code == 200
    items = discover.json()["items"]
    assert items
    assert all(p["photo_url"] for p in items)
