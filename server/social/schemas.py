"""Social links and shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.profiles.schemas import PublicProfile

# The platforms a link may name (docs/API_NOTES.md "Social links and sharing").
Platform = Literal[
    "instagram",
    "tiktok",
    "x",
    "facebook",
    "linkedin",
    "snapchat",
    "youtube",
    "threads",
    "bluesky",
    "website",
]
MAX_URL_CHARS = 2048


class SocialLinkIn(msgspec.Struct, forbid_unknown_fields=True):
    platform: Platform
    # https only, at most MAX_URL_CHARS.
    url: str
    is_public_on_host_profile: bool = False


class SocialLinkPatch(msgspec.Struct, forbid_unknown_fields=True):
    platform: Platform | UnsetType = UNSET
    url: str | UnsetType = UNSET
    is_public_on_host_profile: bool | UnsetType = UNSET


class SocialLink(msgspec.Struct, frozen=True):
    id: uuid.UUID
    platform: Platform
    url: str
    is_public_on_host_profile: bool
    created_at: datetime


class ShareIn(msgspec.Struct, forbid_unknown_fields=True):
    receiver_profile_id: uuid.UUID
    social_link_id: uuid.UUID


class Share(msgspec.Struct, frozen=True):
    id: uuid.UUID
    receiver_profile_id: uuid.UUID
    social_link_id: uuid.UUID
    created_at: datetime


class SharedWithMe(msgspec.Struct, frozen=True):
    """A link someone I met shared with me, with their public profile."""

    id: uuid.UUID
    social_link_id: uuid.UUID
    platform: Platform
    url: str
    sharer_profile: PublicProfile
    created_at: datetime
