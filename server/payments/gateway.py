"""The thin layer over Stripe: the few calls the payment rules need, typed.

Everything goes through the official `stripe` client (`StripeClient` on its
async httpx transport), pinned to the API version of the installed library
(`API_VERSION`); `api_base` points it elsewhere (the local fake in tests).

Errors. Every failure is a `GatewayError` carrying Stripe's `code` (e.g.
`resource_missing`), error `type` and HTTP status when there are some:

- `GatewayUnavailable`: Stripe could not be reached or did not decide:
  network errors and timeouts, 5xx, 429, and 409 (a concurrent request with
  the same idempotency key was still running). The client has already retried
  network errors, 5xx and 409 `MAX_NETWORK_RETRIES` times with backoff (not
  429, which Stripe wants slowed down). Whether the call took effect is
  unknown: retry it later with the same idempotency key.
- `GatewayRejected`: Stripe answered with a 4xx and will answer the same
  again: a bad parameter, an unknown object, a key reused with other
  parameters (`type` "idempotency_error"), an authentication error.
  `AlreadyRefunded` (code `charge_already_refunded`) is the one rejection
  the caller is expected to treat as done.

`cancel_payment_intent` does not raise for a PaymentIntent that can no longer
be canceled (already canceled or succeeded): it returns its current state, so
the caller reads `status`.

Idempotency. Every call that creates something takes the caller's
idempotency key, derived from what it is for (an invitation, a cancellation),
so a retried request, from this process or another, gets Stripe's stored
answer instead of a second object. Stripe keeps keys for at least 24 hours and
refuses a key reused with different parameters. The client's own retries
resend the same key. Ephemeral keys get only the client's own per-call key: a
second key is harmless.

Webhooks: `parse_webhook` checks the `Stripe-Signature` HMAC over the raw body
and its timestamp (at most `WEBHOOK_TOLERANCE_SECONDS` old) before reading it.

Nothing here logs a secret, a client secret or an ephemeral key.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any, Final, TypeVar

import httpx
import msgspec
import stripe
import structlog

logger = structlog.get_logger(__name__)

API_VERSION: Final = stripe.api_version
MAX_NETWORK_RETRIES: Final = 2
TIMEOUT: Final = httpx.Timeout(20.0, connect=5.0)
WEBHOOK_TOLERANCE_SECONDS: Final = 300

T = TypeVar("T")


class GatewayError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        error_type: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.error_type = error_type
        self.http_status = http_status


class GatewayUnavailable(GatewayError):
    """Stripe was unreachable, failed, or asked us to slow down; the outcome is unknown."""


class GatewayRejected(GatewayError):
    """Stripe refused the request; repeating it will not help."""


class AlreadyRefunded(GatewayRejected):
    """The PaymentIntent's charge is already fully refunded."""


class InvalidWebhook(Exception):
    """A webhook delivery without a valid signature, or not a Stripe event."""


class PaymentIntent(msgspec.Struct, frozen=True):
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    customer: str | None
    metadata: dict[str, str]
    latest_charge: str | None
    amount_received: int
    # Why the last attempt failed (Stripe's decline or error code), if it did.
    failure_code: str | None = None


class Refund(msgspec.Struct, frozen=True):
    id: str
    status: str | None
    amount: int
    currency: str


class WebhookEvent(msgspec.Struct, frozen=True):
    id: str
    type: str
    created: int
    # The event's `data.object` as Stripe sent it: a snapshot at `created`.
    object: dict[str, Any]
    # The PaymentIntent the event concerns: the object itself for payment_intent.*,
    # its `payment_intent` for charges, refunds and disputes (None when absent).
    payment_intent_id: str | None
    # The charge: the object itself for charge.*, `charge` for refunds and disputes,
    # `latest_charge` for a PaymentIntent.
    charge_id: str | None


class _EventData(msgspec.Struct):
    object: dict[str, Any]


class _EventBody(msgspec.Struct):
    id: str
    type: str
    created: int
    data: _EventData


