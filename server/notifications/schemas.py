"""Request and response bodies of push tokens and notification settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.notifications.catalog import Kind
from server.notifications.settings import CATEGORIES, Category, Channels

Platform = Literal["ios", "android", "web"]
MAX_TOKEN_LENGTH = 255
# Checked by the service, which answers 422 `invalid_push_token` (a msgspec
# pattern would answer `validation_error`); the document states it too.
EXPO_TOKEN_PATTERN = r"^Expo(?:nent)?PushToken\[[A-Za-z0-9_-]+\]$"  # noqa: S105 (not a secret)
ExpoToken = Annotated[
    str,
    msgspec.Meta(extra_json_schema={"pattern": EXPO_TOKEN_PATTERN, "maxLength": MAX_TOKEN_LENGTH}),
]
# A dict keyed by a Literal: the document says which keys (msgspec enforces them).
CategoryMap = msgspec.Meta(extra_json_schema={"propertyNames": {"enum": list(CATEGORIES)}})


class PushTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    # ExponentPushToken[...] or ExpoPushToken[...].
    token: ExpoToken
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

    categories: Annotated[dict[Category, Channels], CategoryMap]


class ChannelsPatch(msgspec.Struct, forbid_unknown_fields=True):
    push_enabled: bool | UnsetType = UNSET
    sms_enabled: bool | UnsetType = UNSET


class NotificationSettingsPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the categories and switches sent change."""

    categories: Annotated[dict[Category, ChannelsPatch], CategoryMap]


class Notification(msgspec.Struct):
    """One inbox entry: what was (or will be) pushed."""

    id: uuid.UUID
    kind: Kind
    category: Category
    title: str
    body: str
    # Ids the app opens (event_id, invitation_id, conversation_id...), as strings.
    data: dict[str, Any]
    # How many notifications a collapsed entry stands for (posts of one event...).
    count: int
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None


class NotificationPage(msgspec.Struct):
    items: list[Notification]
    next_cursor: str | None
    unread_count: int


NotificationIds = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=100)]


class MarkRead(msgspec.Struct, forbid_unknown_fields=True):
    """Which notifications to mark read: these ids, or every one when none are
    given (or `all` is true). `notification_ids` is accepted for `ids`."""

    ids: NotificationIds | None = None
    notification_ids: NotificationIds | None = None
    all: bool = False

    def chosen(self) -> list[uuid.UUID] | None:
        """The ids to mark, or None for every one."""
        if self.all or (self.ids is None and self.notification_ids is None):
            return None
        return [*(self.ids or ()), *(self.notification_ids or ())]
