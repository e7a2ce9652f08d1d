"""Prometheus request metrics, by route template, method and status.

Recorded from the `before_send` hook in server/request_context.py, which sees
every response, including errors that Litestar sends outside the middleware
stack; Litestar's own PrometheusMiddleware also cost ~70 µs per request here
(bench/README.md). `/metrics` is still Litestar's controller.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "momento_requests_total", "HTTP requests answered", ["method", "path", "status_code"]
)
DURATION = Histogram(
    "momento_request_duration_seconds", "Time to answer an HTTP request", ["method", "path"]
)


def record_request(method: str, path_template: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, path_template, str(status)).inc()
    DURATION.labels(method, path_template).observe(seconds)
