"""The Stripe gateway through the real `stripe` client, against the local fake Stripe."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from fakes.http import serve
from fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, sign

from server.payments.gateway import (
    API_VERSION,
    AlreadyRefunded,
    GatewayRejected,
    GatewayUnavailable,
    InvalidWebhook,
    PaymentIntent,
    StripeGateway,
)

PI_PATH = "/v1/payment_intents"

# stripe's httpx transport passes its encoded body as `data=`, which httpx deprecates.


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def fake_url(fake: FakeStripe) -> Iterator[str]:
    with serve(fake.handler()) as url:
        yield url


@pytest.fixture
async def gateway(fake_url: str) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, api_base=fake_url)
    yield gateway
    await gateway.aclose()


async def _intent(gateway: StripeGateway, key: str = "accept:1") -> PaymentIntent:
    user_id = uuid.uuid5(uuid.NAMESPACE_URL, key)
    customer = await gateway.create_customer(user_id=user_id, idempotency_key=f"c:{key}")
    return await gateway.create_payment_intent(
        amount=1500,
        currency="usd",
        customer_id=customer,
        metadata={"invitation_id": "inv-1", "event_id": "ev-1"},
        idempotency_key=key,
    )


async def test_customer_payment_intent_and_ephemeral_key_for_the_payment_sheet(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    user_id = uuid.uuid4()
    customer = await gateway.create_customer(user_id=user_id, idempotency_key="customer:1")
    assert customer.startswith("cus_")
    assert fake.customers[customer]["metadata"] == {"user_id": str(user_id)}

    intent = await gateway.create_payment_intent(
        amount=2500,
        currency="usd",
        customer_id=customer,
        metadata={"invitation_id": "inv-1"},
        idempotency_key="accept:inv-1",
    )
    assert intent.id.startswith("pi_")
    assert intent.client_secret is not None
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.status == "requires_payment_method"
    assert (intent.amount, intent.currency) == (2500, "usd")
    assert (intent.customer, intent.latest_charge, intent.amount_received) == (customer, None, 0)
    assert intent.metadata == {"invitation_id": "inv-1"}
    [sent] = fake.requests_to("POST", PI_PATH)
    assert sent.idempotency_key == "accept:inv-1"
    assert sent.params["automatic_payment_methods"] == {"enabled": "true"}
    assert sent.params["metadata"] == {"invitation_id": "inv-1"}

    secret = await gateway.create_ephemeral_key(customer_id=customer)
    [key] = fake.ephemeral_keys.values()
    assert secret == key["secret"]
    assert key["associated_objects"] == [{"id": customer, "type": "customer"}]
    assert key["stripe_version"] == API_VERSION


async def test_same_idempotency_key_replays_the_payment_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    first = await _intent(gateway, "accept:inv-2")
    again = await _intent(gateway, "accept:inv-2")
    assert again == first
    assert len(fake.payment_intents) == 1
    assert [r.replayed for r in fake.requests_to("POST", PI_PATH)] == [False, True]

    # Concurrent requests with one key (two processes retrying the same accept).
    customer = first.customer or ""
    together = await asyncio.gather(
        *(
            gateway.create_payment_intent(
                amount=700,
                currency="usd",
                customer_id=customer,
                metadata={},
                idempotency_key="accept:inv-3",
            )
            for _ in range(10)
        )
    )
    assert len({intent.id for intent in together}) == 1
    assert len(fake.payment_intents) == 2

    with pytest.raises(GatewayRejected) as refused:
        await gateway.create_payment_intent(
            amount=9900,
            currency="usd",
            customer_id=customer,
            metadata={},
            idempotency_key="accept:inv-2",
        )
    assert refused.value.error_type == "idempotency_error"
    assert refused.value.http_status == 400
    assert len(fake.payment_intents) == 2


async def test_retrieve_and_cancel(gateway: StripeGateway, fake: FakeStripe) -> None:
    intent = await _intent(gateway)
    assert await gateway.retrieve_payment_intent(intent.id) == intent
    fake.succeed(intent.id)
    paid = await gateway.retrieve_payment_intent(intent.id)
    assert (paid.status, paid.amount_received) == ("succeeded", 1500)
    assert paid.latest_charge in fake.charges

    # Past cancelling: its state, not an error.
    assert await gateway.cancel_payment_intent(intent.id) == paid

    other = await _intent(gateway, "accept:2")
    canceled = await gateway.cancel_payment_intent(other.id)
    assert canceled.status == "canceled"
    assert await gateway.cancel_payment_intent(other.id) == canceled

    with pytest.raises(GatewayRejected) as missing:
        await gateway.retrieve_payment_intent("pi_unknown")
    assert (missing.value.code, missing.value.http_status) == ("resource_missing", 404)


async def test_a_bad_secret_key_is_rejected(fake_url: str) -> None:
    gateway = StripeGateway(secret_key="sk_test_wrong", webhook_secret="x", api_base=fake_url)
    with pytest.raises(GatewayRejected) as refused:
        await gateway.create_customer(user_id=uuid.uuid4(), idempotency_key="k")
    assert refused.value.http_status == 401
    assert "sk_test_wrong" not in str(refused.value)
    await gateway.aclose()


async def test_refund_once(gateway: StripeGateway, fake: FakeStripe) -> None:
    intent = await _intent(gateway)
    with pytest.raises(GatewayRejected) as unpaid:
        await gateway.create_refund(
            payment_intent_id=intent.id, idempotency_key="refund:0", metadata={}
        )
    assert unpaid.value.code == "payment_intent_unexpected_state"

    fake.succeed(intent.id)
    refund = await gateway.create_refund(
        payment_intent_id=intent.id, idempotency_key="refund:1", metadata={"reason": "host"}
    )
    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 1500, "usd")
    again = await gateway.create_refund(
        payment_intent_id=intent.id, idempotency_key="refund:1", metadata={"reason": "host"}
    )
    assert again == refund
    assert len(fake.refunds) == 1
    assert fake.refunds[refund.id]["metadata"] == {"reason": "host"}

    with pytest.raises(AlreadyRefunded) as done:
        await gateway.create_refund(
            payment_intent_id=intent.id, idempotency_key="refund:2", metadata={}
        )
    assert done.value.code == "charge_already_refunded"
    assert len(fake.refunds) == 1


async def test_webhooks_are_parsed_once_their_signature_holds(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    intent = await _intent(gateway)
    fake.succeed(intent.id)
    body, headers = fake.event_for(intent.id, "payment_intent.succeeded")
    event = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert event.id.startswith("evt_")
    assert event.id == fake.events[-1]["id"]
    assert event.type == "payment_intent.succeeded"
    assert event.object["status"] == "succeeded"
    assert event.payment_intent_id == intent.id
    assert event.charge_id == event.object["latest_charge"]

    fake.dispute(intent.id)
    body, headers = fake.event_for(intent.id, "charge.dispute.created")
    dispute = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert dispute.object["object"] == "dispute"
    assert (dispute.payment_intent_id, dispute.charge_id) == (intent.id, event.charge_id)

    other = await _intent(gateway, "accept:2")
    fake.succeed(other.id)
    fake.refund(other.id)
    body, headers = fake.event_for(other.id, "charge.refunded")
    refunded = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert refunded.object["object"] == "charge"
    assert refunded.object["refunded"] is True
    assert refunded.payment_intent_id == other.id
    assert refunded.charge_id == refunded.object["id"]


async def test_webhooks_without_a_valid_signature_are_refused(
    gateway: StripeGateway, fake: FakeStripe, fake_url: str
) -> None:
    canceled = {"object": "payment_intent", "id": "pi_1"}
    body, headers = fake.event("payment_intent.canceled", canceled)
    signature = headers["Stripe-Signature"]
    assert gateway.parse_webhook(body, signature).payment_intent_id == "pi_1"

    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(body.replace(b"pi_1", b"pi_2"), signature)
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(body, None)
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(body, "")
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(body, "garbage")
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(body, sign(body, secret="whsec_someone_else"))
    old_body, old_headers = fake.event(
        "payment_intent.canceled", {"object": "payment_intent"}, timestamp=int(time.time()) - 301
    )
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(old_body, old_headers["Stripe-Signature"])
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(b"not json", sign(b"not json"))
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(b"\xff\xfe", sign(b"\xff\xfe"))
    other = StripeGateway(secret_key=SECRET_KEY, webhook_secret="whsec_other", api_base=fake_url)
    with pytest.raises(InvalidWebhook):
        other.parse_webhook(body, signature)
    await other.aclose()


async def test_a_5xx_is_retried_by_the_client(gateway: StripeGateway, fake: FakeStripe) -> None:
    fake.fail_next(PI_PATH, 500, method="POST")
    intent = await _intent(gateway)
    attempts = fake.requests_to("POST", PI_PATH)
    assert [a.status for a in attempts] == [500, 200]
    assert attempts[0].idempotency_key == attempts[1].idempotency_key == "accept:1"
    assert list(fake.payment_intents) == [intent.id]


async def test_persistent_5xx_and_429_are_unavailable(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(PI_PATH, 503, times=3)
    with pytest.raises(GatewayUnavailable) as failed:
        await _intent(gateway)
    assert failed.value.http_status == 503
    assert len(fake.requests_to("POST", PI_PATH)) == 3  # the first try and two retries
    assert fake.payment_intents == {}

    fake.fail_next("/v1/customers", 429)
    with pytest.raises(GatewayUnavailable) as limited:
        await gateway.create_customer(user_id=uuid.uuid4(), idempotency_key="c:429")
    assert (limited.value.http_status, limited.value.code) == (429, "rate_limit")


async def test_lost_responses_never_make_a_second_payment_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    # Dropped before Stripe saw it: the client's retry creates it.
    fake.fail_next(PI_PATH, "disconnect", method="POST")
    first = await _intent(gateway, "accept:a")
    assert [a.status for a in fake.requests_to("POST", PI_PATH)] == ["disconnect", 200]

    # Applied, then the response lost: the client's retry gets the stored answer.
    fake.fail_next(PI_PATH, "disconnect", method="POST", after_applying=True)
    second = await _intent(gateway, "accept:b")
    assert [a.replayed for a in fake.requests_to("POST", PI_PATH)[2:]] == [False, True]
    assert set(fake.payment_intents) == {first.id, second.id}

    # Every answer lost: unavailable; the caller's later retry with the same key
    # gets the PaymentIntent the first attempt made.
    fake.fail_next(PI_PATH, "disconnect", method="POST", after_applying=True, times=3)
    with pytest.raises(GatewayUnavailable):
        await _intent(gateway, "accept:c")
    assert len(fake.payment_intents) == 3
    third = await _intent(gateway, "accept:c")
    assert len(fake.payment_intents) == 3
    assert third.id in fake.payment_intents
