"""Photo uploads (multipart forms) and how photos look in responses (URLs, never keys)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile

# The same object the public host page lists (one schema in the OpenAPI document).
from server.hosts.schemas import HostPhoto

__all__ = [
    "HostPhoto",
    "HostPhotoType",
    "HostPhotoUpload",
    "ProfilePhoto",
    "ProfilePhotoUpload",
]

HostPhotoType = Literal["logo", "venue", "promotional", "other"]

MAX_CAPTION_LENGTH = 300


class ProfilePhotoUpload(msgspec.Struct, forbid_unknown_fields=True):
    """multipart/form-data: the image in `file`; `is_in_app_photo` "true"/"false"."""

    file: UploadFile
    is_in_app_photo: bool = False


class HostPhotoUpload(msgspec.Struct, forbid_unknown_fields=True):
    """multipart/form-data: the image in `file`, with its type and an optional caption."""

    file: UploadFile
    photo_type: HostPhotoType = "other"
    caption: Annotated[str, msgspec.Meta(max_length=MAX_CAPTION_LENGTH)] | None = None


class ProfilePhoto(msgspec.Struct):
    id: uuid.UUID
    profile_id: uuid.UUID
    image_url: str
    thumbnail_url: str | None
    is_in_app_photo: bool
    created_at: datetime
