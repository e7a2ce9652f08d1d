"""notify() and the push worker: what is committed is delivered, once per
device after the app's dedupe, on every channel the user allows; what rolls
back is never sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest
from builders import Kit
from fakes import twilio
from fakes.expo import FakeExpo
from helpers import bearer
from litestar.testing import AsyncTestClient
from notifications.steps import deliver, user_id, with_token
from redis.asyncio import Redis

from db.pool import create_pool
from realtime.fanout import Delivery, RedisFanout
from realtime.presence import RedisPresence
from server.notifications.notify import notify
from server.settings import Settings
from workers.push.receipts import RECEIPT_DELAY, check_receipts
from workers.push.runtime import PushRuntime
from workers.push.sender import PushSender

Client = AsyncTestClient[Any]

INVITED = {"event_id": uuid.uuid4(), "invitation_id": uuid.uuid4(), "event_title": "Supper Club"}


def notification_ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["data"]["notification_id"] for m in messages]


async def outbox(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM notification_deliveries")
    return count


async def test_rolled_back_sends_nothing_committed_sends_once(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)

    async def failing_change() -> None:
        async with db_conn.transaction():
            await notify(db_conn, user_id(guest), "invitation_received", INVITED)
            raise RuntimeError("the business change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await deliver(push) == 0
    assert await db_conn.fetchval("SELECT count(*) FROM notifications") == 0

    async with db_conn.transaction():
        sent = await notify(db_conn, user_id(guest), "invitation_received", INVITED)
    assert await deliver(push) == 1
    assert await deliver(push) == 0  # nothing left to send again
    [message] = expo.sent_to(token)
    assert message["title"] == "You're invited: Supper Club"
    assert message["data"]["notification_id"] == str(sent)
    assert message["data"]["event_id"] == str(INVITED["event_id"])
    assert "event_title" not in message["data"]  # ids only: the copy is in the inbox
    assert message["badge"] == 1  # the unread inbox entry
    assert await outbox(db_conn) == 0
    ticket = await db_conn.fetchrow("SELECT token, status, ticket_id FROM push_tickets")
    assert (ticket["token"], ticket["status"]) == (token, "ok")
    assert ticket["ticket_id"]


class DiesBeforeRecording(PushSender):
    """A worker killed after Expo accepted the batch and before it wrote anything."""

    async def _record(self, *args: Any) -> None:
        raise asyncio.CancelledError


async def test_worker_dying_after_sending_is_deduped_by_notification_id(
    kit: Kit,
    client: Client,
    db_conn: asyncpg.Connection,
    push: PushRuntime,
    expo: FakeExpo,
    settings: Settings,
    redis: Redis,
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)
    sent = await notify(db_conn, user_id(guest), "invitation_received", INVITED)

    dying = DiesBeforeRecording(
        push.sender._pool,
        push.expo,
        push.sender._gate,
        push.texts,
        RedisFanout(redis, settings.redis_key_prefix),
        redis,
        key_prefix=settings.redis_key_prefix,
        concurrency=1,
        sms_per_day=3,
    )
    with pytest.raises(asyncio.CancelledError):
        await dying.deliver_due()
    assert len(expo.sent_to(token)) == 1
    # Still leased: another worker leaves it alone until the lease runs out.
    assert await deliver(push) == 0
    await db_conn.execute("UPDATE notification_deliveries SET available_at = now()")
    assert await deliver(push) == 1

    # Expo got it twice; the app shows each notification_id once.
    ids = notification_ids(expo.sent_to(token))
    assert ids == [str(sent), str(sent)]
    assert len(set(ids)) == 1
    assert await outbox(db_conn) == 0


async def test_429_then_200_is_delivered_once_after_backoff(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)
    expo.fail_next(429, retry_after=0)
    await notify(db_conn, user_id(guest), "invitation_received", INVITED)
    await deliver(push)
    assert [r.status for r in expo.requests] == [429, 200]
    assert len(expo.sent_to(token)) == 1
    assert await outbox(db_conn) == 0


async def test_expo_down_keeps_the_notification_for_a_later_retry(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)
    expo.fail_next(503, count=100)
    await notify(db_conn, user_id(guest), "invitation_received", INVITED)
    assert await deliver(push) == 1
    assert expo.sent_to(token) == []
    row = await db_conn.fetchrow(
        "SELECT attempts, available_at > now() AS later FROM notification_deliveries"
    )
    assert (row["attempts"], row["later"]) == (1, True)

    with expo.lock:
        expo._failures.clear()
    await db_conn.execute("UPDATE notification_deliveries SET available_at = now()")
    assert await deliver(push) == 1
    assert len(expo.sent_to(token)) == 1
    assert await outbox(db_conn) == 0


async def test_a_refused_batch_is_not_retried(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    await with_token(client, guest)
    expo.fail_next(400)
    await notify(db_conn, user_id(guest), "invitation_received", INVITED)
    await deliver(push)
    assert [r.status for r in expo.requests] == [400]
    assert await outbox(db_conn) == 0


async def test_device_not_registered_in_a_receipt_deactivates_the_token(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)
    expo.fail_receipts(token)
    await notify(db_conn, user_id(guest), "invitation_received", INVITED)
    await deliver(push)
    assert len(expo.sent_to(token)) == 1

    # Receipts are only asked for once they are due.
    now = dt.datetime.now(dt.UTC)
    assert await check_receipts(push.sender._pool, push.expo, now) == 0
    assert await check_receipts(push.sender._pool, push.expo, now + RECEIPT_DELAY) == 1
    active = await db_conn.fetchval(
        "SELECT is_active FROM push_notification_tokens WHERE token = $1", token
    )
    assert active is False
    receipt = await db_conn.fetchrow("SELECT receipt_status, receipt_error FROM push_tickets")
    assert tuple(receipt) == ("error", "DeviceNotRegistered")

    await notify(db_conn, user_id(guest), "payment_succeeded", INVITED)
    await deliver(push)
    assert len(expo.sent_to(token)) == 1  # nothing more to the dead device


async def test_device_not_registered_ticket_deactivates_the_token(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    dead = await with_token(client, guest)
    expo.device_not_registered(dead)
    await notify(db_conn, user_id(guest), "payment_succeeded", INVITED)
    await deliver(push)
    active = await db_conn.fetchval(
        "SELECT is_active FROM push_notification_tokens WHERE token = $1", dead
    )
    assert active is False
    assert await outbox(db_conn) == 0


async def test_message_too_big_is_trimmed_and_sent(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)
    long_reason = "We think you'd love this. " * 300
    await notify(
        db_conn,
        user_id(guest),
        "invitation_received",
        {**INVITED, "match_reason": long_reason},
    )
    await deliver(push)
    [message] = expo.sent_to(token)
    assert message["body"].endswith("…")
    assert message["data"]["notification_id"]


async def test_switched_off_category_writes_the_inbox_but_does_not_push(
    kit: Kit, client: Client, db_conn: asyncpg.Connection, push: PushRuntime, expo: FakeExpo
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)
    r = await client.patch(
        "/v1/me/notification-settings",
        headers=bearer(guest),
        json={"categories": {"payments": {"push_enabled": False}}},
    )
    assert r.status_code == 200, r.text
    await notify(db_conn, user_id(guest), "payment_succeeded", INVITED)
    await notify(db_conn, user_id(guest), "invitation_received", INVITED)
    await deliver(push)
    assert [m["data"]["kind"] for m in expo.sent_to(token)] == ["invitation_received"]
    inbox = (await client.get("/v1/me/notifications", headers=bearer(guest))).json()
    assert sorted(i["kind"] for i in inbox["items"]) == [
        "invitation_received",
        "payment_succeeded",
    ]


async def test_direct_message_is_not_pushed_while_its_conversation_is_watched(
    kit: Kit,
    client: Client,
    db_conn: asyncpg.Connection,
    push: PushRuntime,
    expo: FakeExpo,
    settings: Settings,
    redis: Redis,
) -> None:
    guest = await kit.person()
    token = await with_token(client, guest)
    watched, other = uuid.uuid4(), uuid.uuid4()
    presence = RedisPresence(redis, settings.redis_key_prefix, ttl_seconds=30)
    await presence.add(user_id(guest), f"conversation:{watched}")

    for conversation in (watched, other):
        await notify(
            db_conn,
            user_id(guest),
            "direct_message",
            {"conversation_id": conversation, "sender_name": "Bo", "preview": "hi"},
        )
    await deliver(push)
    pushed = [m["data"]["conversation_id"] for m in expo.sent_to(token)]
    assert pushed == [str(other)]
    await presence.clear()


async def test_live_frames_reach_the_users_connections_every_one(
    kit: Kit, db_conn: asyncpg.Connection, push: PushRuntime, settings: Settings, redis: Redis
) -> None:
    """More than a round's worth of Redis connections: none is dropped."""
    guest = await kit.person()
    got: list[Delivery] = []

    class Listener:
        def deliver(self, channel: str, delivery: Delivery) -> None:
            got.append(delivery)

        def resync(self, channel: str) -> None:
            """Nothing to catch up in this test."""

    web = RedisFanout(redis, settings.redis_key_prefix)  # a web process's fan-out
    await web.start()
    await web.listen(f"user:{guest['user_id']}", Listener())
    sent = [await notify(db_conn, user_id(guest), "payment_succeeded", INVITED) for _ in range(150)]
    await deliver(push)
    for _ in range(200):
        if len(got) >= len(sent):
            break
        await asyncio.sleep(0.02)
    await web.stop()
    assert len(got) == len(sent)
    assert f'"notification_id":"{sent[0]}"' in got[0].frame
    assert got[0].frame.startswith('{"type":"notification"')


