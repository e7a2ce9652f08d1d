"""Request and response bodies of host profiles and host pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.locations.schemas import Location

HostType = Literal["user", "community"]
HostName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
HostBio = Annotated[str, msgspec.Meta(max_length=2000)]


class HostProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    """PUT: the whole host profile. Community hosts are a place: location_id required."""

    host_name: HostName
    host_type: HostType = "user"
    host_bio: HostBio | None = None
    location_id: uuid.UUID | None = None


class HostProfilePatch(msgspec.Struct, forbid_unknown_fields=True):
    host_name: HostName | UnsetType = UNSET
    host_type: HostType | UnsetType = UNSET
    host_bio: HostBio | UnsetType | None = UNSET
    location_id: uuid.UUID | UnsetType | None = UNSET


class HostSummary(msgspec.Struct, frozen=True):
    """The host as an event names it."""

    id: uuid.UUID
    host_name: str


class HostEvent(msgspec.Struct):
    id: uuid.UUID
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    average_event_rating: float | None
    rating_count: int


class PublicSocialLink(msgspec.Struct):
    platform: str
    url: str


class HostPhoto(msgspec.Struct):
    id: uuid.UUID
    host_id: uuid.UUID
    image_url: str
    photo_type: str
    caption: str | None
    created_at: datetime


class HostPage(msgspec.Struct):
    id: uuid.UUID
    host_type: HostType
    host_name: str
    host_bio: str | None
    profile_id: uuid.UUID | None
    # A community host's place (null for user hosts), and the place itself.
    location_id: uuid.UUID | None
    location: Location | None
    average_rating: float | None
    rating_count: int
    event_history: list[HostEvent]
    social_links: list[PublicSocialLink]
    created_at: datetime
    photos: list[HostPhoto] = msgspec.field(default_factory=list)
