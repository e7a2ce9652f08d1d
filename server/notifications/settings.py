"""Notification categories and their defaults: plain data the senders reuse.

`user_notification_settings` stores only what a user changed; a category
without a row uses DEFAULTS. Push is on for everything; SMS only for what
must not be missed (new invitations, cancellations and changes of events).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

import msgspec

Category = Literal[
    "invitations",
    "payments",
    "event_updates",
    "event_reminders",
    "event_posts",
    "direct_messages",
    "kudos",
    "ratings",
]
# Same list and order as the CHECK of user_notification_settings.category.
CATEGORIES: tuple[Category, ...] = get_args(Category)
Channel = Literal["push", "sms"]


class Channels(msgspec.Struct, frozen=True):
    push_enabled: bool
    sms_enabled: bool

    def allows(self, channel: Channel) -> bool:
        return self.push_enabled if channel == "push" else self.sms_enabled


DEFAULTS: Mapping[Category, Channels] = MappingProxyType(
    {
        "invitations": Channels(push_enabled=True, sms_enabled=True),
        "payments": Channels(push_enabled=True, sms_enabled=False),
        "event_updates": Channels(push_enabled=True, sms_enabled=True),
        "event_reminders": Channels(push_enabled=True, sms_enabled=False),
        "event_posts": Channels(push_enabled=True, sms_enabled=False),
        "direct_messages": Channels(push_enabled=True, sms_enabled=False),
        "kudos": Channels(push_enabled=True, sms_enabled=False),
        "ratings": Channels(push_enabled=True, sms_enabled=False),
    }
)


def effective(overrides: Mapping[str, Channels]) -> dict[Category, Channels]:
    """Every category, in CATEGORIES order: the stored choice, else the default."""
    return {c: overrides.get(c, DEFAULTS[c]) for c in CATEGORIES}