def _ref(value: object) -> str | None:
    """An id from a field that holds an id, an expanded object, or nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    if isinstance(value, stripe.StripeObject):
        return _ref(value.to_dict())
    return None


def _linked_ids(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    kind = obj.get("object")
    if kind == "payment_intent":
        return _ref(obj.get("id")), _ref(obj.get("latest_charge"))
    if kind == "charge":
        return _ref(obj.get("payment_intent")), _ref(obj.get("id"))
    return _ref(obj.get("payment_intent")), _ref(obj.get("charge"))


def _payment_intent(intent: stripe.PaymentIntent) -> PaymentIntent:
    return PaymentIntent(
        id=intent.id,
        status=intent.status,
        amount=intent.amount,
        currency=intent.currency,
        client_secret=intent.client_secret,
        customer=_ref(intent.customer),
        metadata={str(k): str(v) for k, v in intent.metadata.to_dict().items()},
        latest_charge=_ref(intent.latest_charge),
        amount_received=intent.amount_received,
        failure_code=_failure_code(intent),
    )


def _failure_code(intent: stripe.PaymentIntent) -> str | None:
    error = intent.last_payment_error
    if error is None:
        return None
    code = error.decline_code or error.code
    return str(code) if code else "payment_failed"


def _translate(exc: stripe.StripeError) -> GatewayError:
    status = exc.http_status
    error_type = exc.error.type if exc.error is not None else None
    # Some error classes (rate limits, idempotency) leave the code in the body only.
    code = exc.code or (exc.error.code if exc.error is not None else None)
    message = exc.user_message or type(exc).__name__
    details: dict[str, Any] = {"code": code, "error_type": error_type, "http_status": status}
    if (
        isinstance(exc, stripe.APIConnectionError)
        or status is None
        or status >= 500
        or status in (409, 429)
    ):
        return GatewayUnavailable(message, **details)
    if code == "charge_already_refunded":
        return AlreadyRefunded(message, **details)
    return GatewayRejected(message, **details)


class StripeGateway:
    def __init__(self, *, secret_key: str, webhook_secret: str, api_base: str | None) -> None:
        self._webhook_secret = webhook_secret
        # The library otherwise reports request metrics to Stripe (process-wide).
        stripe.enable_telemetry = False
        self._http = stripe.HTTPXClient(timeout=TIMEOUT)
        self._client = stripe.StripeClient(
            secret_key,
            stripe_version=API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=MAX_NETWORK_RETRIES,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # unannotated upstream

    async def _call(self, operation: str, request: Awaitable[T]) -> T:
        try:
            return await request
        except stripe.StripeError as exc:
            error = _translate(exc)
            logger.warning(
                "stripe request failed",
                operation=operation,
                error=type(error).__name__,
                code=error.code,
                http_status=error.http_status,
                request_id=exc.request_id,
            )
            raise error from exc

    async def create_customer(self, *, user_id: uuid.UUID, idempotency_key: str) -> str:
        customer = await self._call(
            "create_customer",
            self._client.v1.customers.create_async(
                {"metadata": {"user_id": str(user_id)}},
                {"idempotency_key": idempotency_key},
            ),
        )
        return customer.id

    async def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        intent = await self._call(
            "create_payment_intent",
            self._client.v1.payment_intents.create_async(
                {
                    "amount": amount,
                    "currency": currency,
                    "customer": customer_id,
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        return _payment_intent(intent)

    async def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        intent = await self._call(
            "retrieve_payment_intent",
            self._client.v1.payment_intents.retrieve_async(payment_intent_id),
        )
        return _payment_intent(intent)

    async def cancel_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        """Cancel, or return the current state of a PaymentIntent past cancelling."""
        try:
            intent = await self._call(
                "cancel_payment_intent",
                self._client.v1.payment_intents.cancel_async(payment_intent_id),
            )
        except GatewayRejected as exc:
            # Stripe's answer for canceled, succeeded (and, for cards, processing) intents.
            if exc.code != "payment_intent_unexpected_state":
                raise
            return await self.retrieve_payment_intent(payment_intent_id)
        return _payment_intent(intent)

    async def create_ephemeral_key(self, *, customer_id: str) -> str:
        """The secret of a short-lived key that lets the app's PaymentSheet use the Customer."""
        key = await self._call(
            "create_ephemeral_key",
            self._client.v1.ephemeral_keys.create_async(
                {"customer": customer_id}, {"stripe_version": API_VERSION}
            ),
        )
        if not key.secret:
            raise GatewayUnavailable("Stripe returned an ephemeral key without its secret")
        return key.secret

    async def create_refund(
        self, *, payment_intent_id: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Refund:
        """Refund the PaymentIntent in full.

        Raises `AlreadyRefunded` when it already is (by another key, or from the
        dashboard); the same key again returns the first refund instead.
        """
        refund = await self._call(
            "create_refund",
            self._client.v1.refunds.create_async(
                {"payment_intent": payment_intent_id, "metadata": metadata},
                {"idempotency_key": idempotency_key},
            ),
        )
        return Refund(
            id=refund.id, status=refund.status, amount=refund.amount, currency=refund.currency
        )

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        """The event in a webhook delivery, once its signature and age are checked."""
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature_header, self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
            body = msgspec.json.decode(payload, type=_EventBody)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise InvalidWebhook("bad or missing Stripe-Signature") from exc
        except msgspec.DecodeError as exc:
            raise InvalidWebhook("not a Stripe event") from exc
        payment_intent_id, charge_id = _linked_ids(body.data.object)
        return WebhookEvent(
            id=body.id,
            type=body.type,
            created=body.created,
            object=body.data.object,
            payment_intent_id=payment_intent_id,
            charge_id=charge_id,
        )


def embedded_intent(event: WebhookEvent) -> PaymentIntent | None:
    """The PaymentIntent a `payment_intent.*` event carries, as it was when sent."""
    if event.object.get("object") != "payment_intent":
        return None
    return _payment_intent(stripe.PaymentIntent.construct_from(event.object, None))
