"""Per-request context: an id on every log line and response, the access log, metrics.

The response side is `finish_request`, a `before_send` hook, because error
responses are sent by Litestar's exception handling, outside any middleware.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from server.metrics import record_request
from server.request_connection import release_request_connection

REQUEST_ID_HEADER = "x-request-id"
_HEADER_BYTES = REQUEST_ID_HEADER.encode()
_REQUEST_ID = "momento_request_id"
_STARTED = "momento_started"
_STATUS = "momento_status"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

access_log = structlog.get_logger("momento.access")


class RequestContextMiddleware:
    """Gives every request an id (the caller's X-Request-ID if sane) and binds it
    to every log line written while the request runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"")
            request_id = incoming.decode("latin-1")
            if not _SAFE_REQUEST_ID.match(request_id):
                request_id = uuid.uuid4().hex
            state = scope.setdefault("state", {})
            state[_REQUEST_ID] = request_id
            state[_STARTED] = time.perf_counter()
            # Each request runs in its own task context, so binding never leaks
            # into another request.
            structlog.contextvars.bind_contextvars(request_id=request_id)
        await self.app(scope, receive, send)


async def finish_request(message: Message, scope: Scope) -> None:
    """Echo the request id; when the response ends, write the access line and metrics."""
    state = scope.get("state", {})
    request_id = state.get(_REQUEST_ID)
    if request_id is None:
        return
    if message["type"] == "http.response.start":
        # The handler is done with the database: give the connection back now
        # rather than after the body is sent, so waiting requests get it sooner.
        await release_request_connection(scope, scope["app"].state.db_pool)
        state[_STATUS] = message["status"]
        message["headers"] = [*message.get("headers", ()), (_HEADER_BYTES, request_id.encode())]
    elif message["type"] == "http.response.body" and not message.get("more_body", False):
        http_scope: HTTPScope = scope  # type: ignore[assignment]
        seconds = time.perf_counter() - state[_STARTED]
        status = state.get(_STATUS, 500)
        record_request(
            http_scope["method"], scope.get("path_template", "unmatched"), status, seconds
        )
        access_log.info(
            "request",
            method=http_scope["method"],
            path=http_scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )
