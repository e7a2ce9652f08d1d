"""Request and response bodies of support tickets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

TicketCategory = Literal[
    "technical_issue",
    "payment_question",
    "hosting_question",
    "account_issue",
    "safety",
    "other",
]
# The CHECK list of 0001_schema.sql.
TicketStatus = Literal["new", "open", "resolved", "closed"]
MAX_BODY = 10_000
MAX_METADATA_BYTES = 4096

# At least one visible character, and no NUL (PostgreSQL text cannot hold it).
Body = Annotated[
    str, msgspec.Meta(min_length=1, max_length=MAX_BODY, pattern=r"^(?=[^\x00]*$)\s*\S")
]
Email = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")
]


class TicketIn(msgspec.Struct, forbid_unknown_fields=True):
    category: TicketCategory
    body: Body
    # Left out or null: the email of my account, if any.
    reply_to_email: Email | None = None
    associated_event_id: uuid.UUID | None = None
    # Must be one of my own payments.
    associated_payment_id: uuid.UUID | None = None
    # Diagnostics the app attaches (app version, OS...): a JSON object, 4 KiB at most.
    metadata: dict[str, Any] | None = None
    # Idempotency key chosen by the app: a retry returns the first ticket.
    client_id: uuid.UUID | None = None


class Ticket(msgspec.Struct):
    id: uuid.UUID
    ticket_number: int
    submitter_user_id: uuid.UUID | None
    category: TicketCategory
    body: str
    reply_to_email: str | None
    status: TicketStatus
    associated_event_id: uuid.UUID | None
    associated_payment_id: uuid.UUID | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
