"""Social links and shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

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
# An absolute https URL with a host, no whitespace or control characters:
# nothing else reaches other people's apps. The service checks it (422
# `invalid_url`); the document states it. Whitespace is spelt out rather than
# `\s`, which means different characters to Python and to JSON Schema.
_NOT_IN_URLS = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
URL_PATTERN = rf"^https://[^{_NOT_IN_URLS}/?#@\[\]:]+(:[0-9]{{1,5}})?([/?#][^{_NOT_IN_URLS}]*)?$"
LinkUrl = Annotated[
    str,
    msgspec.Meta(extra_json_schema={"pattern": URL_PATTERN, "maxLength": MAX_URL_CHARS}),
]


class SocialLinkIn(msgspec.Struct, forbid_unknown_fields=True):
    platform: Platform
    url: LinkUrl
    is_public_on_host_profile: bool = False


class SocialLinkPatch(msgspec.Struct, forbid_unknown_fields=True):
    platform: Platform | UnsetType = UNSET
    url: LinkUrl | UnsetType = UNSET
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
