"""Request and response bodies of blocks and reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

ReportCategory = Literal[
    "harassment",
    "spam",
    "inappropriate_content",
    "fake_profile",
    "safety_concern",
    "no_show",
    "other",
]
# The CHECK list of 0001_schema.sql.
ReportStatus = Literal["pending", "reviewing", "resolved", "dismissed"]
MAX_COMMENTS = 5000
# PostgreSQL text cannot hold NUL characters.
NO_NUL = r"^[^\x00]*$"


class BlockIn(msgspec.Struct, forbid_unknown_fields=True):
    profile_id: uuid.UUID


class Block(msgspec.Struct):
    profile_id: uuid.UUID
    created_at: datetime


class BlockedProfile(msgspec.Struct):
    """An entry of my own block list (the only place a blocked person's name is shown)."""

    profile_id: uuid.UUID
    first_name: str | None
    created_at: datetime


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    reported_profile_id: uuid.UUID
    category: ReportCategory
    comments: Annotated[str, msgspec.Meta(max_length=MAX_COMMENTS, pattern=NO_NUL)] | None = None
    event_id: uuid.UUID | None = None
    # Idempotency key chosen by the app: a retry returns the first report.
    client_id: uuid.UUID | None = None


class Report(msgspec.Struct):
    id: uuid.UUID
    # null once the reported person deleted their profile.
    reported_profile_id: uuid.UUID | None
    category: ReportCategory
    comments: str | None
    event_id: uuid.UUID | None
    status: ReportStatus
    created_at: datetime
