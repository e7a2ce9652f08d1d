"""Channel names: `event:<event_id>` (an event board), `conversation:<id>` (a
conversation) and `user:<user_id>` (a user's own notifications). Every name is
built here; what a channel does is server/messaging/service.py's business."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

Kind = Literal["event", "conversation"]


class Channel(msgspec.Struct, frozen=True):
    kind: Kind
    id: uuid.UUID

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_channel(name: str) -> Channel | None:
    """The channel a client named, or None (user channels are never subscribable)."""
    kind, _, raw_id = name.partition(":")
    if kind not in ("event", "conversation"):
        return None
    try:
        channel_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    return Channel("event" if kind == "event" else "conversation", channel_id)


def user_channel(user_id: uuid.UUID) -> str:
    """Where a user's own notifications go (internal: never subscribable)."""
    return f"user:{user_id}"
