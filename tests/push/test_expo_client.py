"""The Expo client against a fake Expo server, through the real SDK."""

from __future__ import annotations

import socket
import unicodedata
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fakes.expo import FakeExpo
from fakes.http import serve

from workers.push.expo import (
    MAX_PAYLOAD_BYTES,
    ExpoClient,
    PushMessage,
    PushRejected,
    PushUnavailable,
    payload_bytes,
    trim,
)

ACCESS_TOKEN = "expo-access-token-for-tests"
ALICE = "ExponentPushToken[alice0000000000000000]"
BOB = "ExpoPushToken[bob000000000000000000000]"


def message(
    token: str = ALICE,
    body: str = "You're invited",
    *,
    badge: int | None = None,
    sound: str | None = "default",
    channel_id: str | None = None,
) -> PushMessage:
    return PushMessage(
        token=token,
        title="Momento",
        body=body,
        data={"notification_id": "n-1"},
        badge=badge,
        sound=sound,
        channel_id=channel_id,
    )


@pytest.fixture
def fake() -> FakeExpo:
    return FakeExpo(access_token=ACCESS_TOKEN)


@pytest.fixture
def expo_url(fake: FakeExpo) -> Iterator[str]:
    with serve(fake.handler()) as url:
        yield url


@pytest.fixture
async def client(expo_url: str) -> AsyncIterator[ExpoClient]:
    # Short backoff: the tests check what is retried, not how long it waits.
    expo = ExpoClient(
        access_token=ACCESS_TOKEN, host=expo_url, max_attempts=3, base_delay=0.01, max_delay=0.05
    )
    yield expo
    await expo.aclose()


def statuses(fake: FakeExpo) -> list[object]:
    return [request.status for request in fake.requests]


async def test_a_batch_is_sent_and_every_ticket_read(fake: FakeExpo, client: ExpoClient) -> None:
    sent = [
        message(ALICE, badge=3, channel_id="invitations"),
        message(BOB, body="Your seat is confirmed", sound=None),
    ]

    tickets = await client.send(sent)

    assert [t.token for t in tickets] == [ALICE, BOB]
    assert all(t.ok and t.error is None for t in tickets)
    assert [t.ticket_id for t in tickets] == [m.ticket_id for m in fake.messages]
    alice, bob = (m.message for m in fake.messages)
    assert alice == {
        "to": ALICE,
        "title": "Momento",
        "body": "You're invited",
        "data": {"notification_id": "n-1"},
        "sound": "default",
        "badge": 3,
        "channelId": "invitations",
    }
    assert bob["body"] == "Your seat is confirmed"
    assert "sound" not in bob


async def test_the_access_token_goes_as_a_bearer_header(fake: FakeExpo, client: ExpoClient) -> None:
    await client.send([message()])
    await client.receipts(["some-ticket"])

    assert [r.authorization for r in fake.requests] == [f"Bearer {ACCESS_TOKEN}"] * 2


async def test_more_than_100_messages_are_refused_before_sending(
    fake: FakeExpo, client: ExpoClient
) -> None:
    with pytest.raises(ValueError, match="100"):
        await client.send([message()] * 101)
    assert fake.requests == []


async def test_429_then_200_delivers_once_after_backoff(fake: FakeExpo, client: ExpoClient) -> None:
    fake.fail_next(429, retry_after=0)

    tickets = await client.send([message()])

    assert tickets[0].ok
    assert statuses(fake) == [429, 200]
    assert len(fake.sent_to(ALICE)) == 1


async def test_a_retry_after_longer_than_the_backoff_goes_back_to_the_caller(
    fake: FakeExpo, client: ExpoClient
) -> None:
    fake.fail_next(429, retry_after=120)

    with pytest.raises(PushUnavailable) as caught:
        await client.send([message()])

    assert caught.value.retry_after == 120
    assert statuses(fake) == [429]


async def test_5xx_is_retried_until_it_works(fake: FakeExpo, client: ExpoClient) -> None:
    fake.fail_next(500, count=2)

    tickets = await client.send([message()])

    assert tickets[0].ok
    assert statuses(fake) == [500, 500, 200]
    assert len(fake.sent_to(ALICE)) == 1


