"""Invitation tests run against a local fake Stripe that the real client talks to.

`settings` here adds the Stripe settings pointing at the fake; the shared `kit`
makes hosts, guests and published events through the API, and invitations
straight in the database (matching is another suite's subject).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
from fakes.http import serve
from fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe

from db.pool import create_pool
from server.payments.gateway import StripeGateway
from server.settings import Settings
from workers.payments import PaymentJobs


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
