"""PaymentsPlugin: the Stripe gateway on `app.state.payments` (None without a key).

Handlers ask for it as `payments: PaymentGateway`; without STRIPE_SECRET_KEY
(development, tests that don't pay) paid invitations answer 503.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol

from server.deps import provide_payments
from server.payments.gateway import StripeGateway
from server.settings import Settings


def build_gateway(settings: Settings) -> StripeGateway | None:
    if not settings.stripe_secret_key or not settings.stripe_webhook_secret:
        return None
    return StripeGateway(
        secret_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
    )


class PaymentsPlugin(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        gateway = build_gateway(self.settings)
        app.state.payments = gateway
        try:
            yield
        finally:
            if gateway is not None:
                await gateway.aclose()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        app_config.dependencies["payments"] = Provide(provide_payments, sync_to_thread=False)
        return app_config
