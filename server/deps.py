"""What handlers can ask for by name, and the functions that provide it.

Handlers annotate parameters with these aliases (`conn: DbConnection`), and
the plugins in server/plugins.py register the providers.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.types import Scope

from realtime.fanout import Fanout
from server.auth.check import CurrentUser
from server.auth.service import Auth
from server.messaging.writer import Writer
from server.pagination import PageParams
from server.payments.gateway import StripeGateway
from server.request_connection import request_connection
from server.settings import Settings
from server.storage import Storage

DbConnection = NamedDependency[asyncpg.Connection]
Caller = NamedDependency[CurrentUser]
AuthRules = NamedDependency[Auth]
PageRequest = NamedDependency[PageParams]
# A protocol, not a class the signature model can check instances against.
FileStorage = NamedDependency[SkipValidation[Storage]]
AppSettings = NamedDependency[Settings]
# None when Stripe is not configured.
PaymentGateway = NamedDependency[SkipValidation[StripeGateway | None]]
# A class with subclasses, not something the signature model should check.
RealtimeFanout = NamedDependency[SkipValidation[Fanout]]
# The group commit that stores posts and messages (server/messaging/writer.py).
MessageWriter = NamedDependency[SkipValidation[Writer]]


async def provide_connection(state: State, scope: Scope) -> asyncpg.Connection:
    """This request's pooled connection (the auth check may already hold it)."""
    return await request_connection(scope, state.db_pool)


def provide_current_user(
    request: Request[CurrentUser, Any, Any], conn: DbConnection
) -> CurrentUser:
    # Taking `conn` orders this after it: Litestar resolves the dependencies of
    # one level in a task group, which costs ~85 µs on every request.
    return request.user


def provide_auth(state: State) -> Auth:
    auth: Auth = state.auth
    return auth


def provide_storage(state: State) -> Storage:
    storage: Storage = state.storage
    return storage


def provide_payments(state: State) -> StripeGateway | None:
    gateway: StripeGateway | None = state.payments
    return gateway


def provide_fanout(state: State) -> Fanout:
    fanout: Fanout = state.fanout
    return fanout


def provide_writer(state: State) -> Writer:
    writer: Writer = state.writer
    return writer


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings
