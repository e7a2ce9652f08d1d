"""Phone sign-in end to end over HTTP, including every way it must refuse."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from helpers import TEST_OTP_CODE, bearer, make_phone
from litestar.testing import AsyncTestClient

from server.app import create_app

Client = AsyncTestClient[Any]


async def request_and_verify(client: Client, phone: str, code: str = TEST_OTP_CODE) -> Any:
    sent = await client.post("/v1/auth/otp", json={"phone_number": phone})
    assert sent.status_code == 202, sent.text
    return await client.post("/v1/auth/verify", json={"phone_number": phone, "code": code})


async def test_new_number_signs_in_and_gets_a_user(client: Client) -> None:
    phone = make_phone(1)
    sent = await client.post("/v1/auth/otp", json={"phone_number": "(202) 555-0001"})
    assert sent.status_code == 202
    assert sent.json() == {"expires_in": 300}

    verified = await client.post("/v1/auth/verify", json={"phone_number": phone, "code": "123456"})
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["token_type"] == "bearer"
    assert body["is_new_user"] is True
    assert body["expires_in"] == 900
    assert body["access_token"] and body["refresh_token"]

    me = await client.get("/v1/me", headers=bearer(body))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == body["user_id"]
    assert me.json()["user"]["phone_number"] == phone


async def test_second_sign_in_is_the_same_user(client: Client, sign_in: Any) -> None:
    phone = make_phone(2)
    first = await sign_in(phone)
    second = await sign_in(phone)
    assert second["user_id"] == first["user_id"]
    assert second["is_new_user"] is False


async def test_bad_numbers(client: Client) -> None:
    for raw in ["12345", "not a phone", "+1 202 555"]:
        r = await client.post("/v1/auth/otp", json={"phone_number": raw})
        assert r.status_code == 422, raw
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "invalid_phone"
    for raw in ["+44 7911 123456", "+1 416 555 0123", "+1 787 555 0123"]:  # UK, Canada, PR
        r = await client.post("/v1/auth/otp", json={"phone_number": raw})
        assert r.status_code == 403, raw
        assert r.json()["code"] == "waitlist_required"
    missing = await client.post("/v1/auth/otp", json={})
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_error"


async def test_wrong_code_is_refused_and_counted(client: Client, settings: Any) -> None:
    phone = make_phone(3)
    wrong = await request_and_verify(client, phone, code="000000")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_code"
    for _ in range(settings.otp_max_attempts - 1):
        again = await client.post("/v1/auth/verify", json={"phone_number": phone, "code": "000001"})
        assert again.json()["code"] == "invalid_code"
    # The limit is reached: even the right code is refused until a new one is sent.
    blocked = await client.post(
        "/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE}
    )
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert int(blocked.headers["retry-after"]) >= 1
    fresh = await request_and_verify(client, phone)
    assert fresh.status_code == 200


async def test_code_without_request_or_reused(client: Client) -> None:
    never = await client.post(
        "/v1/auth/verify", json={"phone_number": make_phone(4), "code": TEST_OTP_CODE}
    )
    assert never.status_code == 401
    assert never.json()["code"] == "invalid_code"

    phone = make_phone(5)
    assert (await request_and_verify(client, phone)).status_code == 200
    reused = await client.post(
        "/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE}
    )
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid_code"


async def test_expired_code(client: Client, db_conn: asyncpg.Connection) -> None:
    phone = make_phone(6)
    assert (await client.post("/v1/auth/otp", json={"phone_number": phone})).status_code == 202
    await db_conn.execute(
        "UPDATE otp_codes SET expires_at = now() - interval '1 second' WHERE phone_number = $1",
        phone,
    )
    r = await client.post("/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE})
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_code"


async def test_codes_are_stored_hashed(client: Client, db_conn: asyncpg.Connection) -> None:
    phone = make_phone(7)
    await client.post("/v1/auth/otp", json={"phone_number": phone})
    stored = await db_conn.fetchval(
        "SELECT code_hash FROM otp_codes WHERE phone_number = $1", phone
    )
    assert stored and TEST_OTP_CODE not in stored


async def test_a_new_code_retires_the_old_one(client: Client, db_conn: asyncpg.Connection) -> None:
    phone = make_phone(8)
    await client.post("/v1/auth/otp", json={"phone_number": phone})
    await client.post("/v1/auth/otp", json={"phone_number": phone})
    live = await db_conn.fetchval(
        "SELECT count(*) FROM otp_codes WHERE phone_number = $1 AND consumed_at IS NULL", phone
    )
    assert live == 1


async def test_sending_codes_is_rate_limited_per_phone(client: Client, settings: Any) -> None:
    phone = make_phone(9)
    for _ in range(settings.otp_sends_per_phone_per_hour):
        assert (await client.post("/v1/auth/otp", json={"phone_number": phone})).status_code == 202
    limited = await client.post("/v1/auth/otp", json={"phone_number": phone})
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    # Another number from the same phone app is still fine.
    assert (
        await client.post("/v1/auth/otp", json={"phone_number": make_phone(10)})
    ).status_code == 202


async def test_per_ip_limits_spare_test_numbers(settings: Any) -> None:
    """Real numbers cost an SMS and share a per-IP budget; test numbers cost nothing."""
    app = create_app(msgspec.structs.replace(settings, otp_sends_per_ip_per_hour=2))
    async with AsyncTestClient(app=app) as client:
        for n in range(2):
            r = await client.post("/v1/auth/otp", json={"phone_number": f"+1212555{n:04d}"})
            assert r.status_code == 202
        limited = await client.post("/v1/auth/otp", json={"phone_number": "+12125550099"})
        assert limited.status_code == 429
        for n in range(5):
            r = await client.post("/v1/auth/otp", json={"phone_number": make_phone(100 + n)})
            assert r.status_code == 202
