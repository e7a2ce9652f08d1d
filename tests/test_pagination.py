"""The cursor helper every list route uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from server.errors import ApiError
from server.pagination import decode_cursor, encode_cursor, make_page

Key = tuple[datetime, uuid.UUID]


def test_cursor_round_trip_keeps_types() -> None:
    key = (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), uuid.uuid4())
    assert decode_cursor(encode_cursor(key), Key) == key


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", "bm90IGpzb24", encode_cursor(["not a date", "x"]), encode_cursor({"a": 1})],
)
def test_bad_cursors_are_422(cursor: str) -> None:
    with pytest.raises(ApiError) as caught:
        decode_cursor(cursor, Key)
    assert caught.value.status == 422
    assert caught.value.code == "invalid_cursor"


def test_pages_walk_every_row_once() -> None:
    rows = list(range(45))
    seen: list[int] = []
    after = -1
    while True:
        fetched = [r for r in rows if r > after][: 20 + 1]  # what a query with LIMIT 21 returns
        page, cursor = make_page(fetched, 20, key=lambda r: r)
        seen.extend(page)
        if cursor is None:
            break
        after = decode_cursor(cursor, int)
    assert seen == rows


def test_exact_fit_has_no_next_page() -> None:
    assert make_page([1, 2, 3], 3, key=lambda r: r) == ([1, 2, 3], None)
