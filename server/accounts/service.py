"""Account rules shared by the web handlers and anything else that needs them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import msgspec

from db.queries import export as export_q
from db.queries import feedback as feedback_q
from db.queries import photos as photos_q
from db.queries import users as q
from jobs.contract import enqueue_member_metrics
from server.accounts.schemas import Me, MePatch, OwnUser, Role
from server.errors import ApiError
from server.photos.service import delete_stored_files
from server.profiles.schemas import OwnHostProfile, OwnSocialProfile
from server.profiles.service import require_host_id
from server.storage import Storage

MIN_AGE = 18
MAX_AGE = 120


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Not found")


async def get_me(conn: asyncpg.Connection, user_id: uuid.UUID) -> Me:
    row = await _account_row(conn, user_id)
    record = dict(row)
    social = record.pop("social_profile")
    host = record.pop("host_profile")
    roles: list[Role] = []
    if social is not None:
        roles.append("participant")
    if host is not None:
        roles.append("host")
    return Me(
        user=msgspec.convert(record, OwnUser),
        social_profile=msgspec.convert(social, OwnSocialProfile, strict=False) if social else None,
        host_profile=msgspec.convert(host, OwnHostProfile, strict=False) if host else None,
        roles=roles,
    )


async def _account_row(conn: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record:
    row = await q.get_account(conn, user_id)
    if row is None:
        raise _not_found()
    return row


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def _changes(patch: MePatch, today: date) -> dict[str, Any]:
    changes = {
        name: getattr(patch, name)
        for name in patch.__struct_fields__
        if getattr(patch, name) is not msgspec.UNSET
    }
    birth_date = changes.get("birth_date")
    if birth_date is not None and not MIN_AGE <= age_on(birth_date, today) <= MAX_AGE:
        raise ApiError(422, "invalid_birth_date", f"Momento is for people aged {MIN_AGE} and over")
    if ("home_latitude" in changes) != ("home_longitude" in changes) or (
        (changes.get("home_latitude") is None) != (changes.get("home_longitude") is None)
    ):
        raise ApiError(422, "invalid_location", "Send home_latitude and home_longitude together")
    if isinstance(changes.get("email"), str):
        changes["email"] = changes["email"].strip()
    return changes


async def update_me(
    conn: asyncpg.Connection, user_id: uuid.UUID, patch: MePatch, today: date
) -> Me:
    changes = _changes(patch, today)
    async with conn.transaction():
        if changes.get("active_role") == "host":
            await require_host_id(conn, user_id)
        await q.update_user(conn, user_id, changes)
        return await get_me(conn, user_id)


async def delete_me(conn: asyncpg.Connection, storage: Storage, user_id: uuid.UUID) -> None:
    async with conn.transaction():
        keys = await photos_q.photo_keys_of_user(conn, user_id)
        # Their ratings and the kudos they gave go with them: averages and scores follow.
        rated_hosts = await feedback_q.rated_hosts_of_user(conn, user_id)
        kudos_receivers = await feedback_q.kudos_receivers_of_user(conn, user_id)
        if not await q.delete_user(conn, user_id):
            raise _not_found()
        await feedback_q.refresh_host_rating(conn, rated_hosts)
        await enqueue_member_metrics(conn, kudos_receivers)
    # Files go only once the rows are gone for good.
    await delete_stored_files(storage, keys)


async def export_me(conn: asyncpg.Connection, user_id: uuid.UUID) -> dict[str, Any]:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        data = await export_q.export_user(conn, user_id)
    if data is None:
        raise _not_found()
    return data
