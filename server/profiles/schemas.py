"""Request and response bodies of social profiles, discover and likes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from db.queries.profiles import Gender
from server.interests.schemas import Interest

InterestedIn = Annotated[list[Gender], msgspec.Meta(min_length=1, max_length=8)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Bio = Annotated[str, msgspec.Meta(max_length=500)]
Pronouns = Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class OwnSocialProfile(msgspec.Struct):
    """The owner's view: everything, including whom they liked."""

    id: uuid.UUID
    user_id: uuid.UUID
    first_name: str | None
    preferred_name: str | None
    current_photo_id: uuid.UUID | None
    current_face_card_photo_id: uuid.UUID | None
    bio: str | None
    gender: Gender
    pronouns: str | None
    interested_in: list[Gender]
    occupation: str | None
    location: str | None
    liked_profiles: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


class OwnHostProfile(msgspec.Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    host_type: Literal["user", "community"]
    host_name: str
    host_bio: str | None
    location_id: uuid.UUID | None
    average_rating: float | None
    created_at: datetime
    updated_at: datetime


class SocialProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    """PUT: the whole profile. Fields left out become empty."""

    gender: Gender
    interested_in: InterestedIn
    first_name: Name | None = None
    preferred_name: Name | None = None
    bio: Bio | None = None
    pronouns: Pronouns | None = None
    occupation: ShortText | None = None
    location: ShortText | None = None
    current_photo_id: uuid.UUID | None = None
    current_face_card_photo_id: uuid.UUID | None = None


class SocialProfilePatch(msgspec.Struct, forbid_unknown_fields=True):
    """PATCH: fields left out stay; null clears the optional ones."""

    gender: Gender | UnsetType = UNSET
    interested_in: InterestedIn | UnsetType = UNSET
    first_name: Name | UnsetType | None = UNSET
    preferred_name: Name | UnsetType | None = UNSET
    bio: Bio | UnsetType | None = UNSET
    pronouns: Pronouns | UnsetType | None = UNSET
    occupation: ShortText | UnsetType | None = UNSET
    location: ShortText | UnsetType | None = UNSET
    current_photo_id: uuid.UUID | UnsetType | None = UNSET
    current_face_card_photo_id: uuid.UUID | UnsetType | None = UNSET


class PublicProfile(msgspec.Struct):
    """What anyone who may see the person sees."""

    id: uuid.UUID
    first_name: str | None
    preferred_name: str | None
    bio: str | None
    gender: Gender
    pronouns: str | None
    occupation: str | None
    location: str | None
    photo_url: str | None
    face_card_url: str | None
    is_authentic: bool
    interests: list[Interest]
