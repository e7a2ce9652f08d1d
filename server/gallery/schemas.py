"""Gallery uploads and photos."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec
from litestar.datastructures import UploadFile

from db.queries.gallery import GalleryStatus


class GalleryUpload(msgspec.Struct, forbid_unknown_fields=True):
    """multipart/form-data: the image in `file`."""

    file: UploadFile


class GalleryPhoto(msgspec.Struct, frozen=True):
    id: uuid.UUID
    event_id: uuid.UUID
    # The uploader's social profile (null for a host without one).
    uploader_profile_id: uuid.UUID | None
    image_url: str
    thumbnail_url: str | None
    status: GalleryStatus
    created_at: datetime


class GalleryPhotoPatch(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["visible", "hidden_by_host"]
