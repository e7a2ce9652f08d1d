"""Sign-in rules: codes, sessions, token rotation. Plain functions over a connection."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

import asyncpg
import msgspec

from db.queries import auth as q
from db.queries import users as users_q
from server.auth.phone import us_phone
from server.auth.session_cache import SessionCache
from server.auth.sms import CodeSender
from server.auth.tokens import TokenService
from server.errors import ApiError, too_many_requests
from server.ratelimit import RateLimiter
from server.settings import Settings

HOUR = 3600


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: uuid.UUID
    is_new_user: bool
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class Auth:
    """What the sign-in rules need, wired once per process."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenService,
        sender: CodeSender,
        limiter: RateLimiter,
        sessions: SessionCache,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.sender = sender
        self.limiter = limiter
        self.sessions = sessions
        # Codes are hashed with a key of their own, derived from the JWT secret.
        self._code_key = hmac.new(
            settings.jwt_secret.encode(), b"otp-code-v1", hashlib.sha256
        ).digest()

    def hash_code(self, phone: str, code: str) -> str:
        return hmac.new(self._code_key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    def is_test_phone(self, phone: str) -> bool:
        prefix = self.settings.auth_test_phone_prefix
        return bool(prefix) and phone.startswith(prefix or "")

    async def limit(self, name: str, key: str, limit: int, window: int = HOUR) -> None:
        verdict = await self.limiter.hit(name, key, limit=limit, window_seconds=window)
        if not verdict.allowed:
            raise too_many_requests(verdict.retry_after)


async def request_code(auth: Auth, conn: asyncpg.Connection, raw_phone: str, ip: str) -> int:
    """Send a sign-in code; return its lifetime in seconds."""
    settings = auth.settings
    phone = us_phone(raw_phone)
    test_phone = auth.is_test_phone(phone)
    # Test numbers send no SMS, so they skip the per-IP limit (a test harness
    # signs many people in from one address); every number keeps its own limit.
    if not test_phone:
        await auth.limit("otp-send-ip", ip, settings.otp_sends_per_ip_per_hour)
    await auth.limit("otp-send-phone", phone, settings.otp_sends_per_phone_per_hour)

    if test_phone:
        code: str | None = settings.auth_test_otp_code
    else:
        code = await auth.sender.send_code(phone)
    code_hash = auth.hash_code(phone, code) if code is not None else None
    async with conn.transaction():
        await q.retire_codes(conn, phone)
        await q.insert_code(conn, phone, code_hash, settings.otp_ttl_seconds)
    return settings.otp_ttl_seconds


def _invalid_code() -> ApiError:
    return ApiError(401, "invalid_code", "The code is wrong or has expired")


class CheckedCode(msgspec.Struct, frozen=True):
    phone: str  # E.164
    attempt_id: uuid.UUID  # the otp_codes row, for q.consume_code


async def check_code(
    auth: Auth, conn: asyncpg.Connection, raw_phone: str, code: str, ip: str
) -> CheckedCode:
    """The number's live code, if `code` is it (limits and attempts counted);
    the ApiError otherwise. Not consumed yet: the caller consumes it in the
    transaction that signs the person in."""
    settings = auth.settings
    phone = us_phone(raw_phone)
    if not auth.is_test_phone(phone):
        await auth.limit("otp-verify-ip", ip, settings.otp_verifies_per_ip_per_hour)

    attempt = await q.count_attempt(conn, phone)
    if attempt is None:
        raise _invalid_code()
    if attempt["attempts"] > settings.otp_max_attempts:
        raise ApiError(
            429,
            "too_many_attempts",
            "Too many wrong codes: request a new one",
            headers={"Retry-After": "60"},
        )
    if attempt["expired"] or not await _code_matches(auth, phone, code, attempt["code_hash"]):
        raise _invalid_code()
    return CheckedCode(phone=phone, attempt_id=attempt["id"])


async def consume_code(conn: asyncpg.Connection, checked: CheckedCode) -> None:
    if not await q.consume_code(conn, checked.attempt_id):
        raise _invalid_code()  # a concurrent request used it first


async def verify_code(
    auth: Auth,
    conn: asyncpg.Connection,
    raw_phone: str,
    code: str,
    ip: str,
    user_agent: str | None,
) -> TokenPair:
    """Check a code; on success sign the person in (creating the user if new)."""
    checked = await check_code(auth, conn, raw_phone, code, ip)
    async with conn.transaction():
        await consume_code(conn, checked)
        user_id, created = await users_q.get_or_create_by_phone(conn, checked.phone)
        return await _open_session(auth, conn, user_id, created, user_agent)


async def _code_matches(auth: Auth, phone: str, code: str, code_hash: str | None) -> bool:
    if code_hash is not None:
        return hmac.compare_digest(code_hash, auth.hash_code(phone, code))
    return await auth.sender.check_code(phone, code)


def hash_token(token: str) -> str:
    """How a random bearer secret is stored (refresh tokens, the staff console's
    cookie): 256 random bits, so a fast hash is enough to make a leaked table
    useless."""
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue_pair(
    auth: Auth,
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    is_new_user: bool,
) -> TokenPair:
    refresh = secrets.token_urlsafe(32)
    await q.insert_refresh_token(
        conn, session_id, hash_token(refresh), auth.settings.refresh_token_ttl_days
    )
    return TokenPair(
        access_token=auth.tokens.issue(user_id, session_id),
        refresh_token=refresh,
        expires_in=auth.tokens.access_ttl,
        user_id=user_id,
        is_new_user=is_new_user,
    )


async def _open_session(
    auth: Auth,
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    is_new_user: bool,
    user_agent: str | None,
) -> TokenPair:
    session_id = await q.create_session(conn, user_id, (user_agent or "")[:300] or None)
    return await _issue_pair(auth, conn, user_id, session_id, is_new_user)


def _invalid_refresh() -> ApiError:
    return ApiError(401, "invalid_refresh_token", "Sign in again")


async def refresh(auth: Auth, conn: asyncpg.Connection, refresh_token: str) -> TokenPair:
    """Rotate: the old refresh token is spent; using it again revokes the session."""
    async with conn.transaction():
        row = await q.lock_refresh_token(conn, hash_token(refresh_token))
        if row is None or row["revoked_at"] is not None or row["expired"]:
            raise _invalid_refresh()
        if row["used_at"] is None:
            await q.mark_refresh_token_used(conn, row["id"])
            await q.touch_session(conn, row["session_id"])
            return await _issue_pair(auth, conn, row["user_id"], row["session_id"], False)
        await q.revoke_session(conn, row["session_id"], "refresh_token_reuse")
    # Only a spent token gets here, after its session's revocation committed.
    auth.sessions.forget(row["user_id"])
    raise ApiError(401, "refresh_token_reused", "This sign-in was ended for safety: sign in again")


async def logout(auth: Auth, conn: asyncpg.Connection, refresh_token: str) -> None:
    async with conn.transaction():
        row = await q.lock_refresh_token(conn, hash_token(refresh_token))
        if row is None:
            return
        await q.revoke_session(conn, row["session_id"], "logout")
    auth.sessions.forget(row["user_id"])
