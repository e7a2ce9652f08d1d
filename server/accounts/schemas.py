"""Request and response bodies of /v1/me."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.profiles.schemas import OwnHostProfile, OwnSocialProfile

Role = Literal["participant", "host"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DayPart = Literal["day", "night"]
Availability = Literal["green", "yellow", "red"]
AvailabilityPreferences = dict[Weekday, dict[DayPart, Availability]]


class OwnUser(msgspec.Struct):
    """The caller's users row, minus payment_customer_id."""

    id: uuid.UUID
    phone_number: str
    email: str | None
    last_name: str | None
    birth_date: date | None
    is_verified: bool
    status: str
    active_role: Role
    user_number: int
    min_lead_time_days: int
    availability_preferences: AvailabilityPreferences
    distance_preference: int
    price_sensitivity: int | None
    home_latitude: float | None
    home_longitude: float | None
    created_at: datetime
    updated_at: datetime


class Me(msgspec.Struct):
    user: OwnUser
    social_profile: OwnSocialProfile | None
    host_profile: OwnHostProfile | None
    roles: list[Role]


Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
LastName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class MePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out stay as they are; null clears the optional ones."""

    email: Email | UnsetType | None = UNSET
    last_name: LastName | UnsetType | None = UNSET
    birth_date: date | UnsetType | None = UNSET
    active_role: Role | UnsetType = UNSET
    min_lead_time_days: Annotated[int, msgspec.Meta(ge=0, le=60)] | UnsetType = UNSET
    availability_preferences: AvailabilityPreferences | UnsetType = UNSET
    distance_preference: Annotated[int, msgspec.Meta(ge=1, le=500)] | UnsetType = UNSET
    price_sensitivity: Annotated[int, msgspec.Meta(ge=1, le=4)] | UnsetType | None = UNSET
    # Private: the centre of the matching distance filter, never shown to others.
    home_latitude: Latitude | UnsetType | None = UNSET
    home_longitude: Longitude | UnsetType | None = UNSET
