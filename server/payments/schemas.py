"""Payment bodies the app sees: the PaymentSheet's inputs and my payments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec


class PaymentSheet(msgspec.Struct, frozen=True):
    """What the app's Stripe PaymentSheet needs."""

    payment_intent_id: str
    client_secret: str
    customer_id: str
    ephemeral_key: str


class Payment(msgspec.Struct, frozen=True):
    """One payment attempt of mine (provider ids are not shown)."""

    id: uuid.UUID
    event_id: uuid.UUID | None
    event_title: str | None
    invitation_id: uuid.UUID | None
    amount_in_cents: int
    currency: str
    status: Literal["pending", "succeeded", "failed", "canceled", "refunded", "disputed"]
    failure_code: str | None
    # A refund has been decided (event cancelled, or paid after the seat was gone).
    refund_due: bool
    created_at: datetime
    updated_at: datetime
