"""Records to typed rows at the storage edge.

Each query module declares its row Structs next to its SQL, and its SELECT
lists exactly their fields: a column too many or too few is a TypeError on the
first call, not a KeyError somewhere above. Built by keyword, without
validation: the column types are the fields' types (jsonb arrives decoded by
the pool's codec), and keywords were faster than msgspec.convert here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import asyncpg
import msgspec

T = TypeVar("T", bound=msgspec.Struct)


def one(cls: type[T], record: asyncpg.Record | None) -> T | None:
    return None if record is None else cls(**record)


def many(cls: type[T], records: Iterable[asyncpg.Record]) -> list[T]:
    return [cls(**record) for record in records]
