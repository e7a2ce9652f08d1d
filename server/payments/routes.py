"""`POST /v1/webhooks/stripe`: Stripe's deliveries, verified on the raw body."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import structlog
from litestar import Controller, Request, post

from server.deps import DbConnection, PaymentGateway
from server.errors import ApiError, problems
from server.payments import service
from server.payments.gateway import InvalidWebhook

logger = structlog.get_logger(__name__)


class WebhookReceived(msgspec.Struct, frozen=True):
    received: bool


class StripeWebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]
    opt = {"exclude_from_auth": True}

    @post(
        "/stripe",
        status_code=200,
        summary="Stripe webhook (Stripe-Signature checked on the raw body)",
        description=(
            "Each Stripe event id is applied once, in the transaction of its change. "
            "PaymentIntent events re-read the PaymentIntent, so arrival order does not matter."
        ),
        responses=problems(s400="invalid_signature", s503="payments_unavailable"),
        security=[],
    )
    async def stripe_webhook(
        self, request: Request[Any, Any, Any], conn: DbConnection, payments: PaymentGateway
    ) -> WebhookReceived:
        if payments is None:
            raise ApiError(503, "payments_unavailable", "Payments are not configured here")
        body = await request.body()
        try:
            event = payments.parse_webhook(body, request.headers.get("stripe-signature"))
        except InvalidWebhook as exc:
            logger.warning("stripe webhook refused", reason=str(exc))
            raise ApiError(400, "invalid_signature", "Bad or missing Stripe-Signature") from exc
        await service.handle_webhook(conn, payments, event, dt.datetime.now(dt.UTC))
        return WebhookReceived(received=True)
