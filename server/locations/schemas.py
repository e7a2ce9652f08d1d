"""Request and response bodies of /v1/locations."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

# Out-of-range values, NaN and infinities all fail these bounds.
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90, description="Degrees, -90..90")]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180, description="Degrees, -180..180")]


class Location(msgspec.Struct):
    id: uuid.UUID
    name: str | None
    address: str | None
    latitude: float
    longitude: float
    google_place_id: str | None


class LocationCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A place: a venue from Google Maps (`google_place_id`) or a pinned spot.
    Text fields are trimmed; blank ones are stored as null."""

    latitude: Latitude
    longitude: Longitude
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    google_place_id: Annotated[str, msgspec.Meta(max_length=300)] | None = None
