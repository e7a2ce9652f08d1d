"""Request and response bodies of push tokens and notification settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.notifications.settings import Category, Channels

Platform = Literal["ios", "android", "web"]
MAX_TOKEN_LENGTH = 255


class PushTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    # ExponentPushToken[...] or ExpoPushToken[...]; checked by the service (invalid_push_token).
    token: str
    platform: Platform
    # The app's own id of the install; one active token per device of a user.
    device_id: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[^\x00]*$")] | None
    ) = None


class PushToken(msgspec.Struct):
    token: str
    platform: Platform
    device_id: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class NotificationSettings(msgspec.Struct):
    """Every category with its effective switches (defaults where never changed)."""

    categories: dict[Category, Channels]


class ChannelsPatch(msgspec.Struct, forbid_unknown_fields=True):
    push_enabled: bool | UnsetType = UNSET
    sms_enabled: bool | UnsetType = UNSET


class NotificationSettingsPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the categories and switches sent change."""

    categories: dict[Category, ChannelsPatch]
