"""Bearer-token authentication for every route not marked `exclude_from_auth`.

The check is server/auth/check.py's, shared with the WebSocket gateway: the
token, then the sign-in behind it, which costs a query only when this process
has not found it valid moments ago (server/auth/session_cache.py).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator

import asyncpg
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Receive, Scope, Send

from server.auth.check import check_sign_in, verify_bearer
from server.request_connection import release_request_connection, request_connection


def bearer_token(scope: Scope) -> str | None:
    # Straight from the raw ASGI headers: building Litestar's Headers costs more.
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    scheme, _, token = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


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
        scope, pool = connection.scope, state.db_pool
        identity = await verify_bearer(state.tokens, bearer_token(scope))
        source = (
            functools.partial(_request_connection, scope, pool)
            if scope["type"] == ScopeType.HTTP
            else pool.acquire
        )
        user = await check_sign_in(state.auth.sessions, identity, source)
        return AuthenticationResult(user=user, auth=None)


@contextlib.asynccontextmanager
async def _request_connection(
    scope: Scope, pool: asyncpg.Pool
) -> AsyncIterator[asyncpg.Connection]:
    """The request's own connection, kept for the handler (and given back by
    the middleware), not one returned to the pool after the check."""
    yield await request_connection(scope, pool)