async def test_sms_fallback_for_invitations_without_a_push_token_is_capped(
    kit: Kit,
    db_conn: asyncpg.Connection,
    push: PushRuntime,
    texts: twilio.FakeTwilioState,
    settings: Settings,
) -> None:
    guest = await kit.person()
    for _ in range(settings.sms_notifications_per_day + 2):
        await notify(
            db_conn, user_id(guest), "invitation_received", {**INVITED, "event_id": uuid.uuid4()}
        )
    # Payments never go by SMS.
    await notify(db_conn, user_id(guest), "payment_succeeded", INVITED)
    await deliver(push)
    phone = await db_conn.fetchval("SELECT phone_number FROM users WHERE id = $1", user_id(guest))
    assert [to for to, _ in texts.texts] == [phone] * settings.sms_notifications_per_day
    assert texts.texts[0][1].startswith("Momento: You're invited: Supper Club.")
    assert await outbox(db_conn) == 0


async def test_sms_switched_off_sends_no_text(
    kit: Kit,
    client: Client,
    db_conn: asyncpg.Connection,
    push: PushRuntime,
    texts: twilio.FakeTwilioState,
) -> None:
    guest = await kit.person()
    r = await client.patch(
        "/v1/me/notification-settings",
        headers=bearer(guest),
        json={"categories": {"invitations": {"sms_enabled": False}}},
    )
    assert r.status_code == 200, r.text
    await notify(db_conn, user_id(guest), "invitation_received", INVITED)
    await deliver(push)
    assert texts.texts == []


async def test_two_workers_deliver_each_notification_once(
    kit: Kit,
    client: Client,
    db_conn: asyncpg.Connection,
    push: PushRuntime,
    expo: FakeExpo,
    database_url: str,
    settings: Settings,
    redis: Redis,
) -> None:
    guests = [await kit.person() for _ in range(5)]
    tokens = [await with_token(client, g) for g in guests]
    sent = set()
    for g in guests:
        for _ in range(20):
            sent.add(await notify(db_conn, user_id(g), "payment_succeeded", INVITED))
    pool = await create_pool(database_url, min_size=1, max_size=4)
    other = PushRuntime(pool, settings, RedisFanout(redis, settings.redis_key_prefix), redis, redis)
    try:
        await asyncio.gather(deliver(push), deliver(other))
    finally:
        await other.aclose()
        await pool.close()
    delivered = [i for t in tokens for i in notification_ids(expo.sent_to(t))]
    assert sorted(delivered) == sorted(str(s) for s in sent)
