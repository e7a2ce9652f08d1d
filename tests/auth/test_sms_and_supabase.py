"""Production SMS (Twilio Verify, faked locally) and Supabase-issued tokens."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import asyncpg
import jwt
import pytest
from builders import client_with
from cryptography.hazmat.primitives.asymmetric import rsa
from fakes import twilio
from fakes.http import quiet, serve

from server.settings import Settings

REAL_US_NUMBER = "+12125550199"  # outside the test prefix: goes through the SMS provider


@pytest.fixture
def fake_twilio() -> Iterator[tuple[str, twilio.FakeTwilioState]]:
    state = twilio.FakeTwilioState()
    with serve(twilio.make_handler(state)) as url:
        yield url, state


def twilio_settings(url: str) -> dict[str, Any]:
    return {
        "twilio_account_sid": twilio.ACCOUNT_SID,
        "twilio_auth_token": twilio.AUTH_TOKEN,
        "twilio_verify_service_sid": twilio.SERVICE_SID,
        "twilio_api_base": url,
    }


async def test_twilio_verify_sends_and_checks_the_code(
    settings: Settings,
    fake_twilio: tuple[str, twilio.FakeTwilioState],
    db_conn: asyncpg.Connection,
) -> None:
    url, state = fake_twilio
    async with client_with(settings, **twilio_settings(url)) as client:
        sent = await client.post("/v1/auth/otp", json={"phone_number": "(212) 555-0199"})
        assert sent.status_code == 202
        assert state.sent == [REAL_US_NUMBER]
        # Twilio keeps the code: the server stores no hash, only attempts and expiry.
        stored = await db_conn.fetchval(
            "SELECT code_hash FROM otp_codes WHERE phone_number = $1", REAL_US_NUMBER
        )
        assert stored is None

        wrong = await client.post(
            "/v1/auth/verify", json={"phone_number": REAL_US_NUMBER, "code": "111111"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "invalid_code"
        right = await client.post(
            "/v1/auth/verify", json={"phone_number": REAL_US_NUMBER, "code": twilio.CODE}
        )
        assert right.status_code == 200, right.text
        assert right.json()["is_new_user"] is True


async def test_twilio_failures_are_a_clear_503(
    settings: Settings, fake_twilio: tuple[str, twilio.FakeTwilioState]
) -> None:
    url, state = fake_twilio
    state.fail_sends = True
    async with client_with(settings, **twilio_settings(url)) as client:
        r = await client.post("/v1/auth/otp", json={"phone_number": REAL_US_NUMBER})
        assert r.status_code == 503
        assert r.json()["code"] == "sms_unavailable"
    async with client_with(settings, **twilio_settings("http://127.0.0.1:9")) as client:
        r = await client.post("/v1/auth/otp", json={"phone_number": REAL_US_NUMBER})
        assert r.status_code == 503


SUPABASE_SECRET = "supabase-secret-" + "s" * 32


def supabase_claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "https://example.supabase.co/auth/v1",
        "aud": "authenticated",
        "sub": user_id,
        "role": "authenticated",
        "iat": now,
        "exp": now + 600,
    }
    return {**claims, **overrides}


async def test_supabase_hs256_tokens_map_sub_to_the_user(settings: Settings, sign_in: Any) -> None:
    user_id = (await sign_in())["user_id"]
    async with client_with(settings, supabase_jwt_secret=SUPABASE_SECRET) as client:
        good = jwt.encode(supabase_claims(user_id), SUPABASE_SECRET, algorithm="HS256")
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {good}"})
        assert me.status_code == 200, me.text
        assert me.json()["user"]["id"] == user_id

        bad_cases = [
            jwt.encode(supabase_claims(user_id), "wrong" * 10, algorithm="HS256"),
            jwt.encode(supabase_claims(user_id, aud="other"), SUPABASE_SECRET, algorithm="HS256"),
            jwt.encode(
                supabase_claims(user_id, exp=int(time.time()) - 60), SUPABASE_SECRET, "HS256"
            ),
            jwt.encode(
                supabase_claims("00000000-0000-0000-0000-000000000000"), SUPABASE_SECRET, "HS256"
            ),
        ]
        for token in bad_cases:
            r = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
    # Without the setting, the same token is refused.
    async with client_with(settings) as client:
        good = jwt.encode(supabase_claims(user_id), SUPABASE_SECRET, algorithm="HS256")
        r = await client.get("/v1/me", headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 401


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    @quiet
    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve(JwksHandler) as url:
        yield f"{url}/auth/v1/.well-known/jwks.json", key


async def test_supabase_jwks_tokens(settings: Settings, sign_in: Any, jwks_server: Any) -> None:
    jwks_url, key = jwks_server
    user_id = (await sign_in())["user_id"]
    async with client_with(settings, supabase_jwks_url=jwks_url) as client:
        good = jwt.encode(supabase_claims(user_id), key, algorithm="RS256", headers={"kid": "k1"})
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {good}"})
        assert me.status_code == 200, me.text

        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(
            supabase_claims(user_id), stranger, algorithm="RS256", headers={"kid": "k1"}
        )
        r = await client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401
        # An HS256 token "signed" with the public key must not pass (algorithm confusion).
        confused = jwt.encode(supabase_claims(user_id), SUPABASE_SECRET, algorithm="HS256")
        r = await client.get("/v1/me", headers={"Authorization": f"Bearer {confused}"})
        assert r.status_code == 401
