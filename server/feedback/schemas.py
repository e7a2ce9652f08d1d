"""Bodies and answers of the rating and kudos routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

import msgspec

# The fixed list of kudos (docs/API_NOTES.md "Ratings and kudos").
Kudo = Literal[
    "great_listener",
    "welcoming_vibe",
    "great_conversation",
    "made_me_laugh",
    "good_energy",
    "thoughtful",
    "adventurous",
    "on_time",
]
KUDOS: tuple[Kudo, ...] = get_args(Kudo)
MAX_COMMENT_CHARS = 2000

Stars = Annotated[int, msgspec.Meta(ge=1, le=5)]


class RatingIn(msgspec.Struct, forbid_unknown_fields=True):
    host_rating_value: Stars
    event_rating_value: Stars
    # Up to MAX_COMMENT_CHARS once trimmed; blank is no comment.
    comment: str | None = None


class Rating(msgspec.Struct, frozen=True):
    id: uuid.UUID
    event_id: uuid.UUID
    rated_host_id: uuid.UUID
    host_rating_value: int
    event_rating_value: int
    comment: str | None
    created_at: datetime


class KudoIn(msgspec.Struct, forbid_unknown_fields=True):
    receiver_profile_id: uuid.UUID
    kudo: Kudo


class KudoGiven(msgspec.Struct, frozen=True):
    id: uuid.UUID
    event_id: uuid.UUID
    receiver_profile_id: uuid.UUID
    kudo: Kudo
    created_at: datetime


class KudoCount(msgspec.Struct, frozen=True):
    kudo: Kudo
    count: int


class MyKudos(msgspec.Struct, frozen=True):
    """Kudos I received, counted by kudo (most first); never who gave them."""

    total: int
    counts: list[KudoCount]
