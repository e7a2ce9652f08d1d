"""A fake Stripe API with state, for the real `stripe` client to talk to.

    fake = FakeStripe()
    with serve(fake.handler()) as url:   # url is the client's `api` base address
        ...

It speaks Stripe's wire format: form-encoded bodies with nested keys
(`metadata[user_id]=...`), JSON objects with Stripe's fields and id prefixes,
errors as `{"error": {"type", "code", "message", "param"}}` with Stripe's HTTP
statuses, `Authorization: Bearer SECRET_KEY` checked on every request, and
unknown parameters refused (`parameter_unknown`).

Idempotency as Stripe does it: a POST's `Idempotency-Key` with the same path
and parameters replays the first response byte for byte (a snapshot: the
object may have changed since) with `Idempotent-Replayed: true`; with other
parameters or another path it is a 400 `idempotency_error`. Results of
requests that failed validation (`parameter_*` codes) are not kept.

Endpoints: POST /v1/customers, POST /v1/payment_intents, GET
/v1/payment_intents/{id}, POST /v1/payment_intents/{id}/cancel, POST
/v1/ephemeral_keys (needs a Stripe-Version header), POST /v1/refunds, GET
/v1/refunds/{id}.

What the phone and the card network would do is done by the test, through
plain thread-safe methods: `succeed`, `fail`, `dispute`, `refund`, and
`fail_next` to answer 5xx or drop connections, before or after applying the
request. Webhook deliveries are built, signed with WEBHOOK_SECRET like
Stripe signs them, by `event` / `event_for`; the test posts them to the
server. Every request is recorded in `requests`, every object kept in
`customers`, `payment_intents`, `charges`, `refunds`, `disputes`,
`ephemeral_keys` (read them once the requests under test are done, or under
`lock`).

Where Stripe's exact error code is not documented (refunding a PaymentIntent
with no successful charge), the fake answers `payment_intent_unexpected_state`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from fakes.http import FailureStatus, quiet, send_json

SECRET_KEY = "sk_test_fake_momento_0000000000"
WEBHOOK_SECRET = "whsec_fake_momento_0000000000"
# The version this fake's objects follow; events carry it as `api_version`.
API_VERSION = "2026-10-28.endive"

Json = dict[str, Any]
Delivery = tuple[bytes, dict[str, str]]
# (HTTP status, body, extra headers)
Reply = tuple[int, bytes, dict[str, str]]

_ALPHABET = string.ascii_letters + string.digits
CANCELABLE = {
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
}
PAYABLE = {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
CANCELLATION_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
MINIMUM_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30}
# The PaymentIntent status a payment_intent.* event's snapshot must have.
EVENT_STATUSES = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "requires_payment_method",
    "payment_intent.canceled": "canceled",
    "payment_intent.processing": "processing",
}


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def sign(body: bytes, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> str:
    """The Stripe-Signature header Stripe sends with body: HMAC-SHA256 of "t.body"."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def parse_form(raw: str) -> Json:
    """Stripe's form encoding: `a[b][c]=v` nests, `a[0]=v` is a list."""
    result: Json = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        head, *rest = key.split("[")
        parts = [head, *(part.rstrip("]") for part in rest)]
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(result)


def _lists(node: Json) -> Json:
    out: Json = {}
    for key, value in node.items():
        if isinstance(value, dict):
            value = _lists(value)
            if value and all(k.isdigit() for k in value):
                value = [value[k] for k in sorted(value, key=int)]
        out[key] = value
    return out


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: Json
    idempotency_key: str | None
    stripe_version: str | None
    # The HTTP status answered, or "disconnect" when the connection was dropped.
    status: FailureStatus
    replayed: bool


@dataclass
class _Failure:
    path_prefix: str
    method: str | None
    status: FailureStatus
    after_applying: bool
    times: int


@dataclass(frozen=True)
class _Call:
    params: Json
    stripe_version: str | None
    # The id in the path (/v1/payment_intents/{id}...), when there is one.
    object_id: str = ""


@dataclass(frozen=True)
class _Stored:
    method: str
    path: str
    params: Json
    status: int
    body: bytes


class StripeApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: Json | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"type": error_type, "message": message}
        if code is not None:
            self.body["code"] = code
        if param is not None:
            self.body["param"] = param
        self.body.update(extra or {})
        # Stripe keeps no idempotent result for requests that failed validation.
        self.stored = not (code or "").startswith("parameter_")


