"""Structured JSON logs, each line of a request carrying its request id."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = "momento_request_id"
_STARTED = "momento_started"
_STATUS = "momento_status"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )


access_log = structlog.get_logger("momento.access")


class RequestContextMiddleware:
    """Gives every request an id (the caller's X-Request-ID if sane) and binds it
    to every log line written while the request runs.

    The response side is `finish_request` (a `before_send` hook), because error
    responses are sent by Litestar's exception handling, outside any middleware.
    """

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
            # Each request runs in its own task context: nothing leaks across.
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(request_id=request_id)
        await self.app(scope, receive, send)


async def finish_request(message: Message, scope: Scope) -> None:
    """Echo the request id and write one access line when the response ends."""
    state = scope.get("state", {})
    request_id = state.get(_REQUEST_ID)
    if request_id is None:
        return
    if message["type"] == "http.response.start":
        state[_STATUS] = message["status"]
        MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
    elif message["type"] == "http.response.body" and not message.get("more_body", False):
        http_scope: HTTPScope = scope  # type: ignore[assignment]
        access_log.info(
            "request",
            method=http_scope["method"],
            path=http_scope["path"],
            status=state.get(_STATUS),
            duration_ms=round((time.perf_counter() - state[_STARTED]) * 1000, 2),
        )
