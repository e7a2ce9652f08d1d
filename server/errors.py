"""RFC 9457 problem details with a stable `code` on every error response.

Business code raises `ApiError(status, code, detail)`; the handlers below also
turn Litestar's own exceptions (validation, unknown route, wrong method,
oversized body, malformed JSON) into the same shape.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

PROBLEM_JSON = "application/problem+json"

logger = structlog.get_logger(__name__)


class ApiError(Exception):
    """An error the app can switch on by `code`."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


class Problem(msgspec.Struct, omit_defaults=True):
    """The body of every error response."""

    status: int
    title: str
    detail: str
    code: str
    type: str = "about:blank"
    errors: list[dict[str, Any]] | None = None


# How the document describes every problem response (server/openapi.py adds some).
PROBLEM_DESCRIPTION = "Problem details; code: "


def problems(**codes: str) -> dict[int, ResponseSpec]:
    """OpenAPI entries for a route's error responses: problems(s401="invalid_code, ...")."""
    return {
        int(status[1:]): ResponseSpec(
            Problem,
            description=PROBLEM_DESCRIPTION + names,
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status, names in codes.items()
    }


# What every authenticated route can answer.
AUTH_PROBLEMS = problems(s401="unauthorized, invalid_token", s403="account_suspended")


def too_many_requests(
    retry_after: int, detail: str = "Too many requests, try again later"
) -> ApiError:
    return ApiError(429, "rate_limited", detail, headers={"Retry-After": str(max(1, retry_after))})


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> Response[Problem]:
    body = Problem(
        status=status, title=HTTPStatus(status).phrase, detail=detail, code=code, errors=errors
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[Problem]:
    errors = exc.extra.get("errors")
    return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers, errors=errors)


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    if _is_malformed_json(exc):
        return problem_response(422, "malformed_json", "The request body is not valid JSON")
    errors = exc.extra if isinstance(exc.extra, list) else None
    detail = exc.detail or "The request is not valid"
    if errors:
        first = errors[0]
        detail = f"{first.get('message', detail)} ({first.get('key', 'body')})"
    return problem_response(422, "validation_error", detail, errors=errors)


def _decode_error(exc: BaseException) -> msgspec.DecodeError | None:
    """The JSON parser's error that Litestar wrapped in a 400 or a validation error."""
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, msgspec.DecodeError):
            return cause
        cause = cause.__cause__
    return None


def _is_malformed_json(exc: BaseException) -> bool:
    cause = _decode_error(exc)
    return cause is not None and not isinstance(cause, msgspec.ValidationError)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        logger.error("server error", path=request.url.path, exc_info=exc)
    if status == 400 and (cause := _decode_error(exc)) is not None:
        if isinstance(cause, msgspec.ValidationError):  # e.g. a number too large: 1e999
            return problem_response(422, "validation_error", str(cause))
        return problem_response(422, "malformed_json", "The request body is not valid JSON")
    code = _HTTP_CODES.get(status, "server_error" if status >= 500 else "error")
    detail = exc.detail if status < 500 else "Internal server error"
    if isinstance(exc, NotFoundException):
        detail = "Not found"
    return problem_response(status, code, detail, headers=exc.headers)


DATABASE_PROBLEMS = {
    "database_unavailable": "The database is unavailable; try again",
    "database_busy": "The server is busy; try again",
    "database_timeout": "The database took too long; try again",
}


def database_unavailable(code: str = "database_unavailable") -> ApiError:
    """The database is down, restarting, too slow (`database_timeout`) or out of
    free connections (`database_busy`): the request can be retried, so 503 with
    Retry-After rather than 500."""
    return ApiError(503, code, DATABASE_PROBLEMS[code], headers={"Retry-After": "1"})


def _database_failed(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    logger.warning("database unavailable", path=request.url.path, error=repr(exc))
    timeout = isinstance(exc, asyncpg.QueryCanceledError)
    code = "database_timeout" if timeout else "database_unavailable"
    return _api_error(request, database_unavailable(code))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    logger.exception("unhandled error", path=request.url.path, exc_info=exc)
    return problem_response(500, "server_error", "Internal server error")


exception_handlers: ExceptionHandlersMap = {
    ApiError: _api_error,
    # A connection lost mid-request, or a statement past its timeout (a
    # refused connection or none free: request_connection.py).
    asyncpg.PostgresConnectionError: _database_failed,
    asyncpg.InterfaceError: _database_failed,
    asyncpg.QueryCanceledError: _database_failed,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
