"""Live delivery of stored items and ephemeral events to every connection that listens.

`Fanout` works inside one process (no REDIS_URL); `RedisFanout` carries every
delivery through Redis pub/sub so all web processes see it. Each frame is
encoded once by the publisher; every process decodes the envelope once and
hands the same text to each local connection.

Publishing never raises because Redis is down: the item is already stored,
and listeners catch up from the database by `seq` when Redis is back (on every
re-subscription the fan-out asks each listener to `resync`).

Redis subscriptions are per process and per channel in use (one SUBSCRIBE
however many local connections listen), on one dedicated connection that is
re-opened with backoff when lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from realtime import frames
from realtime.channels import user_channel

logger = structlog.get_logger(__name__)

# How long a first listener waits for Redis to confirm its subscription; past
# that it goes on, and resyncs once the subscription is confirmed.
SUBSCRIBE_WAIT_SECONDS = 2.0
RECONNECT_MIN_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 5.0
# Longest wait for the reader to finish when stopping.
STOP_SECONDS = 3.0


class Delivery(msgspec.Struct, array_like=True, frozen=True):
    """One frame on its way to the connections listening on a channel."""

    frame: str
    # The channel's seq for stored items; None for ephemeral events and notifications.
    seq: int | None = None
    # The social profile behind it, so a connection can hide people it must not see.
    author: uuid.UUID | None = None
    # Typing and read events may be dropped when a connection falls behind.
    droppable: bool = False
    # Whether the author's own connections get it too (not their own typing).
    echo: bool = True


class Listener(Protocol):
    def deliver(self, channel: str, delivery: Delivery) -> None:
        """Take a delivery without waiting (called in the fan-out's own loop)."""

    def resync(self, channel: str) -> None:
        """Live delivery on the channel may have missed items: catch up by seq."""


def author_of(data: msgspec.Struct) -> uuid.UUID | None:
    """The social profile a post or message comes from (the host profile for a
    host who has none)."""
    for field in ("author_profile_id", "sender_profile_id", "author_host_id"):
        value = getattr(data, field, None)
        if isinstance(value, uuid.UUID):
            return value
    return None


class Fanout:
    """Delivery inside this process only (the single-process setup without Redis)."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}

    async def start(self) -> None:
        """Nothing to connect in one process."""

    async def stop(self) -> None:
        """Nothing to disconnect in one process."""

    async def publish(self, channel: str, seq: int, data: msgspec.Struct) -> None:
        """Deliver a stored post or message (call after its transaction committed)."""
        await self.publish_many([(channel, seq, data)])

    async def publish_many(self, items: Sequence[tuple[str, int, msgspec.Struct]]) -> None:
        """Deliver stored posts or messages (channel, seq, item), in one Redis round trip."""
        await self._send_many(
            [
                (
                    channel,
                    Delivery(
                        frames.encode(frames.Message(channel=channel, seq=seq, data=data)),
                        seq=seq,
                        author=author_of(data),
                    ),
                )
                for channel, seq, data in items
            ]
        )

    async def ephemeral(self, channel: str, frame: frames.TypingEvent | frames.ReadEvent) -> None:
        """Deliver a typing or read event: never stored, dropped first under pressure."""
        if isinstance(frame, frames.TypingEvent):  # not echoed to the typist
            author, echo = frame.profile_id or frame.host_id, False
        else:
            author, echo = frame.profile_id, True
        delivery = Delivery(frames.encode(frame), author=author, droppable=True, echo=echo)
        await self._send(channel, delivery)

    async def notify_user(self, user_id: uuid.UUID, data: dict[str, Any]) -> None:
        """Deliver `{"type":"notification","data":...}` to every connection of the user."""
        frame = frames.encode(frames.Notification(data=data))
        await self._send(user_channel(user_id), Delivery(frame))

    async def listen(self, channel: str, listener: Listener) -> None:
        """Start delivering the channel to `listener`; once this returns, nothing
        published afterwards is missed (or the listener is told to resync)."""
        self._listeners.setdefault(channel, set()).add(listener)

    async def unlisten(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[channel]

    async def _send(self, channel: str, delivery: Delivery) -> None:
        await self._send_many([(channel, delivery)])

    async def _send_many(self, deliveries: Sequence[tuple[str, Delivery]]) -> None:
        for channel, delivery in deliveries:
            self._dispatch(channel, delivery)

    def _dispatch(self, channel: str, delivery: Delivery) -> None:
        for listener in tuple(self._listeners.get(channel, ())):
            try:
                listener.deliver(channel, delivery)
            except Exception:
                logger.exception("fan-out: a listener failed", channel=channel)

    def _resync(self, channel: str) -> None:
        for listener in tuple(self._listeners.get(channel, ())):
            try:
                listener.resync(channel)
            except Exception:
                logger.exception("fan-out: a listener failed to resync", channel=channel)


class RedisFanout(Fanout):
    """Delivery through Redis pub/sub, to every process."""

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        super().__init__()
        self._redis = redis
        self._prefix = f"{key_prefix}rt:"
        # Subscribed on every link first: its confirmation says the link is up.
        self._control = f"{key_prefix}rt-control"
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(Delivery)
        self._pubsub: PubSub | None = None
        # Listeners waiting for the first confirmation of a new subscription.
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._link_up = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # Bounded: the reader's cleanup talks to Redis, which may not answer.
            await asyncio.wait({self._task}, timeout=STOP_SECONDS)
            self._task = None

    async def _send_many(self, deliveries: Sequence[tuple[str, Delivery]]) -> None:
        try:
            if len(deliveries) == 1:
                channel, delivery = deliveries[0]
                await self._redis.publish(self._prefix + channel, self._encoder.encode(delivery))
                return
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, delivery in deliveries:
                    pipe.publish(self._prefix + channel, self._encoder.encode(delivery))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # Stored already; listeners catch up by seq once Redis is back.
            logger.error(
                "fan-out: cannot publish",
                channels=sorted({c for c, _ in deliveries}),
                error=str(exc),
            )

    async def listen(self, channel: str, listener: Listener) -> None:
        first = channel not in self._listeners
        await super().listen(channel, listener)
        if self._pubsub is None or (not first and channel not in self._waiters):
            # Subscribed already, or the link is down: once it is back, every
            # channel in use is subscribed again and its listeners resync.
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        try:
            if first:
                with contextlib.suppress(RedisError, OSError):
                    # On failure the reader reconnects and subscribes every channel in use.
                    await self._pubsub.subscribe(self._prefix + channel)
            await asyncio.wait_for(waiter, SUBSCRIBE_WAIT_SECONDS)
        except TimeoutError:
            logger.warning("fan-out: subscription not confirmed yet", channel=channel)
        finally:
            waiters = self._waiters.get(channel, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(channel, None)

    async def unlisten(self, channel: str, listener: Listener) -> None:
        await super().unlisten(channel, listener)
        if channel not in self._listeners and self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(self._prefix + channel)

    async def _run(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._control)
                # Set first, so a listener arriving meanwhile subscribes on its own.
                self._pubsub = pubsub
                channels = [self._prefix + c for c in self._listeners]
                if channels:
                    await pubsub.subscribe(*channels)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._handle(message)
                        delay = RECONNECT_MIN_SECONDS
            except (RedisError, OSError) as exc:
                logger.warning("fan-out: Redis link lost, retrying", error=str(exc), delay=delay)
            except Exception:
                # Never let the only reader die: log, reconnect, resync.
                logger.exception("fan-out: reader failed, reconnecting")
            finally:
                self._pubsub = None
                self._link_up = False
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    await asyncio.wait_for(pubsub.aclose(), STOP_SECONDS)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind not in ("message", "subscribe"):
            return  # unsubscribe confirmations, health-check pongs
        key = message["channel"].decode()
        if kind == "message":
            if key.startswith(self._prefix):
                try:
                    delivery = self._decoder.decode(message["data"])
                except msgspec.DecodeError:
                    logger.error("fan-out: undecodable delivery", channel=key)
                    return
                self._dispatch(key[len(self._prefix) :], delivery)
        elif kind == "subscribe":
            if key == self._control:
                if not self._link_up:
                    logger.info("fan-out: Redis link up")
                self._link_up = True
                return
            channel = key[len(self._prefix) :]
            waiters = self._waiters.pop(channel, None)
            if waiters:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
            else:
                # Nobody waits for it: a re-subscription after a lost link, or a
                # first one that was not confirmed in time. Either way items may
                # have been published meanwhile.
                self._resync(channel)