def _missing(param: str) -> StripeApiError:
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def _no_such(kind: str, object_id: str, param: str) -> StripeApiError:
    return StripeApiError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def _check_params(params: Json, allowed: set[str]) -> None:
    for name in params:
        if name not in allowed | {"expand"}:
            raise StripeApiError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _integer(params: Json, name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(params[name])
    except (TypeError, ValueError):
        raise StripeApiError(
            400, f"Invalid integer: {params[name]}", code="parameter_invalid_integer", param=name
        ) from None


def _metadata(params: Json) -> dict[str, str]:
    raw = params.get("metadata", {})
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise StripeApiError(
            400, "Invalid object", code="parameter_invalid_empty", param="metadata"
        )
    if len(raw) > 50:
        raise StripeApiError(400, "Metadata can have at most 50 keys.", param="metadata")
    for key, value in raw.items():
        if len(key) > 40 or not isinstance(value, str) or len(value) > 500:
            raise StripeApiError(
                400, "Metadata keys have at most 40 characters, values 500.", param="metadata"
            )
    # An empty value unsets the key.
    return {key: value for key, value in raw.items() if value != ""}


class FakeStripe:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.customers: dict[str, Json] = {}
        self.payment_intents: dict[str, Json] = {}
        self.charges: dict[str, Json] = {}
        self.refunds: dict[str, Json] = {}
        self.disputes: dict[str, Json] = {}
        self.ephemeral_keys: dict[str, Json] = {}
        # Every event built by `event` / `event_for`, in order.
        self.events: list[Json] = []
        self._idempotent: dict[str, _Stored] = {}
        self._failures: list[_Failure] = []
        self._routes: list[tuple[str, re.Pattern[str], Callable[[_Call], Json]]] = [
            ("POST", re.compile(r"/v1/customers"), self._create_customer),
            ("POST", re.compile(r"/v1/payment_intents"), self._create_payment_intent),
            ("GET", re.compile(r"/v1/payment_intents/([^/]+)"), self._get_payment_intent),
            ("POST", re.compile(r"/v1/payment_intents/([^/]+)/cancel"), self._cancel),
            ("POST", re.compile(r"/v1/ephemeral_keys"), self._create_ephemeral_key),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/refunds/([^/]+)"), self._get_refund),
        ]

    # --- test controls ---------------------------------------------------------------

    def fail_next(
        self,
        path_prefix: str,
        status: FailureStatus = 500,
        *,
        times: int = 1,
        method: str | None = None,
        after_applying: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with `status` (5xx, 429...) or drop
        the connection ("disconnect"); with `after_applying`, only once the request
        took effect (and its idempotent result was kept), as when a response is lost."""
        with self.lock:
            self._failures.append(_Failure(path_prefix, method, status, after_applying, times))

    def succeed(self, payment_intent_id: str) -> Json:
        """The customer paid: a succeeded charge, the PaymentIntent `succeeded`."""
        with self.lock:
            intent = self._intent_for_payment(payment_intent_id)
            charge = self._new_charge(intent, succeeded=True)
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge["id"],
                payment_method=charge["payment_method"],
                last_payment_error=None,
            )
            return copy.deepcopy(intent)

    def fail(
        self,
        payment_intent_id: str,
        code: str = "card_declined",
        *,
        decline_code: str | None = "generic_decline",
    ) -> Json:
        """A payment attempt failed: a failed charge, back to `requires_payment_method`."""
        with self.lock:
            intent = self._intent_for_payment(payment_intent_id)
            charge = self._new_charge(intent, succeeded=False, failure_code=code)
            intent.update(
                status="requires_payment_method",
                latest_charge=charge["id"],
                payment_method=None,
                last_payment_error={
                    "type": "card_error",
                    "code": code,
                    "decline_code": decline_code,
                    "message": charge["failure_message"],
                    "charge": charge["id"],
                    "payment_method": {"id": charge["payment_method"], "type": "card"},
                },
            )
            return copy.deepcopy(intent)

    def dispute(self, payment_intent_id: str, reason: str = "fraudulent") -> Json:
        """The cardholder disputed the PaymentIntent's (succeeded) charge."""
        with self.lock:
            charge = self._succeeded_charge(payment_intent_id)
            dispute: Json = {
                "id": new_id("dp_"),
                "object": "dispute",
                "amount": charge["amount"],
                "balance_transactions": [],
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": charge["currency"],
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": payment_intent_id,
                "reason": reason,
                "status": "needs_response",
            }
            charge["disputed"] = True
            self.disputes[dispute["id"]] = dispute
            return copy.deepcopy(dispute)

    def refund(self, payment_intent_id: str, amount: int | None = None) -> Json:
        """A refund made elsewhere (the dashboard), by the same rules as the API."""
        with self.lock:
            params: Json = {"payment_intent": payment_intent_id}
            if amount is not None:
                params["amount"] = str(amount)
            return copy.deepcopy(self._create_refund(_Call(params, None)))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # --- webhooks --------------------------------------------------------------------

    def event(self, event_type: str, obj: Json, *, timestamp: int | None = None) -> Delivery:
        """A signed delivery of a new event about obj: (raw body, headers) to POST."""
        created = int(time.time()) if timestamp is None else timestamp
        event: Json = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": created,
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        with self.lock:
            self.events.append(event)
        # Stripe sends pretty-printed JSON; the signature covers these exact bytes.
        body = json.dumps(event, indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(body, timestamp=created),
        }
        return body, headers

    def event_for(self, payment_intent_id: str, event_type: str) -> Delivery:
        """An event carrying the current state of what it is about: the PaymentIntent
        (payment_intent.*), its latest charge (charge.*), latest dispute
        (charge.dispute.*) or latest refund (refund.*, charge.refund.*)."""
        with self.lock:
            intent = self._intent(payment_intent_id)
            obj: Json | None
            if event_type.startswith("payment_intent."):
                expected = EVENT_STATUSES.get(event_type)
                if expected is not None and intent["status"] != expected:
                    raise ValueError(f"{event_type} for a PaymentIntent that is {intent['status']}")
                obj = intent
            elif event_type.startswith("charge.dispute."):
                obj = self._latest(self.disputes, payment_intent_id)
            elif event_type.startswith(("refund.", "charge.refund.")):
                obj = self._latest(self.refunds, payment_intent_id)
            elif event_type.startswith("charge."):
                obj = self.charges.get(intent["latest_charge"] or "")
                if event_type == "charge.refunded" and obj and not obj["amount_refunded"]:
                    raise ValueError("charge.refunded for a charge with no refund")
            else:
                raise ValueError(f"no object for {event_type}")
            if obj is None:
                raise ValueError(f"{payment_intent_id} has nothing for {event_type}")
            return self.event(event_type, obj)

    # --- HTTP ------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        @quiet
        class StripeHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode() if length else query
                answer = fake._answer(
                    method,
                    path,
                    parse_form(raw),
                    authorization=self.headers.get("Authorization"),
                    idempotency_key=self.headers.get("Idempotency-Key"),
                    stripe_version=self.headers.get("Stripe-Version"),
                )
                if answer is None:
                    self.close_connection = True
                    return
                status, body, headers = answer
                send_json(self, status, body, {"Request-Id": new_id("req_", 14), **headers})

        return StripeHandler

    def _answer(
        self,
        method: str,
        path: str,
        params: Json,
        *,
        authorization: str | None,
        idempotency_key: str | None,
        stripe_version: str | None,
    ) -> Reply | None:
        """(status, body, headers) for a request, or None to drop the connection."""
        key = idempotency_key if method == "POST" else None
        with self.lock:
            outcome, replayed = self._outcome(
                method, path, params, authorization, key, stripe_version
            )
            self.requests.append(
                RecordedRequest(
                    method=method,
                    path=path,
                    params=params,
                    idempotency_key=key,
                    stripe_version=stripe_version,
                    status="disconnect" if outcome is None else outcome[0],
                    replayed=replayed,
                )
            )
        return outcome

    def _outcome(
        self,
        method: str,
        path: str,
        params: Json,
        authorization: str | None,
        key: str | None,
        stripe_version: str | None,
    ) -> tuple[Reply | None, bool]:
        if authorization != f"Bearer {SECRET_KEY}":
            return _error_reply(StripeApiError(401, "Invalid API Key provided.")), False
        failure = self._take_failure(method, path)
        if failure is not None and not failure.after_applying:
            return _failure_reply(failure), False
        reply, replayed = self._respond(method, path, params, key, stripe_version)
        if failure is not None:
            return _failure_reply(failure), replayed
        return reply, replayed

    def _respond(
        self, method: str, path: str, params: Json, key: str | None, stripe_version: str | None
    ) -> tuple[Reply, bool]:
        headers = {"Stripe-Version": stripe_version or API_VERSION}
        if key is not None:
            headers["Idempotency-Key"] = key
            stored = self._idempotent.get(key)
            if stored is not None:
                if (stored.method, stored.path, stored.params) != (method, path, params):
                    error = StripeApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters"
                        f" they were first used with. Try using a key other than '{key}' if you"
                        " meant to execute a different request.",
                        error_type="idempotency_error",
                    )
                    return _error_reply(error), False
                replay = {**headers, "Idempotent-Replayed": "true"}
                return (stored.status, stored.body, replay), True
        status, body, keep = self._dispatch(method, path, params, stripe_version)
        if key is not None and keep:
            self._idempotent[key] = _Stored(method, path, params, status, body)
        return (status, body, headers), False

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if path.startswith(failure.path_prefix) and failure.method in (None, method):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _dispatch(
        self, method: str, path: str, params: Json, stripe_version: str | None
    ) -> tuple[int, bytes, bool]:
        for route_method, pattern, handle in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                try:
                    result = handle(_Call(params, stripe_version, *match.groups()))
                except StripeApiError as exc:
                    return exc.status, json.dumps({"error": exc.body}).encode(), exc.stored
                return 200, json.dumps(result).encode(), True
        error = StripeApiError(404, f"Unrecognized request URL ({method}: {path}).")
        return error.status, json.dumps({"error": error.body}).encode(), False

    # --- endpoints (called with the lock held) ----------------------------------------

    def _create_customer(self, call: _Call) -> Json:
        params = call.params
        _check_params(params, {"description", "email", "metadata", "name", "phone"})
        customer: Json = {
            "id": new_id("cus_", 14),
            "object": "customer",
            "balance": 0,
            "created": int(time.time()),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_settings": {"default_payment_method": None},
            "livemode": False,
            "metadata": _metadata(params),
            "name": params.get("name"),
            "phone": params.get("phone"),
        }
        self.customers[customer["id"]] = customer
        return customer

    def _create_payment_intent(self, call: _Call) -> Json:
        params = call.params
        _check_params(
            params,
            {
                "amount",
                "automatic_payment_methods",
                "capture_method",
                "currency",
                "customer",
                "description",
                "metadata",
                "payment_method_types",
                "receipt_email",
                "setup_future_usage",
                "statement_descriptor_suffix",
            },
        )
        amount = _integer(params, "amount")
        if amount is None:
            raise _missing("amount")
        currency = str(params.get("currency", "")).lower()
        if not currency:
            raise _missing("currency")
        minimum = MINIMUM_AMOUNTS.get(currency, 1)
        if amount < minimum:
            raise StripeApiError(
                400,
                f"Amount must be at least {minimum} in the currency's smallest unit",
                code="amount_too_small",
                param="amount",
            )
        customer = params.get("customer")
        if customer is not None and customer not in self.customers:
            raise _no_such("customer", customer, "customer")
        automatic = params.get("automatic_payment_methods")
        automatic_enabled = isinstance(automatic, dict) and automatic.get("enabled") == "true"
        intent_id = new_id("pi_")
        intent: Json = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application_fee_amount": None,
            "automatic_payment_methods": (
                {"allow_redirects": "always", "enabled": True} if automatic_enabled else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": params.get("capture_method", "automatic_async"),
            "client_secret": f"{intent_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": currency,
            "customer": customer,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": _metadata(params),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_types": (
                ["card", "link"]
                if automatic_enabled
                else params.get("payment_method_types", ["card"])
            ),
            "processing": None,
            "receipt_email": params.get("receipt_email"),
            "setup_future_usage": params.get("setup_future_usage"),
            "status": "requires_payment_method",
        }
        self.payment_intents[intent_id] = intent
        return intent

    def _get_payment_intent(self, call: _Call) -> Json:
        _check_params(call.params, {"client_secret"})
        return self._intent(call.object_id)

    def _cancel(self, call: _Call) -> Json:
        _check_params(call.params, {"cancellation_reason"})
        intent = self._intent(call.object_id)
        reason = call.params.get("cancellation_reason")
        if reason is not None and reason not in CANCELLATION_REASONS:
            raise StripeApiError(
                400,
                f"Invalid cancellation_reason: must be one of {sorted(CANCELLATION_REASONS)}",
                code="parameter_invalid_string",
                param="cancellation_reason",
            )
        if intent["status"] not in CANCELABLE:
            raise StripeApiError(
                400,
                "You cannot cancel this PaymentIntent because it has a status of"
                f" {intent['status']}. Only a PaymentIntent with one of the following"
                " statuses may be canceled: requires_payment_method, requires_capture,"
                " requires_confirmation, requires_action, processing.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": copy.deepcopy(intent)},
            )
        intent.update(status="canceled", canceled_at=int(time.time()), cancellation_reason=reason)
        return intent

    def _create_ephemeral_key(self, call: _Call) -> Json:
        if not call.stripe_version:
            raise StripeApiError(
                400, "Stripe-Version header is required to create an ephemeral key."
            )
        _check_params(call.params, {"customer"})
        customer = call.params.get("customer")
        if customer is None:
            raise _missing("customer")
        if customer not in self.customers:
            raise _no_such("customer", customer, "customer")
        created = int(time.time())
        key: Json = {
            "id": new_id("ephkey_"),
            "object": "ephemeral_key",
            "associated_objects": [{"id": customer, "type": "customer"}],
            "created": created,
            "expires": created + 3600,
            "livemode": False,
            "secret": new_id("ek_test_", 80),
            "stripe_version": call.stripe_version,
        }
        self.ephemeral_keys[key["id"]] = key
        return {name: value for name, value in key.items() if name != "stripe_version"}

    def _create_refund(self, call: _Call) -> Json:
        params = call.params
        _check_params(params, {"amount", "charge", "metadata", "payment_intent", "reason"})
        intent_id = params.get("payment_intent")
        if intent_id is not None:
            intent = self._intent(intent_id, param="payment_intent")
            charge = self.charges.get(intent["latest_charge"] or "")
            if intent["status"] != "succeeded" or charge is None:
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge"
                    " to refund.",
                    code="payment_intent_unexpected_state",
                    param="payment_intent",
                )
        elif "charge" in params:
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise _no_such("charge", params["charge"], "charge")
        else:
            raise _missing("charge")
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeApiError(
                400, "Invalid reason", code="parameter_invalid_string", param="reason"
            )
        if charge["disputed"]:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _integer(params, "amount")
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge"
                f" ({remaining})",
                code="amount_too_large",
                param="amount",
            )
        refund: Json = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": _metadata(params),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
        }
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        self.refunds[refund["id"]] = refund
        return refund

    def _get_refund(self, call: _Call) -> Json:
        _check_params(call.params, set())
        refund = self.refunds.get(call.object_id)
        if refund is None:
            raise _no_such("refund", call.object_id, "id")
        return refund

    # --- helpers (lock held) ---------------------------------------------------------

    def _intent(self, intent_id: str, *, param: str = "intent") -> Json:
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            raise _no_such("payment_intent", intent_id, param)
        return intent

    def _intent_for_payment(self, intent_id: str) -> Json:
        intent = self.payment_intents[intent_id]
        if intent["status"] not in PAYABLE:
            raise ValueError(f"{intent_id} is {intent['status']}: it cannot be paid")
        return intent

    def _succeeded_charge(self, intent_id: str) -> Json:
        intent = self.payment_intents[intent_id]
        charge = self.charges.get(intent["latest_charge"] or "")
        if intent["status"] != "succeeded" or charge is None:
            raise ValueError(f"{intent_id} has no succeeded charge")
        return charge

    def _new_charge(
        self, intent: Json, *, succeeded: bool, failure_code: str | None = None
    ) -> Json:
        amount = intent["amount"]
        charge: Json = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount if succeeded else 0,
            "amount_refunded": 0,
            "balance_transaction": new_id("txn_") if succeeded else None,
            "captured": succeeded,
            "created": int(time.time()),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_code": failure_code,
            "failure_message": None if succeeded else "Your card was declined.",
            "livemode": False,
            "metadata": copy.deepcopy(intent["metadata"]),
            "outcome": {
                "network_status": "approved_by_network" if succeeded else "declined_by_network",
                "type": "authorized" if succeeded else "issuer_declined",
            },
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": new_id("pm_"),
            "refunded": False,
            "status": "succeeded" if succeeded else "failed",
        }
        self.charges[charge["id"]] = charge
        return charge

    @staticmethod
    def _latest(objects: dict[str, Json], intent_id: str) -> Json | None:
        matching = [obj for obj in objects.values() if obj["payment_intent"] == intent_id]
        return matching[-1] if matching else None


def _error_reply(error: StripeApiError) -> Reply:
    return error.status, json.dumps({"error": error.body}).encode(), {}


def _failure_reply(failure: _Failure) -> Reply | None:
    if failure.status == "disconnect":
        return None
    if failure.status == 429:
        error = StripeApiError(429, "Too many requests (injected).", code="rate_limit")
    else:
        error = StripeApiError(
            failure.status, "An unknown error occurred (injected).", error_type="api_error"
        )
    return _error_reply(error)
