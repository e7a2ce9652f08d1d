"""Bearer-token authentication for every route not marked `exclude_from_auth`.

One query per request checks that the user still exists, is not suspended or
banned, and that the token's sign-in session has not been revoked, so logout,
refresh-token reuse, suspension and deletion take effect at once.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Receive, Scope, Send

from db.queries import auth as q
from server.auth.session_cache import SessionCache
from server.auth.tokens import Identity, TokenService
from server.errors import ApiError
from server.request_connection import release_request_connection, request_connection

BLOCKED_STATUSES = frozenset({"suspended", "banned"})


class CurrentUser(msgspec.Struct, frozen=True):
    id: uuid.UUID
    session_id: uuid.UUID | None
    token_expires_at: int


def bearer_token(scope: Scope) -> str | None:
    # Straight from the raw ASGI headers: building Litestar's Headers costs more.
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    scheme, _, token = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def verify_bearer(tokens: TokenService, token: str | None) -> Identity:
    """Check the token itself (signature, audience, expiry); no database yet."""
    if token is None:
        raise ApiError(401, "unauthorized", "Sign in first", headers={"WWW-Authenticate": "Bearer"})
    return await tokens.verify(token)


async def check_holder(conn: asyncpg.Connection, identity: Identity) -> CurrentUser:
    """The user behind a valid token, if they still exist, may act, and the
    sign-in session stands; the ApiError the caller gets otherwise."""
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
    return _current_user(identity)


def _current_user(identity: Identity) -> CurrentUser:
    return CurrentUser(
        id=identity.user_id,
        session_id=identity.session_id,
        token_expires_at=identity.expires_at,
    )


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Runs on every route (excluded ones skip only the check) and gives the
    request's pooled connection back when the request is over, whoever took it
    (server/request_connection.py). WebSockets use a connection only for the check."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await release_request_connection(scope, scope["app"].state.db_pool)

    async def authenticate_request(
        self,
        connection: ASGIConnection,  # type: ignore[type-arg]
    ) -> AuthenticationResult:
        state = connection.app.state
        identity = await verify_bearer(state.tokens, bearer_token(connection.scope))
        sessions: SessionCache = state.auth.sessions
        if sessions.remembers(identity.user_id, identity.session_id):
            return AuthenticationResult(user=_current_user(identity), auth=None)
        if connection.scope["type"] == ScopeType.HTTP:
            user = await check_holder(
                await request_connection(connection.scope, state.db_pool), identity
            )
        else:
            async with state.db_pool.acquire() as conn:
                user = await check_holder(conn, identity)
        sessions.remember(identity.user_id, identity.session_id)
        return AuthenticationResult(user=user, auth=None)
