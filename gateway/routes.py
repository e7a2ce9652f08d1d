"""`GET /v1/ws`: sign the connection in, then hand it to a Connection."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from litestar import WebSocket, websocket

from gateway.config import AUTH_TIMEOUT_SECONDS
from gateway.connection import Connection
from gateway.hub import Hub
from gateway.transport import EXTENSION, PROTOCOL, FrameSocket
from realtime import frames
from server.auth.middleware import bearer_token
from server.auth.tokens import Identity
from server.errors import ApiError

logger = structlog.get_logger(__name__)


async def _sign_in(hub: Hub, socket: WebSocket[Any, Any, Any]) -> Identity | None:
    """The connection's identity from the Authorization header or a first `auth`
    frame within 5 seconds; otherwise the socket is closed with 4001 and None."""
    token = bearer_token(socket.scope)
    if token is None:
        try:
            event = await asyncio.wait_for(socket.receive(), AUTH_TIMEOUT_SECONDS)
        except TimeoutError:
            await socket.close(4001, "Authenticate within 5 seconds")
            return None
        if event["type"] == "websocket.disconnect":
            return None
        text = event.get("text")
        try:
            frame = frames.decode_client_frame(text if isinstance(text, str) else "")
        except frames.InvalidFrame:
            frame = None
        if not isinstance(frame, frames.Auth):
            await socket.close(4001, "Authenticate first")
            return None
        token = frame.token
    try:
        return await hub.authenticate(token)
    except ApiError as exc:
        await socket.close(4001, exc.detail)
        return None


# Authentication happens here (header or first frame), not in the HTTP middleware.
@websocket("/v1/ws", opt={"exclude_from_auth": True})
async def ws_gateway(socket: WebSocket[Any, Any, Any]) -> None:
    hub: Hub = socket.app.state.realtime
    extensions: dict[Any, Any] = socket.scope.get("extensions") or {}
    frame_socket: FrameSocket | None = extensions.get(EXTENSION)
    await socket.accept()
    if frame_socket is None:
        logger.error("websocket: uvicorn must run with the gateway's protocol", ws=PROTOCOL)
        await socket.close(1011, "server misconfigured")
        return
    identity = await _sign_in(hub, socket)
    if identity is None:
        return
    # The connection outlives this call: from here on the socket's events drive it.
    frame_socket.adopt()
    await Connection(frame_socket, hub, identity).start()
