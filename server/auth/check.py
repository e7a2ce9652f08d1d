"""The sign-in check, one for HTTP requests and WebSockets alike.

A token is valid when it verifies (signature, audience, expiry), its user
still exists and is not suspended or banned, and its sign-in session has not
been revoked, so logout, refresh-token reuse, suspension and deletion take
effect at once. The database part is skipped while this process remembers
the sign-in as valid (server/auth/session_cache.py); asking with
`use_cache=False` always goes to the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import msgspec

from db.queries import auth as q
from server.auth.session_cache import SessionCache
from server.auth.tokens import Identity, TokenService
from server.errors import ApiError

BLOCKED_STATUSES = frozenset({"suspended", "banned"})

# Where the check gets its connection, only when it needs one: the request's
# (server/request_connection.py) or `pool.acquire`.
ConnectionSource = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


class CurrentUser(msgspec.Struct, frozen=True):
    id: uuid.UUID
    session_id: uuid.UUID | None
    token_expires_at: int


async def verify_bearer(tokens: TokenService, token: str | None) -> Identity:
    """Check the token itself (signature, audience, expiry); no database yet."""
    if token is None:
        raise ApiError(401, "unauthorized", "Sign in first", headers={"WWW-Authenticate": "Bearer"})
    return await tokens.verify(token)


async def check_sign_in(
    sessions: SessionCache,
    identity: Identity,
    connection: ConnectionSource,
    *,
    use_cache: bool = True,
) -> CurrentUser:
    """The user behind a verified token, if they still exist, may act, and the
    sign-in session stands; the ApiError the caller gets otherwise.

    With `use_cache=False` (a re-check after a sign-in change was heard) the
    database decides and the cache is neither read nor written."""
    if use_cache and sessions.remembers(identity.user_id, identity.session_id):
        return _current_user(identity)
    async with connection() as conn:
        holder = await q.session_holder(conn, identity.user_id, identity.session_id)
    # A suspended person hears so on their next call, although suspending
    # also revoked that sign-in: the app can say why instead of signing in again.
    if holder is not None and holder["status"] in BLOCKED_STATUSES:
        raise ApiError(403, "account_suspended", "This account is suspended")
    if holder is None or not holder["session_ok"]:
        raise ApiError(
            401,
            "invalid_token",
            "This sign-in is no longer valid",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if use_cache:
        sessions.remember(identity.user_id, identity.session_id)
    return _current_user(identity)


def _current_user(identity: Identity) -> CurrentUser:
    return CurrentUser(
        id=identity.user_id,
        session_id=identity.session_id,
        token_expires_at=identity.expires_at,
    )
