"""Cursor pagination: `?limit=1..100&cursor=<opaque>` → `{items, next_cursor}`.

A cursor is the sort key of the last item returned, JSON in URL-safe base64.
It is not signed: it only says where to resume inside a query that is
already limited to what the caller may see. Queries fetch `limit + 1` rows;
the extra row only tells whether there is a next page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import Parameter

from server.errors import ApiError

T = TypeVar("T")
K = TypeVar("K")
R = TypeVar("R")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageParams(msgspec.Struct, frozen=True):
    limit: int
    cursor: str | None


def provide_page_params(
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="Items per page")] = (
        DEFAULT_LIMIT
    ),
    cursor: Annotated[
        str | None, Parameter(max_length=512, description="next_cursor of the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor(cursor: str, key_type: type[K]) -> K:
    """The sort key a cursor holds, checked against the type the query expects."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=key_type)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ApiError(422, "invalid_cursor", "The cursor is not one this list gave out") from None


def make_page(rows: Sequence[R], limit: int, key: Callable[[R], Any]) -> tuple[list[R], str | None]:
    """Cut the `limit + 1` fetched rows to a page and the cursor of the next one."""
    if len(rows) <= limit:
        return list(rows), None
    page = list(rows[:limit])
    return page, encode_cursor(key(page[-1]))
