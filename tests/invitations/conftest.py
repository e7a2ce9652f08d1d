"""Invitation tests run against a local fake Stripe that the real client talks to.

`settings` here adds the Stripe settings pointing at the fake; `kit` makes
hosts, guests and published events through the API, and invitations straight
in the database (matching is another suite's subject).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import msgspec
import pytest
from events.conftest import Kit
from fakes.http import serve
from fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from helpers import bearer
from litestar.testing import AsyncTestClient

from db.pool import create_pool
from server.payments.gateway import StripeGateway
from server.settings import Settings
from workers.payments import PaymentJobs

Client = AsyncTestClient[Any]


@pytest.fixture
def stripe() -> Iterator[tuple[FakeStripe, str]]:
    fake = FakeStripe()
    with serve(fake.handler()) as url:
        yield fake, url


@pytest.fixture
def fake(stripe: tuple[FakeStripe, str]) -> FakeStripe:
    return stripe[0]


@pytest.fixture
def settings(settings: Settings, stripe: tuple[FakeStripe, str]) -> Settings:
    return msgspec.structs.replace(
        settings,
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=stripe[1],
        seat_hold_minutes=15,
        late_cancellation_hours=48,
    )


@pytest.fixture
def kit(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> Kit:
    return Kit(client, sign_in, db_conn)


@pytest.fixture
async def jobs(database_url: str, settings: Settings) -> AsyncIterator[PaymentJobs]:
    """The payment jobs as a worker runs them (own pool, own gateway)."""
    pool = await create_pool(database_url, min_size=1, max_size=4)
    assert settings.stripe_secret_key and settings.stripe_webhook_secret
    gateway = StripeGateway(
        secret_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
    )
    yield PaymentJobs(pool, gateway, settings)
    await gateway.aclose()
    await pool.close()


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


async def gather(*calls: Any) -> list[Any]:
    return list(await asyncio.gather(*calls))
