"""Memory Book entries and their owner's changes."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

MAX_NOTES_CHARS = 2000


class Connection(msgspec.Struct, frozen=True):
    """An entry of my Memory Book: someone I met, as they were when we first met.
    Only its owner ever sees it (private_notes and the two wants included)."""

    id: uuid.UUID
    connected_profile_id: uuid.UUID
    # Where we first met (null once that event is deleted).
    event_id: uuid.UUID | None
    connected_profile_snapshot_name: str | None
    connected_profile_snapshot_face_card_url: str | None
    was_photo_authentic: bool
    is_favorite: bool
    wants_to_connect_again: bool
    does_not_want_to_connect_again: bool
    private_notes: str | None
    # Events we both attended, counted now.
    shared_event_count: int
    created_at: datetime
    updated_at: datetime


class ConnectionPatch(msgspec.Struct, forbid_unknown_fields=True):
    is_favorite: bool | UnsetType = UNSET
    wants_to_connect_again: bool | UnsetType = UNSET
    does_not_want_to_connect_again: bool | UnsetType = UNSET
    # At most MAX_NOTES_CHARS once trimmed; null or blank clears them.
    private_notes: str | UnsetType | None = UNSET
