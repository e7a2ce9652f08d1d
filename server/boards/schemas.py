"""Request and response bodies of event boards."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class PostIn(msgspec.Struct, forbid_unknown_fields=True):
    # 1..2000 characters once surrounding whitespace is trimmed.
    content: str
    # Idempotency key chosen by the app: a retry returns the first post.
    client_id: uuid.UUID | None = None


class Post(msgspec.Struct):
    """A post, as the REST list returns it and the WebSocket delivers it."""

    id: uuid.UUID
    event_id: uuid.UUID
    seq: int
    # null for a host without a social profile (a community host).
    author_profile_id: uuid.UUID | None
    # The app shows the host's name and logo on the host's posts; null on
    # everyone else's (the logo also when the host has none).
    author_is_host: bool
    author_host_id: uuid.UUID | None
    author_host_name: str | None
    author_host_logo_url: str | None
    # null only when deleted (tombstones appear in WebSocket replay, never in the REST list).
    content: str | None
    deleted: bool
    created_at: datetime
