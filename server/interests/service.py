"""Interest rules: catalog search and replacing the caller's interests."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from db.queries import interests as q
from jobs.contract import enqueue_user_vectors_changed
from server.errors import ApiError
from server.interests.schemas import Interest, InterestList
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.profiles.service import require_profile_id


class _SearchCursor(msgspec.Struct, array_like=True, frozen=True):
    """Where a search page ends: the sort key of its last row."""

    rank: int
    sort_name: str
    id: int


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern whose escape character is `\\`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_interests(
    conn: asyncpg.Connection, query: str | None, page: PageParams
) -> Page[Interest]:
    """The catalog alphabetically; with a query (trimmed, case-insensitive), names
    starting with it first, then names containing it, each alphabetically."""
    text = (query or "").strip()
    after = None
    if page.cursor:
        cursor = decode_cursor(page.cursor, _SearchCursor)
        after = (cursor.rank, cursor.sort_name, cursor.id)
    rows = await q.search(conn, like_escape(text), after, page.limit + 1)
    items, next_cursor = make_page(
        rows, page.limit, key=lambda r: _SearchCursor(r["rank"], r["sort_name"], r["id"])
    )
    return Page(
        items=[Interest(id=r["id"], name=r["name"]) for r in items], next_cursor=next_cursor
    )


async def replace_my_interests(
    conn: asyncpg.Connection, user_id: uuid.UUID, interest_ids: list[int]
) -> InterestList:
    """Make the caller's interests exactly `interest_ids`; all or nothing."""
    wanted = sorted(set(interest_ids))
    async with conn.transaction():
        profile_id = await require_profile_id(conn, user_id)
        await q.lock_profile(conn, profile_id)
        unknown = sorted(set(wanted) - await q.existing_ids(conn, wanted))
        if unknown:
            listed = ", ".join(str(i) for i in unknown)
            raise ApiError(
                404,
                "unknown_interest",
                f"Not in the interest catalog: {listed}",
                extra={
                    "errors": [
                        {
                            "message": f"Unknown interest id {i}",
                            "key": "interest_ids",
                            "source": "body",
                        }
                        for i in unknown
                    ]
                },
            )
        if await q.replace_profile_interests(conn, profile_id, wanted):
            await enqueue_user_vectors_changed(conn, user_id)
        rows = await q.profile_interests(conn, profile_id)
    return InterestList(items=[Interest(id=r["id"], name=r["name"]) for r in rows])
