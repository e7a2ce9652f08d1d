"""Small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid
from typing import Any

TEST_PHONE_PREFIX = "+1202555"
TEST_OTP_CODE = "123456"
JWT_SECRET = "test-secret-" + "x" * 40


def make_phone(n: int | None = None) -> str:
    """A US number under the test prefix: no SMS, fixed code."""
    suffix = n if n is not None else uuid.uuid4().int % 10_000
    return f"{TEST_PHONE_PREFIX}{suffix:04d}"


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
