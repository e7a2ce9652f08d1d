"""What the invitation tests do again and again: paid events, accepting, Stripe
webhooks, reading an invitation's status."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from builders import Client, Kit
from helpers import bearer


async def paid_event(kit: Kit, host: dict[str, Any], seats: int = 6, fee: int = 500) -> Any:
    """A published event `fee` cents to confirm, starting in ten days."""
    stops = [kit.stop(await kit.location(host), 240, title="Dinner")]
    return await kit.published(
        host, confirmation_fee=fee, max_attendees=seats, min_attendees=1, stops=stops
    )


async def accept(client: Client, guest: dict[str, Any], invitation_id: uuid.UUID) -> Any:
    return await client.post(f"/v1/invitations/{invitation_id}/accept", headers=bearer(guest))


async def deliver(client: Client, delivery: tuple[bytes, dict[str, str]]) -> Any:
    body, headers = delivery
    return await client.post("/v1/webhooks/stripe", content=body, headers=headers)


async def status_of(db: asyncpg.Connection, invitation_id: uuid.UUID) -> str:
    status: str = await db.fetchval("SELECT status FROM invitations WHERE id = $1", invitation_id)
    return status
