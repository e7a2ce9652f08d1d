"""Access and refresh tokens: who must NOT get through, and rotation."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import jwt
from helpers import JWT_SECRET, bearer, make_phone
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]


def forge(claims: dict[str, Any], secret: str = JWT_SECRET, alg: str = "HS256") -> dict[str, str]:
    token = jwt.encode(claims, secret, algorithm=alg)
    return {"Authorization": f"Bearer {token}"}


def claims_for(tokens: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    real = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    return {**real, **overrides}


async def assert_unauthorized(client: Client, headers: dict[str, str], code: str) -> None:
    r = await client.get("/v1/me", headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == code
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_missing_or_malformed_authorization(client: Client) -> None:
    await assert_unauthorized(client, {}, "unauthorized")
    await assert_unauthorized(client, {"Authorization": "Basic abc"}, "unauthorized")
    await assert_unauthorized(client, {"Authorization": "Bearer"}, "unauthorized")
    await assert_unauthorized(client, {"Authorization": "Bearer not.a.jwt"}, "invalid_token")


async def test_forged_expired_and_wrong_audience_tokens(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    await assert_unauthorized(client, forge(claims_for(tokens), secret="x" * 40), "invalid_token")
    expired = claims_for(tokens, exp=int(time.time()) - 60)
    await assert_unauthorized(client, forge(expired), "invalid_token")
    await assert_unauthorized(
        client, forge(claims_for(tokens, aud="someone-else")), "invalid_token"
    )
    await assert_unauthorized(client, forge(claims_for(tokens, iss="evil")), "invalid_token")
    # "alg: none" must never be accepted.
    unsigned = jwt.encode(claims_for(tokens), None, algorithm="none")
    await assert_unauthorized(client, {"Authorization": f"Bearer {unsigned}"}, "invalid_token")
    # Sanity: the genuine token works.
    assert (await client.get("/v1/me", headers=bearer(tokens))).status_code == 200


async def test_token_of_a_session_that_does_not_exist(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    other_session = claims_for(tokens, sid=str(uuid.uuid4()))
    await assert_unauthorized(client, forge(other_session), "invalid_token")


async def test_deleted_user_token_is_refused(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    assert (await client.delete("/v1/me", headers=bearer(tokens))).status_code == 204
    await assert_unauthorized(client, bearer(tokens), "invalid_token")
    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_suspended_and_banned_users_get_403(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    for status in ("suspended", "banned"):
        tokens = await sign_in()
        await db_conn.execute(
            "UPDATE users SET status = $2 WHERE id = $1", uuid.UUID(tokens["user_id"]), status
        )
        for method, path in (("GET", "/v1/me"), ("PATCH", "/v1/me"), ("GET", "/v1/me/export")):
            r = await client.request(method, path, headers=bearer(tokens), json={})
            assert r.status_code == 403, (status, path)
            assert r.json()["code"] == "account_suspended"


async def test_refresh_rotates(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["user_id"] == tokens["user_id"]
    assert new["is_new_user"] is False
    assert new["token_type"] == "bearer"
    assert (await client.get("/v1/me", headers=bearer(new))).status_code == 200


async def test_reusing_a_refresh_token_revokes_the_whole_session(
    client: Client, sign_in: Any
) -> None:
    phone = make_phone()
    tokens = await sign_in(phone)
    other_device = await sign_in(phone)
    rotated = (
        await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()

    reuse = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_token_reused"

    # Every token of that session is dead: the rotated refresh and both access tokens.
    again = await client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 401
    await assert_unauthorized(client, bearer(rotated), "invalid_token")
    await assert_unauthorized(client, bearer(tokens), "invalid_token")
    # Another sign-in of the same person is a different session and lives on.
    assert (await client.get("/v1/me", headers=bearer(other_device))).status_code == 200


async def test_concurrent_refreshes_of_one_token_issue_one_pair(
    client: Client, sign_in: Any
) -> None:
    """Two racing refreshes: one wins; the other is a reuse, so the session dies."""
    tokens = await sign_in()
    body = {"refresh_token": tokens["refresh_token"]}
    results = await asyncio.gather(*(client.post("/v1/auth/refresh", json=body) for _ in range(5)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 401, 401, 401, 401]


async def test_unknown_and_garbage_refresh_tokens(client: Client) -> None:
    for token in ("nope", "x" * 43):
        r = await client.post("/v1/auth/refresh", json={"refresh_token": token})
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_refresh_token"
    empty = await client.post("/v1/auth/refresh", json={"refresh_token": ""})
    assert empty.status_code == 422


async def test_expired_refresh_token(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    await db_conn.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_refresh_token"


async def test_logout_ends_the_session(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    out = await client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    await assert_unauthorized(client, bearer(tokens), "invalid_token")
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    # Logging out twice, or with an unknown token, is harmless.
    again = await client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 204


async def test_concurrent_verifies_with_the_right_code_sign_in_once(
    client: Client, db_conn: asyncpg.Connection
) -> None:
    phone = make_phone()
    await client.post("/v1/auth/otp", json={"phone_number": phone})
    body = {"phone_number": phone, "code": "123456"}
    results = await asyncio.gather(*(client.post("/v1/auth/verify", json=body) for _ in range(5)))
    assert sorted(r.status_code for r in results) == [200, 401, 401, 401, 401]
    assert await db_conn.fetchval("SELECT count(*) FROM users WHERE phone_number = $1", phone) == 1
    assert await db_conn.fetchval("SELECT count(*) FROM auth_sessions") == 1
