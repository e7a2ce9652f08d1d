"""Small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

TEST_PHONE_PREFIX = "+1202555"
TEST_OTP_CODE = "123456"
JWT_SECRET = "test-secret-" + "x" * 40


def make_phone(n: int | None = None) -> str:
    """A US number under the test prefix: no SMS, fixed code."""
    suffix = n if n is not None else uuid.uuid4().int % 10_000
    return f"{TEST_PHONE_PREFIX}{suffix:04d}"


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def block(
    db_conn: asyncpg.Connection, blocker: dict[str, Any], blocked: dict[str, Any]
) -> None:
    """`blocker` blocks `blocked` (both sign-in results), straight in the database."""
    await db_conn.execute(
        "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)",
        uuid.UUID(blocker["user_id"]),
        uuid.UUID(blocked["user_id"]),
    )
