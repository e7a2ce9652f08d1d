"""Social link and sharing rules.

A link is an https URL on a platform of the fixed list; a person keeps at most
SOCIAL_LINKS_PER_PERSON. A public one shows on the owner's host page, so only a
host may make one public. A link is shared silently (no notification), once per
receiver, and only with someone in the sharer's Memory Book; nothing crosses a
block, and a block hides shares both ways.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, cast

import asyncpg
import msgspec

from db.queries import connections as connections_q
from db.queries import conversations as conversations_q
from db.queries import profiles as profiles_q
from db.queries import social as q
from server.errors import ApiError
from server.pagination import Page, PageParams, decode_cursor, make_page
from server.profiles.service import public_profile, require_profile_id
from server.settings import Settings
from server.social.schemas import (
    MAX_URL_CHARS,
    URL_PATTERN,
    Platform,
    Share,
    SharedWithMe,
    ShareIn,
    SocialLink,
    SocialLinkIn,
    SocialLinkPatch,
)
from server.storage import Storage

_URL = re.compile(URL_PATTERN)


def check_url(url: str) -> str:
    """The URL if it matches schemas.URL_PATTERN, else 422 `invalid_url`."""
    if len(url) > MAX_URL_CHARS or _URL.fullmatch(url) is None:
        raise ApiError(
            422, "invalid_url", f"Give an https:// link of at most {MAX_URL_CHARS} characters"
        )
    return url


def _link(row: q.LinkRow) -> SocialLink:
    return SocialLink(
        id=row.id,
        platform=cast(Platform, row.platform),
        url=row.url,
        is_public_on_host_profile=row.is_public_on_host_profile,
        created_at=row.created_at,
    )


def _link_not_found() -> ApiError:
    return ApiError(404, "not_found", "No such link of yours")


async def _require_host(conn: asyncpg.Connection, user_id: uuid.UUID) -> None:
    if not await q.has_host_profile(conn, user_id):
        raise ApiError(
            409, "host_profile_required", "Only a host profile shows links; create one first"
        )


async def add_link(
    conn: asyncpg.Connection, settings: Settings, user_id: uuid.UUID, data: SocialLinkIn
) -> SocialLink:
    url = check_url(data.url)
    async with conn.transaction():
        if await q.lock_link_count(conn, user_id) >= settings.social_links_per_person:
            raise ApiError(
                409,
                "too_many_links",
                f"You can keep at most {settings.social_links_per_person} links",
            )
        if data.is_public_on_host_profile:
            await _require_host(conn, user_id)
        row = await q.insert_link(conn, user_id, data.platform, url, data.is_public_on_host_profile)
    return _link(row)


async def my_links(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[SocialLink]:
    return [_link(row) for row in await q.my_links(conn, user_id)]


async def update_link(
    conn: asyncpg.Connection, user_id: uuid.UUID, link_id: uuid.UUID, patch: SocialLinkPatch
) -> SocialLink:
    changes: dict[str, Any] = {
        name: getattr(patch, name)
        for name in patch.__struct_fields__
        if getattr(patch, name) is not msgspec.UNSET
    }
    if "url" in changes:
        changes["url"] = check_url(changes["url"])
    async with conn.transaction():
        if await q.my_link(conn, user_id, link_id, lock=True) is None:
            raise _link_not_found()
        if changes.get("is_public_on_host_profile"):
            await _require_host(conn, user_id)
        await q.update_link(conn, link_id, changes)
        row = await q.my_link(conn, user_id, link_id)
    assert row is not None
    return _link(row)


async def delete_link(conn: asyncpg.Connection, user_id: uuid.UUID, link_id: uuid.UUID) -> None:
    if not await q.delete_link(conn, user_id, link_id):
        raise _link_not_found()


async def share(conn: asyncpg.Connection, user_id: uuid.UUID, data: ShareIn) -> tuple[Share, bool]:
    """Share my link with someone in my Memory Book; whether it is new. Anything
    else (not my link, not someone I met, a block either way) is 404."""
    sharer = await require_profile_id(conn, user_id)
    async with conn.transaction():
        if await q.my_link(conn, user_id, data.social_link_id) is None:
            raise _link_not_found()
        visible = await conversations_q.visible_profile_owner(
            conn, user_id, data.receiver_profile_id
        )
        if visible is None or not await connections_q.in_memory_book(
            conn, sharer, data.receiver_profile_id
        ):
            raise ApiError(404, "not_found", "No such person in your Memory Book")
        row, is_new = await q.share(conn, sharer, data.receiver_profile_id, data.social_link_id)
    return (
        Share(
            id=row.id,
            receiver_profile_id=row.receiver_profile_id,
            social_link_id=row.social_link_id,
            created_at=row.created_at,
        ),
        is_new,
    )


async def shared_with_me(
    conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID, page: PageParams
) -> Page[SharedWithMe]:
    after = decode_cursor(page.cursor, tuple[dt.datetime, uuid.UUID]) if page.cursor else None
    rows, cursor = make_page(
        await q.shared_with_me(conn, user_id, after, page.limit + 1),
        page.limit,
        lambda r: (r.created_at, r.id),
    )
    profiles = await profiles_q.public_profiles(conn, user_id, [r.sharer_profile_id for r in rows])
    items = [
        SharedWithMe(
            id=r.id,
            social_link_id=r.social_link_id,
            platform=cast(Platform, r.platform),
            url=r.url,
            sharer_profile=public_profile(profiles[r.sharer_profile_id], storage),
            created_at=r.created_at,
        )
        for r in rows
        # A sharer suspended since, or blocked just now, drops out.
        if r.sharer_profile_id in profiles
    ]
    return Page(items=items, next_cursor=cursor)
