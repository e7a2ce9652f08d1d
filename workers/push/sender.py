"""The delivery loop: every committed notification reaches the user.

Each worker process runs one `PushSender`. It claims due rows of
`notification_deliveries` (SKIP LOCKED, under a lease), and for each one:

1. sends the `notification` frame to the user's live connections;
2. pushes to each active Expo token, unless the category's push switch is
   off, or the notification is a direct message and the user is watching
   that conversation right now; in batches of up to 100, at most
   `PUSH_CONCURRENCY` requests in flight, under a rate that holds across all
   worker processes (`PUSH_RATE_PER_SECOND`);
3. texts an invitation to a user with no active token (SMS switch on, under
   the per-user daily cap);

then records Expo's tickets and deletes the row, in one transaction. Network
errors, 429 and 5xx put the row back for a retry with exponential backoff.

Delivery is at least once: a worker that dies after Expo accepted a batch
and before recording it leaves the rows to be claimed again when the lease
ends, and they are pushed again. Every push and frame carries the
notification's id as `data.notification_id`, so the app shows each
notification once (docs/NOTIFICATIONS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec
import structlog
from redis.asyncio import Redis

from db.listen import Notifications
from db.queries import inbox as inbox_q
from db.queries import push as q
from realtime.fanout import Fanout
from realtime.presence import Presence, is_watching
from server.notifications.catalog import CATALOG, Kind
from server.notifications.items import notify_new_items
from server.notifications.settings import DEFAULTS, Category
from server.notifications.sms import SmsUnavailable, TextSender, sms_text
from workers.push.expo import ExpoClient, PushMessage, PushRejected, PushUnavailable, Ticket, trim
from workers.push.rate import PushRateGate

logger = structlog.get_logger(__name__)

EXPO_BATCH = 100
# Deliveries claimed per round: a few Expo batches.
CLAIM_BATCH = 500
# Long enough for a round to finish; a dead worker's rows come back after it.
LEASE_SECONDS = 120.0
RETRY_BASE_SECONDS = 5.0
RETRY_MAX_SECONDS = 15 * 60.0
MAX_ATTEMPTS = 10
# Longest sleep between looks at the outbox when no NOTIFY arrives.
IDLE_POLL_SECONDS = 5.0


class Delivery(msgspec.Struct):
    """One claimed notification and what became of it this round."""

    id: uuid.UUID
    user_id: uuid.UUID
    kind: Kind
    category: Category
    title: str
    body: str
    data: dict[str, Any]
    count: int
    attempts: int
    phone_number: str
    active: bool
    push_enabled: bool | None
    sms_enabled: bool | None
    tokens: list[str]
    badge: int
    retry: bool = False


class PushSender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        expo: ExpoClient,
        gate: PushRateGate,
        texts: TextSender,
        fanout: Fanout,
        presence: Redis | Presence,
        *,
        key_prefix: str,
        concurrency: int,
        sms_per_day: int,
    ) -> None:
        self._pool = pool
        self._expo = expo
        self._gate = gate
        self._texts = texts
        self._fanout = fanout
        self._presence = presence
        self._prefix = key_prefix
        self._slots = asyncio.Semaphore(concurrency)
        self._sms_per_day = sms_per_day
        self._wake = asyncio.Event()

    def wake_on(self, notifications: Notifications) -> None:
        """Be woken when a notification commits, by the process's LISTEN
        connection; without one (or while it is down) `run` polls."""
        notifications.add(inbox_q.WAKE_CHANNEL, self._on_notify)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set."""
        while not stop.is_set():
            try:
                while await self.deliver_due() and not stop.is_set():
                    pass
                wait = await self._idle_seconds()
            except Exception:
                logger.exception("push: delivery round failed")
                wait = IDLE_POLL_SECONDS
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait_for(stop), wait)

    def _on_notify(self, _payload: str) -> None:
        self._wake.set()

    async def _wait_for(self, stop: asyncio.Event) -> None:
        wake, stopped = (asyncio.create_task(e.wait()) for e in (self._wake, stop))
        try:
            await asyncio.wait({wake, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            stopped.cancel()

    async def _idle_seconds(self) -> float:
        async with self._pool.acquire() as conn:
            due = await q.next_due_in(conn)
        return IDLE_POLL_SECONDS if due is None else min(max(due, 0.05), IDLE_POLL_SECONDS)

    async def deliver_due(self, limit: int = CLAIM_BATCH) -> int:
        """Notify new posts and messages, then deliver one round of due
        notifications; how much was done (items notified + notifications claimed)."""
        async with self._pool.acquire() as conn:
            items = await notify_new_items(conn)
            rows = await q.claim(conn, limit, LEASE_SECONDS)
        if not rows:
            return items
        deliveries = [msgspec.convert(dict(r), Delivery) for r in rows]
        # One at a time: a round's 500 publishes at once would exhaust the
        # Redis client's connection pool (and drop frames).
        for d in deliveries:
            if d.active:
                await self._live(d)
        pushes = [m for d in deliveries for m in await self._messages(d)]
        results = await self._push(pushes)
        for d in deliveries:
            if d.active and not d.tokens:
                await self._text(d)
        await self._record(deliveries, results)
        return items + len(deliveries)

    # ── Channels ──

    def _payload(self, d: Delivery) -> dict[str, Any]:
        """What the app gets in `data`: the ids to open, not the copy (the inbox has it)."""
        ids = {k: v for k, v in d.data.items() if k.endswith("_id")}
        return {**ids, "notification_id": str(d.id), "kind": d.kind}

    async def _live(self, d: Delivery) -> None:
        frame = {
            "id": str(d.id),
            "kind": d.kind,
            "category": d.category,
            "title": d.title,
            "body": d.body,
            "count": d.count,
            "data": self._payload(d),
        }
        await self._fanout.notify_user(d.user_id, frame)

    def _allows(self, d: Delivery, channel: str) -> bool:
        default = DEFAULTS[d.category]
        if channel == "push":
            return default.push_enabled if d.push_enabled is None else d.push_enabled
        return default.sms_enabled if d.sms_enabled is None else d.sms_enabled

    async def _messages(self, d: Delivery) -> list[tuple[Delivery, PushMessage]]:
        if not (d.active and d.tokens and self._allows(d, "push")):
            return []
        conversation = d.data.get("conversation_id")
        if d.kind == "direct_message" and conversation is not None:
            channel = f"conversation:{conversation}"
            if await is_watching(self._presence, d.user_id, channel, self._prefix):
                return []
        payload = self._payload(d)
        return [
            (
                d,
                PushMessage(
                    token=token,
                    title=d.title,
                    body=d.body,
                    data=payload,
                    badge=d.badge,
                    channel_id=d.category,
                ),
            )
            for token in d.tokens
        ]

    async def _push(
        self, pushes: Sequence[tuple[Delivery, PushMessage]]
    ) -> list[tuple[Delivery, Ticket]]:
        batches = [pushes[i : i + EXPO_BATCH] for i in range(0, len(pushes), EXPO_BATCH)]
        answered = await asyncio.gather(*(self._send_batch(b) for b in batches))
        return [pair for batch in answered for pair in batch]

    async def _send_batch(
        self, batch: Sequence[tuple[Delivery, PushMessage]], trimmed: bool = False
    ) -> list[tuple[Delivery, Ticket]]:
        async with self._slots:
            grant = await self._gate.acquire(len(batch))
            try:
                tickets = await self._expo.send([m for _, m in batch])
            except PushUnavailable as exc:
                logger.warning("push: Expo unavailable, retrying later", error=str(exc))
                for d, _ in batch:
                    d.retry = True
                return []
            except PushRejected as exc:
                # Sending the same request again would be refused again.
                logger.error("push: Expo refused a batch", error=str(exc), size=len(batch))
                return []
            finally:
                # Expo counted the batch when the request arrived, before now:
                # the gate counts it until a second from now.
                await self._gate.settle(grant)
        answered = list(zip((d for d, _ in batch), tickets, strict=True))
        too_big = [
            (d, trim(m))
            for (d, m), t in zip(batch, tickets, strict=True)
            if t.error == "MessageTooBig"
        ]
        if too_big and not trimmed:
            answered = [(d, t) for d, t in answered if t.error != "MessageTooBig"]
            answered += await self._send_batch(too_big, trimmed=True)
        return answered

    async def _text(self, d: Delivery) -> None:
        if not CATALOG[d.kind].sms_fallback or not self._allows(d, "sms"):
            return
        async with self._pool.acquire() as conn, conn.transaction():
            if not await q.claim_sms(conn, d.id, d.user_id, self._sms_per_day):
                return  # sent before, or the day's cap is reached
        try:
            await self._texts.send_text(d.phone_number, sms_text(d.title, d.body))
        except SmsUnavailable as exc:
            logger.warning("push: SMS not sent, retrying later", error=str(exc))
            async with self._pool.acquire() as conn:
                await q.release_sms(conn, d.id)
            d.retry = True

    # ── Recording ──

    async def _record(
        self, deliveries: Sequence[Delivery], results: Sequence[tuple[Delivery, Ticket]]
    ) -> None:
        gone = sorted({t.token for _, t in results if t.error == "DeviceNotRegistered"})
        used = sorted({t.token for _, t in results if t.ok})
        for d, t in results:
            if t.error == "MessageRateExceeded":
                d.retry = True
        retry = [d for d in deliveries if d.retry and d.attempts < MAX_ATTEMPTS]
        retried = {d.id for d in retry}
        done = [d.id for d in deliveries if d.id not in retried]
        for d in deliveries:
            if d.retry and d.attempts >= MAX_ATTEMPTS:
                logger.error("push: giving up on a notification", notification_id=str(d.id))
        async with self._pool.acquire() as conn, conn.transaction():
            if results:
                await q.record_tickets(
                    conn,
                    [d.id for d, _ in results],
                    [t.token for _, t in results],
                    [t.ticket_id for _, t in results],
                    [t.error for _, t in results],
                )
            if gone:
                await q.deactivate_tokens(conn, gone)
            if used:
                await q.touch_tokens(conn, used)
            await q.finish(conn, done)
            if retry:
                await q.retry_later(
                    conn,
                    [d.id for d in retry],
                    [
                        min(RETRY_BASE_SECONDS * 2 ** (d.attempts - 1), RETRY_MAX_SECONDS)
                        for d in retry
                    ],
                )
