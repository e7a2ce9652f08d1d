"""OPTIONS answered from the whole route table.

Litestar 2 gives each route object its own OPTIONS handler, so a path whose
methods come from several controllers (GET and PATCH /v1/me here, DELETE
there) answers with only some of them in `Allow`, and the generated handler
inherits its controller's guards (the staff guard on /v1/admin answered 500,
no user being set on OPTIONS). This middleware answers every OPTIONS request
itself, before any guard, with every method the path has.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

_ALLOWED = "momento_allowed_methods"


def allowed_methods(app: Litestar) -> dict[str, str]:
    """Path template → the `Allow` value (every method of every route on it)."""
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods.setdefault(route.path, set()).update(route.methods)
    return {path: ", ".join(sorted(found | {"OPTIONS"})) for path, found in methods.items()}


class AllowedMethodsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        litestar_app = scope["litestar_app"]
        table: dict[str, str] | None = litestar_app.state.get(_ALLOWED)
        if table is None:
            table = litestar_app.state[_ALLOWED] = allowed_methods(litestar_app)
        handler = scope["route_handler"]
        allow = next((table[p] for p in handler.paths if p in table), "OPTIONS")
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 204,
            "headers": [(b"allow", allow.encode())],
        }
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": b"",
            "more_body": False,
        }
        await send(start)
        await send(body)
