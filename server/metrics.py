"""Prometheus request metrics, by route template, method and status.

Recorded from the `before_send` hook in server/request_context.py, which sees
every response, including errors that Litestar sends outside the middleware
stack; Litestar's own PrometheusMiddleware also cost ~70 µs per request here
(bench/README.md). `/metrics` is still Litestar's controller.
"""

from __future__ import annotations

import functools

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "momento_requests_total", "HTTP requests answered", ["method", "path", "status_code"]
)
DURATION = Histogram(
    "momento_request_duration_seconds", "Time to answer an HTTP request", ["method", "path"]
)


# Labels are route templates, methods and statuses: a small, bounded set, so
# their children are looked up once (prometheus' labels() takes a lock each call).
@functools.cache
def _children(method: str, path_template: str, status: int) -> tuple[Counter, Histogram]:
    return (
        REQUESTS.labels(method, path_template, str(status)),
        DURATION.labels(method, path_template),
    )


def record_request(method: str, path_template: str, status: int, seconds: float) -> None:
    requests, duration = _children(method, path_template, status)
    requests.inc()
    duration.observe(seconds)
