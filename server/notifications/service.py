"""Push tokens and notification settings: storage only (sending is the notifications issue)."""

from __future__ import annotations

import re
import uuid

import asyncpg
import msgspec

from db.queries import notifications as q
from server.errors import ApiError
from server.notifications.schemas import (
    EXPO_TOKEN_PATTERN,
    MAX_TOKEN_LENGTH,
    NotificationSettings,
    NotificationSettingsPatch,
    PushToken,
    PushTokenIn,
)
from server.notifications.settings import (
    CATEGORIES,
    DEFAULTS,
    Category,
    Channel,
    Channels,
    effective,
)

EXPO_TOKEN = re.compile(EXPO_TOKEN_PATTERN)


def is_expo_token(token: str) -> bool:
    return len(token) <= MAX_TOKEN_LENGTH and EXPO_TOKEN.fullmatch(token) is not None


# ── Push tokens ──


async def register_push_token(
    conn: asyncpg.Connection, user_id: uuid.UUID, data: PushTokenIn
) -> tuple[PushToken, bool]:
    """Upsert by token; (token, new to this user).

    A token registered by someone else moves to the caller (the phone changed
    hands); a device_id the caller registered with another token now has this
    one only.
    """
    if not is_expo_token(data.token):
        raise ApiError(
            422,
            "invalid_push_token",
            "token must be an Expo push token: ExponentPushToken[...] or ExpoPushToken[...]",
        )
    async with conn.transaction():
        await q.lock_user_tokens(conn, user_id)
        row, created = await q.upsert_push_token(
            conn, user_id, data.token, data.platform, data.device_id
        )
        if data.device_id is not None:
            await q.delete_device_tokens_except(conn, user_id, data.device_id, data.token)
    record = dict(row)
    record.pop("created")
    return msgspec.convert(record, PushToken), created


async def delete_push_token(conn: asyncpg.Connection, user_id: uuid.UUID, token: str) -> None:
    if not await q.delete_push_token(conn, user_id, token):
        raise ApiError(404, "not_found", "No such push token of yours")


# ── Settings ──


async def channels_by_category(
    conn: asyncpg.Connection, user_id: uuid.UUID
) -> dict[Category, Channels]:
    """Every category's effective switches for a user (for the senders too)."""
    rows = await q.stored_settings(conn, user_id)
    return effective(
        {
            r["category"]: Channels(push_enabled=r["push_enabled"], sms_enabled=r["sms_enabled"])
            for r in rows
        }
    )


async def allows(
    conn: asyncpg.Connection, user_id: uuid.UUID, category: Category, channel: Channel
) -> bool:
    """Whether the user wants `category` notifications over `channel`."""
    return (await channels_by_category(conn, user_id))[category].allows(channel)


async def get_settings(conn: asyncpg.Connection, user_id: uuid.UUID) -> NotificationSettings:
    return NotificationSettings(categories=await channels_by_category(conn, user_id))


def _value(v: bool | msgspec.UnsetType) -> bool | None:
    return None if isinstance(v, msgspec.UnsetType) else v


async def update_settings(
    conn: asyncpg.Connection, user_id: uuid.UUID, patch: NotificationSettingsPatch
) -> NotificationSettings:
    changed = [c for c in CATEGORIES if c in patch.categories]
    if changed:
        async with conn.transaction():
            await q.upsert_settings(
                conn,
                user_id,
                changed,
                push=[_value(patch.categories[c].push_enabled) for c in changed],
                sms=[_value(patch.categories[c].sms_enabled) for c in changed],
                default_push=[DEFAULTS[c].push_enabled for c in changed],
                default_sms=[DEFAULTS[c].sms_enabled for c in changed],
            )
    return await get_settings(conn, user_id)
