"""A tiny threaded HTTP server on 127.0.0.1 for faking third-party APIs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Handler = type[BaseHTTPRequestHandler]
# How a fake answers a scripted failure: an HTTP status, or dropping the connection.
FailureStatus = int | Literal["disconnect"]


@contextmanager
def serve(handler: Handler) -> Iterator[str]:
    """Run handler on a free local port; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval: shutdown() otherwise waits up to half a second.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with an encoded JSON body and any extra headers."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def quiet(cls: Handler) -> Handler:
    """Silence the default per-request stderr logging."""
    cls.log_message = lambda *args, **kwargs: None  # type: ignore[method-assign]
    return cls
