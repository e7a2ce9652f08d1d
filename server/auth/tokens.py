"""Access tokens: our own HS256 JWTs, and Supabase-issued ones when configured.

Our tokens carry `sid`, the sign-in session, so revoking a session (logout,
refresh-token reuse) also stops its access tokens at the next request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from typing import Any

import anyio.to_thread
import jwt
import msgspec

from server.errors import ApiError
from server.settings import Settings

ISSUER = "momento"
AUDIENCE = "momento-app"
_LEEWAY_SECONDS = 10


class Identity(msgspec.Struct, frozen=True):
    """Who a valid access token speaks for."""

    user_id: uuid.UUID
    session_id: uuid.UUID | None
    expires_at: int


class _Header(msgspec.Struct):
    alg: str


class _OwnClaims(msgspec.Struct):
    iss: str | None = None
    aud: str | list[str] | None = None
    sub: str | None = None
    sid: str | None = None
    exp: float | None = None


def _b64url(segment: str) -> bytes:
    return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)


def _invalid(detail: str = "The access token is invalid or expired") -> ApiError:
    return ApiError(401, "invalid_token", detail, headers={"WWW-Authenticate": "Bearer"})


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret
        self._secret_bytes = settings.jwt_secret.encode()
        self._ttl = settings.access_token_ttl_seconds
        self._supabase_secret = settings.supabase_jwt_secret
        self._supabase_audience = settings.supabase_jwt_audience
        self._jwks = (
            jwt.PyJWKClient(settings.supabase_jwks_url) if settings.supabase_jwks_url else None
        )

    @property
    def access_ttl(self) -> int:
        return self._ttl

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "sid": str(session_id),
            "iat": now,
            "exp": now + self._ttl,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    async def verify(self, token: str) -> Identity:
        own = self._verify_own(token)
        if own is not None:
            return own
        if self._supabase_secret or self._jwks:
            return _identity(await self._verify_supabase(token), with_session=False)
        raise _invalid()

    def _verify_own(self, token: str) -> Identity | None:
        """Our tokens, checked in one pass (this runs on every request; PyJWT's
        generic path costs ~100 µs more). None when the token is not ours."""
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            claims = msgspec.json.decode(_b64url(payload_b64), type=_OwnClaims)
            if claims.iss != ISSUER:
                return None
            header = msgspec.json.decode(_b64url(header_b64), type=_Header)
            signature = _b64url(signature_b64)
        except (ValueError, binascii.Error, msgspec.DecodeError):
            raise _invalid() from None
        expected = hmac.new(
            self._secret_bytes, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256
        ).digest()
        if header.alg != "HS256" or not hmac.compare_digest(expected, signature):
            raise _invalid()
        if claims.aud != AUDIENCE or claims.sub is None or claims.sid is None:
            raise _invalid()
        if claims.exp is None or claims.exp + _LEEWAY_SECONDS < time.time():
            raise _invalid("The access token has expired")
        return _identity({"sub": claims.sub, "sid": claims.sid, "exp": claims.exp}, True)

    async def _verify_supabase(self, token: str) -> dict[str, Any]:
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError:
            raise _invalid() from None
        if alg == "HS256" and self._supabase_secret:
            return self._decode(token, self._supabase_secret, ["HS256"], self._supabase_audience)
        if alg in ("RS256", "ES256") and self._jwks:
            jwks = self._jwks
            try:
                # PyJWKClient fetches over blocking HTTP (and caches the keys).
                key = await anyio.to_thread.run_sync(jwks.get_signing_key_from_jwt, token)
            except jwt.PyJWTError:
                raise _invalid() from None
            return self._decode(token, key.key, [alg], self._supabase_audience)
        raise _invalid()

    @staticmethod
    def _decode(token: str, key: Any, algorithms: list[str], audience: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=audience,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise _invalid("The access token has expired") from None
        except jwt.PyJWTError:
            raise _invalid() from None
        return claims


def _identity(claims: dict[str, Any], with_session: bool) -> Identity:
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"])) if with_session else None
    except (KeyError, ValueError):
        raise _invalid() from None
    return Identity(user_id=user_id, session_id=session_id, expires_at=int(claims["exp"]))
