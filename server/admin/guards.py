"""The staff guard of every /v1/admin route.

A token proves who the caller is, never that they are staff: each request
reads the caller's staff_accounts row. Routes name the roles they admit in
`opt={"staff_roles": (...)}`; `admin` may do everything, and a route that
names no roles is admin-only.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from db.queries import admin as q
from server.admin.schemas import StaffRole
from server.auth.check import CurrentUser
from server.errors import ApiError
from server.request_connection import request_connection

STAFF_ROLES_OPT = "staff_roles"
STAFF_ROLE_STATE = "staff_role"


def roles(*allowed: StaffRole) -> dict[str, Any]:
    """The route `opt` admitting these roles (and admin): `opt=roles("moderator")`."""
    return {STAFF_ROLES_OPT: frozenset(allowed)}


def role_allowed(role: str, allowed: Collection[str]) -> bool:
    return role == "admin" or role in allowed


async def staff_guard(
    connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
) -> None:
    user = connection.user
    if not isinstance(user, CurrentUser):  # the auth middleware always sets one
        raise ApiError(401, "unauthorized", "Sign in first", headers={"WWW-Authenticate": "Bearer"})
    conn = await request_connection(connection.scope, connection.app.state.db_pool)
    role = await q.staff_role(conn, user.id)
    if role is None:
        raise ApiError(403, "staff_only", "Only Momento staff may use this")
    allowed: Collection[str] = route_handler.opt.get(STAFF_ROLES_OPT, ())
    if not role_allowed(role, allowed):
        raise ApiError(403, "insufficient_role", f"The {role} role may not do this")
    connection.state[STAFF_ROLE_STATE] = role


def provide_staff_role(request: Request[Any, Any, Any]) -> StaffRole:
    """The caller's staff role, as the guard read it for this request."""
    role: StaffRole = request.state[STAFF_ROLE_STATE]
    return role
