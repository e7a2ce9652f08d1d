"""Event board rules, shared by the REST routes and the WebSocket gateway.

The board is for the event's host, collaborators and confirmed attendees
(the roles of `viewer_role_sql`), once the event is published, each with a
social profile (posts are signed by it), except the host, who may have none
(a community host's posts are signed by the host profile). Someone who may
see the event but not its board gets 403 `forbidden`; anyone else 404, as
for every event route. Posts whose author is not visible to the reader (a block either way,
a suspended account) are never returned to that reader: lists filter them
here, the WebSocket gateway as it writes each frame.

Each post takes the event's next `seq` under the event row lock, so seqs are
gap-free and commit in order (one statement: server/boards/sequenced.py).
Deleting blanks a post but keeps its row and `seq`: the REST list leaves
deleted posts out, replay (`posts_since`) returns them as tombstones
(`deleted: true`, `content: null`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from db.queries import posts as q
from db.rows import NewItem
from server.boards.schemas import Post
from server.errors import ApiError
from server.messaging.checks import Member, clamp_seq
from server.messaging.sequenced import append
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.profiles.service import require_profile_id
from server.storage import Storage

BOARD_ROLES = frozenset({"host", "collaborator", "attendee"})


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such event")


def _post(row: asyncpg.Record, storage: Storage) -> Post:
    fields = dict(row)
    logo = fields.pop("author_host_logo_key", None)
    fields["author_host_logo_url"] = storage.url(logo) if logo else None
    return msgspec.convert(fields, Post)


async def _member(conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID) -> Member:
    return await _admitted(conn, user_id, await q.board_member(conn, user_id, event_id))


async def _admitted(
    conn: asyncpg.Connection, user_id: uuid.UUID, row: asyncpg.Record | None
) -> Member:
    """Who the caller is on the board from their standing (board_member's
    columns), or the refusal."""
    if row is None or row["viewer_role"] is None:
        raise _not_found()
    if row["viewer_role"] not in BOARD_ROLES:
        raise ApiError(
            403, "forbidden", "The board is for the host, collaborators and confirmed attendees"
        )
    if row["status"] == "draft":
        raise ApiError(403, "forbidden", "The board opens when the event is published")
    if row["profile_id"] is None and row["host_id"] is None:
        await require_profile_id(conn, user_id)  # raises 409 social_profile_required
    profile_id = row["profile_id"]
    return Member(profile_id=profile_id, host_id=None if profile_id else row["host_id"])


async def board_access(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID
) -> Member | None:
    """Who the caller is on the board if they may read and write it, else None."""
    try:
        return await _member(conn, user_id, event_id)
    except ApiError:
        return None


async def create_post(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    content: str,
    client_id: uuid.UUID | None,
) -> tuple[Post, bool]:
    """Store a post; (post, newly created). A retry with the same client_id returns
    the first post. Raises ApiError on refusal (404 `not_found`, 403 `forbidden`,
    409 `social_profile_required` for a non-host without a profile; 422
    `invalid_content`; 409 `client_id_conflict` for a client_id used elsewhere)."""
    row, created = await append(
        conn,
        event_id,
        "event_id",
        content,
        store=lambda text: q.append_post(conn, user_id, event_id, text, client_id, BOARD_ROLES),
        admit=lambda row: _admitted(conn, user_id, row),
    )
    return _post(row, storage), created


async def store_posts(
    conn: asyncpg.Connection, storage: Storage, items: Sequence[NewItem]
) -> dict[int, Post]:
    """Posts in one statement (server/messaging/writer.py): {position in items:
    the stored post}; an item missing was not stored (create_post says why).
    Contents are cleaned already."""
    rows = await q.append_posts(conn, items, BOARD_ROLES)
    return {row["idx"] - 1: _post(row, storage) for row in rows}


async def list_posts(
    conn: asyncpg.Connection,
    storage: Storage,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    page: PageParams,
) -> Page[Post]:
    await _member(conn, user_id, event_id)
    before = decode_cursor(page.cursor, int) if page.cursor else None
    rows = await q.posts_page(
        conn, user_id, event_id, clamp_seq(before) if before is not None else None, page.limit + 1
    )
    items, cursor = make_page(rows, page.limit, key=lambda r: r["seq"])
    return Page(items=[_post(r, storage) for r in items], next_cursor=cursor)


async def posts_since(
    conn: asyncpg.Connection, storage: Storage, event_id: uuid.UUID, since: int, limit: int
) -> list[Post]:
    """Posts with seq > since, ascending, at most `limit`, tombstones included,
    for the WebSocket gateway (gateway/catch_up.py), which checked who may
    follow the board and hides authors from each reader as it writes."""
    rows = await q.posts_since(conn, event_id, clamp_seq(since), max(limit, 0))
    return [_post(r, storage) for r in rows]


async def board_last_seq(conn: asyncpg.Connection, event_id: uuid.UUID) -> int:
    """The seq of the event's latest post (0: none yet, or no such event)."""
    return await q.last_seq(conn, event_id)


async def delete_post(
    conn: asyncpg.Connection, user_id: uuid.UUID, event_id: uuid.UUID, post_id: uuid.UUID
) -> None:
    """The author (while they may still see the event) or the host deletes a post;
    deleting again is a no-op."""
    row = await q.board_member(conn, user_id, event_id)
    if row is None or row["viewer_role"] is None:
        raise _not_found()
    author = await q.post_author(conn, user_id, event_id, post_id)
    if author is None and row["viewer_role"] in BOARD_ROLES:
        raise ApiError(404, "not_found", "No such post")
    if author != user_id and row["viewer_role"] != "host":
        raise ApiError(403, "forbidden", "Only the author or the host may delete a post")
    await q.soft_delete(conn, post_id)
