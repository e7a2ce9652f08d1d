"""Bearer-token authentication for every route not marked `exclude_from_auth`.

One query per request checks that the user still exists, is not suspended or
banned, and that the token's sign-in session has not been revoked.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from db.queries import auth as q
from server.auth.tokens import Identity, TokenService
from server.errors import ApiError

BLOCKED_STATUSES = frozenset({"suspended", "banned"})


class CurrentUser(msgspec.Struct, frozen=True):
    id: uuid.UUID
    session_id: uuid.UUID | None
    token_expires_at: int


def bearer_token(connection: ASGIConnection) -> str | None:  # type: ignore[type-arg]
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(pool: asyncpg.Pool, tokens: TokenService, token: str | None) -> CurrentUser:
    """The user a token stands for, or the ApiError the caller gets instead."""
    if token is None:
        raise ApiError(401, "unauthorized", "Sign in first", headers={"WWW-Authenticate": "Bearer"})
    identity: Identity = await tokens.verify(token)
    async with pool.acquire() as conn:
        holder = await q.session_holder(conn, identity.user_id, identity.session_id)
    if holder is None or not holder["session_ok"]:
        raise ApiError(
            401,
            "invalid_token",
            "This sign-in is no longer valid",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if holder["status"] in BLOCKED_STATUSES:
        raise ApiError(403, "account_suspended", "This account is suspended")
    return CurrentUser(
        id=identity.user_id,
        session_id=identity.session_id,
        token_expires_at=identity.expires_at,
    )


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self,
        connection: ASGIConnection,  # type: ignore[type-arg]
    ) -> AuthenticationResult:
        state = connection.app.state
        user = await authenticate(state.db_pool, state.tokens, bearer_token(connection))
        return AuthenticationResult(user=user, auth=None)