async def test_failing_every_attempt_raises_push_unavailable(
    fake: FakeExpo, client: ExpoClient
) -> None:
    fake.fail_next(503, count=3)

    with pytest.raises(PushUnavailable):
        await client.send([message()])

    assert statuses(fake) == [503, 503, 503]
    assert fake.messages == []


async def test_a_dropped_connection_is_retried(fake: FakeExpo, client: ExpoClient) -> None:
    fake.fail_next("disconnect")

    tickets = await client.send([message()])

    assert tickets[0].ok
    assert statuses(fake) == ["disconnect", 200]


async def test_connection_refused_raises_push_unavailable_after_max_attempts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    expo = ExpoClient(
        access_token=None, host=f"http://127.0.0.1:{port}", max_attempts=3, base_delay=0.01
    )
    try:
        with pytest.raises(PushUnavailable, match="failed 3 times"):
            await expo.send([message()])
    finally:
        await expo.aclose()


async def test_400_is_rejected_without_a_retry(fake: FakeExpo, client: ExpoClient) -> None:
    fake.fail_next(400)

    with pytest.raises(PushRejected) as caught:
        await client.send([message()])

    assert (caught.value.status, caught.value.code) == (400, "VALIDATION_ERROR")
    assert statuses(fake) == [400]


async def test_a_wrong_access_token_is_rejected_and_logged_loudly(
    fake: FakeExpo, expo_url: str, logs: list[dict[str, Any]]
) -> None:
    expo = ExpoClient(access_token="not-the-token", host=expo_url, base_delay=0.01)
    try:
        with pytest.raises(PushRejected) as caught:
            await expo.send([message()])
    finally:
        await expo.aclose()

    assert caught.value.status == 401
    assert statuses(fake) == [401]
    errors = [log for log in logs if log["log_level"] == "error"]
    assert len(errors) == 1
    assert "EXPO_ACCESS_TOKEN" in errors[0]["event"]


async def test_an_unregistered_device_comes_back_as_a_failed_ticket(
    fake: FakeExpo, client: ExpoClient
) -> None:
    fake.device_not_registered(BOB)

    alice, bob = await client.send([message(ALICE), message(BOB)])

    assert alice.ok
    assert not bob.ok
    assert bob.error == "DeviceNotRegistered"
    assert bob.ticket_id is None
    assert bob.message is not None
    assert len(fake.sent_to(ALICE)) == 1
    assert fake.sent_to(BOB) == []


async def test_receipts_carry_their_errors(fake: FakeExpo, client: ExpoClient) -> None:
    alice, bob = await client.send([message(ALICE), message(BOB)])
    fake.fail_receipts(BOB)
    assert alice.ticket_id is not None
    assert bob.ticket_id is not None

    receipts = await client.receipts([alice.ticket_id, bob.ticket_id, "unknown-ticket"])

    assert receipts[alice.ticket_id].ok
    assert not receipts[bob.ticket_id].ok
    assert receipts[bob.ticket_id].error == "DeviceNotRegistered"
    # Expo leaves out tickets it has no receipt for (yet).
    assert "unknown-ticket" not in receipts


async def test_a_trimmed_message_fits_where_the_long_one_did_not(
    fake: FakeExpo, client: ExpoClient
) -> None:
    # Two-, three- and four-byte characters, and a letter with a combining accent.
    long_body = "Café 日本 👍🏽 e\u0301 " * 400
    long = message(body=long_body)
    assert payload_bytes(long) > MAX_PAYLOAD_BYTES

    [refused] = await client.send([long])
    assert refused.error == "MessageTooBig"

    short = trim(long)
    assert payload_bytes(short) <= MAX_PAYLOAD_BYTES
    assert short.body.endswith("…")
    kept = short.body.removesuffix("…")
    assert long_body.startswith(kept)
    assert not unicodedata.combining(long_body[len(kept)])
    assert (short.title, short.data, short.token) == (long.title, long.data, long.token)

    [accepted] = await client.send([short])
    assert accepted.ok
    assert fake.sent_to(ALICE)[0]["body"] == short.body


def test_trim_never_separates_a_letter_from_its_accent() -> None:
    long_body = "e\u0301" * 3000
    kept = trim(message(body=long_body)).body.removesuffix("…")
    assert kept and len(kept) % 2 == 0


def test_trim_leaves_a_message_that_fits_alone() -> None:
    short = message(body="See you at 7")
    assert trim(short) is short
