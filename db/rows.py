"""Records to typed rows at the storage edge.

Each query module declares its row Structs next to its SQL, and its SELECT
lists exactly their fields: a column too many or too few is a TypeError on the
first call, not a KeyError somewhere above. Built by keyword, without
validation: the column types are the fields' types (jsonb arrives decoded by
the pool's codec), and keywords were faster than msgspec.convert here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TypeVar

import asyncpg
import msgspec

T = TypeVar("T", bound=msgspec.Struct)


class NewItem(msgspec.Struct, frozen=True):
    """A post or message to store in a batch (append_posts, append_messages):
    its author's users.id, the event or conversation, the cleaned content."""

    user_id: uuid.UUID
    channel_id: uuid.UUID
    content: str
    client_id: uuid.UUID | None


def one(cls: type[T], record: asyncpg.Record | None) -> T | None:
    return None if record is None else cls(**record)


def many(cls: type[T], records: Iterable[asyncpg.Record]) -> list[T]:
    return [cls(**record) for record in records]


def unzip_items(items: Sequence[NewItem]) -> tuple[list[object], ...]:
    """The items as four parallel arrays, for `unnest(...) WITH ORDINALITY`."""
    return (
        [i.user_id for i in items],
        [i.channel_id for i in items],
        [i.content for i in items],
        [i.client_id for i in items],
    )
