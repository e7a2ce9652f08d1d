"""How profiles look to their owner."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class OwnSocialProfile(msgspec.Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    first_name: str | None
    preferred_name: str | None
    current_photo_id: uuid.UUID | None
    current_face_card_photo_id: uuid.UUID | None
    bio: str | None
    gender: str
    pronouns: str | None
    interested_in: list[str]
    occupation: str | None
    location: str | None
    liked_profiles: list[uuid.UUID]
    created_at: datetime


class OwnHostProfile(msgspec.Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    host_type: str
    host_name: str | None
    host_bio: str | None
    location_id: uuid.UUID | None
    average_rating: float | None
    created_at: datetime
