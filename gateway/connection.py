"""One authenticated WebSocket: its channels, its outgoing frames and its limits.

Delivery order per channel. Each channel the connection holds remembers the
last `seq` it delivered (or skipped). A live item with the next seq goes
straight out; anything at or below it is a duplicate and is dropped; an item
further ahead is held while the missing ones are still in flight (two
processes may publish neighbouring seqs in either order) and, if they do not
arrive within `gap_wait_seconds`, the channel catches up from the database.
While a channel replays from the database (subscribe with `since`, a gap, or
a re-subscription after Redis came back), live items are held and released
afterwards, so replayed and live items meet with no gap and no duplicate.

Writing. A frame is written to the socket at once (gateway/transport.py),
with no task of its own, unless earlier ones still wait in `_out`: behind a
frame whose author is not known to be visible to the reader (one database
look-up, in a task while it runs; frames the reader may not see are left
out), or while the client does not read. Frames answering the client's own
requests wait for room in `_out`; live frames never wait: when it holds
`send_queue_size` frames, typing/read events are dropped first, then the
connection is closed with 4008.

An idle connection has no task: once `start` has said `ready`, the ASGI call
returns and the socket stays open (gateway/transport.py); the frames the
client sends start a reader task that ends when they are all taken, and
catch-ups and look-ups are tasks only while they run.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import msgspec
import structlog

from gateway.config import MAX_FRAME_BYTES
from gateway.hub import Hub
from gateway.transport import FrameSocket
from realtime import frames
from realtime.channels import Channel, parse_channel, user_channel
from realtime.fanout import Delivery, author_of
from server.auth.tokens import Identity
from server.errors import ApiError
from server.messaging import service as messaging
from server.messaging.checks import Member

logger = structlog.get_logger(__name__)

CONNECTION_WINDOW_SECONDS = 10
HEARTBEAT_MISSES_BEFORE_CLOSE = 3
TOO_SLOW = "too slow: reconnect and resubscribe with since"


class ChannelState:
    """Where one subscribed channel stands on this connection."""

    __slots__ = ("again", "channel", "gap_timer", "held", "last", "member", "replaying", "task")

    def __init__(self, channel: Channel, member: Member) -> None:
        self.channel = channel
        # Who the caller is on this channel (signs typing/read events).
        self.member = member
        self.last = 0
        self.replaying = True
        self.held: dict[int, Delivery] = {}
        self.gap_timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.again = False

    def stop(self) -> None:
        if self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.held.clear()


def _frame(frame: msgspec.Struct, droppable: bool = False) -> Delivery:
    return Delivery(frames.encode(frame), droppable=droppable)


class Connection:
    __slots__ = (
        "_expiry",
        "_last_heard",
        "_look_up_task",
        "_out",
        "_own_profiles",
        "_reader",
        "_room",
        "_user_channel",
        "_window_count",
        "_window_ends",
        "channels",
        "closing",
        "hub",
        "identity",
        "socket",
        "user_id",
    )

    def __init__(self, socket: FrameSocket, hub: Hub, identity: Identity) -> None:
        self.socket = socket
        self.hub = hub
        # Who the connection speaks for; a fresh `auth` replaces it.
        self.identity = identity
        self.user_id = identity.user_id
        self._user_channel = user_channel(identity.user_id)
        self.channels: dict[str, ChannelState] = {}
        # Frames not written yet, oldest first: (the wire frame, what it carries).
        self._out: list[tuple[bytes, Delivery]] = []
        # Set for replies waiting for room in `_out`; a visibility look-up in flight.
        self._room: asyncio.Event | None = None
        self._look_up_task: asyncio.Task[None] | None = None
        # Reads the socket's events while there are any (gateway/transport.py).
        self._reader: asyncio.Task[None] | None = None
        self._own_profiles: set[uuid.UUID] = set()
        self.closing: int | None = None
        self._last_heard = time.monotonic()
        self._expiry: asyncio.TimerHandle | None = None
        self._window_ends = 0.0
        self._window_count = 0

    # ── Lifecycle ──

    async def start(self) -> None:
        """Set the connection up and say `ready`; from then on it runs on the
        socket's events until the client leaves or the server closes it."""
        self.hub.join(self)
        self.socket.on_writable(self._drain)
        try:
            await self.hub.fanout.listen(self._user_channel, self)
            await self.hub.presence.add(self.user_id)
            self._schedule_expiry()
            await self._reply(frames.Ready(user_id=self.user_id))
        except Exception:
            logger.exception("websocket connection failed", user_id=str(self.user_id))
            self.close(1011, "server error")
        finally:
            # Frames (and the disconnect that closing queues) start the reader.
            self.socket.on_event(self._wake)

    def _wake(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_events())

    def close(self, code: int, reason: str = "") -> None:
        """Stop serving and send the close frame (once; later calls do nothing)."""
        if self.closing is not None:
            return
        self.closing = code
        self._drop_output()
        self.socket.close_now(code, reason)

    def heartbeat(self, now: float) -> None:
        """Called by the hub every heartbeat: ping a quiet client, close a silent one."""
        silent = now - self._last_heard
        interval = self.hub.config.heartbeat_seconds
        if silent >= interval * HEARTBEAT_MISSES_BEFORE_CLOSE:
            self.close(1011, "no heartbeat")
        elif silent >= interval:
            self._offer(_frame(frames.ServerPing(), droppable=True))

    async def _cleanup(self) -> None:
        if self.closing is None:
            self.closing = 1000
        self._drop_output()
        self.socket.on_writable(None)
        self.socket.on_event(None)
        if self._expiry is not None:
            self._expiry.cancel()
        states, self.channels = self.channels, {}
        for name, state in states.items():
            state.stop()
            await self.hub.fanout.unlisten(name, self)
            await self.hub.presence.remove(self.user_id, name)
        await self.hub.fanout.unlisten(self._user_channel, self)
        await self.hub.presence.remove(self.user_id)
        self.hub.leave(self)

    def _schedule_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(0.0, self.identity.expires_at - time.time())
        self._expiry = asyncio.get_running_loop().call_later(
            delay, self.close, 4001, "token expired"
        )

    # ── Writing ──

    def _offer(self, delivery: Delivery) -> None:
        """Write a live frame or queue it without waiting (or drop it, or close with 4008)."""
        if self.closing is not None:
            return
        out = self._out
        if not out and self._look_up_task is None and self.socket.can_write:
            # The common case, kept short: nothing waits, so this one goes now
            # (or is left out), unless its author needs a look-up.
            visible = self._visible(delivery)
            if visible is not None:
                if visible:
                    self.socket.write_frame(self.hub.wire(delivery))
                return
        elif len(out) >= self.hub.config.send_queue_size:
            if delivery.droppable:
                return
            for index, (_, queued) in enumerate(out):
                if queued.droppable:
                    del out[index]
                    break
            else:
                self.close(4008, TOO_SLOW)
                return
        out.append((self.hub.wire(delivery), delivery))
        self._drain()

    async def _put(self, delivery: Delivery) -> None:
        """Write a frame or queue it once there is room (nothing once closing)."""
        while len(self._out) >= self.hub.config.send_queue_size and self.closing is None:
            if self._room is None:
                self._room = asyncio.Event()
            await self._room.wait()
        if self.closing is None:
            self._out.append((self.hub.wire(delivery), delivery))
            self._drain()

    async def _reply(self, frame: msgspec.Struct) -> None:
        await self._put(_frame(frame))

    async def _error(self, code: str, detail: str, ref: frames.Ref = None) -> None:
        await self._reply(frames.Error(code=code, detail=detail, ref=ref))

    def _visible(self, delivery: Delivery) -> bool | None:
        """Whether the reader may see the frame's author; None when not known here."""
        author = delivery.author
        if author is None or author in self._own_profiles:
            return True
        return self.hub.visibility.known(self.user_id, author)

    def _drain(self) -> None:
        """Write what is queued, in order, up to a frame whose author is not known yet."""
        out = self._out
        if self.closing is not None or not out or self._look_up_task is not None:
            return
        if not self.socket.can_write:
            return  # the client is not reading; on_writable calls again
        ready: list[bytes] = []
        taken = 0
        for wire, delivery in out:
            visible = self._visible(delivery)
            if visible is None:
                self._look_up_task = asyncio.create_task(self._look_up(delivery))
                break
            if visible:
                ready.append(wire)
            taken += 1
        del out[:taken]
        if ready:
            self.socket.write_frames(ready)
        room = self._room
        if room is not None and len(out) < self.hub.config.send_queue_size:
            self._room = None
            room.set()

    async def _look_up(self, delivery: Delivery) -> None:
        """Whether the reader may see `delivery`, the first frame in `_out`."""
        assert delivery.author is not None
        try:
            visible = await self.hub.visibility.may_see(self.user_id, delivery.author)
        except Exception as exc:
            # The database failed us: this connection cannot go on, and the
            # app resumes by seq.
            logger.info("websocket visibility look-up failed", error=repr(exc))
            self._look_up_task = None
            self.close(1011, "server error")
            return
        self._look_up_task = None
        out = self._out
        if out and out[0][1] is delivery:
            if visible:
                self.socket.write_frame(out[0][0])
            del out[0]
        self._drain()

    def _drop_output(self) -> None:
        self._out.clear()
        if self._look_up_task is not None:
            self._look_up_task.cancel()
            self._look_up_task = None
        if self._room is not None:
            self._room.set()
            self._room = None

    # ── Live delivery (the fan-out's Listener) ──

    def deliver(self, channel: str, delivery: Delivery) -> None:
        if self.closing is not None:
            return
        if delivery.seq is None:
            if channel != self._user_channel and channel not in self.channels:
                return
            if not delivery.echo and delivery.author in self._own_profiles:
                return
            self._offer(delivery)
            return
        state = self.channels.get(channel)
        if state is not None:
            self._take(state, delivery, delivery.seq)

    def resync(self, channel: str) -> None:
        state = self.channels.get(channel)
        if state is not None and self.closing is None:
            self._catch_up(state)

    def _take(self, state: ChannelState, delivery: Delivery, seq: int) -> None:
        if seq <= state.last or seq in state.held:
            return
        if state.replaying or seq != state.last + 1:
            state.held[seq] = delivery
            if len(state.held) > self.hub.config.send_queue_size:
                self.close(4008, TOO_SLOW)
            elif not state.replaying and state.gap_timer is None:
                state.gap_timer = asyncio.get_running_loop().call_later(
                    self.hub.config.gap_wait_seconds, self._gap_expired, state
                )
            return
        self._offer(delivery)
        state.last = seq
        if state.held or state.gap_timer is not None:
            self._release(state)

    def _release(self, state: ChannelState) -> None:
        """Send held items that are now next in line; wait (or catch up) for the rest."""
        held = state.held
        for seq in [s for s in held if s <= state.last]:
            del held[seq]
        while state.last + 1 in held:
            self._offer(held.pop(state.last + 1))
            state.last += 1
        if held and state.gap_timer is None:
            state.gap_timer = asyncio.get_running_loop().call_later(
                self.hub.config.gap_wait_seconds, self._gap_expired, state
            )
        elif not held and state.gap_timer is not None:
            state.gap_timer.cancel()
            state.gap_timer = None

    def _gap_expired(self, state: ChannelState) -> None:
        state.gap_timer = None
        if state.held and self.channels.get(state.channel.name) is state:
            self._catch_up(state)

    def _catch_up(self, state: ChannelState) -> None:
        """Read what the channel may have missed from the database (once the
        replay under way, if any, is over)."""
        if state.replaying:
            state.again = True
            return
        state.replaying = True
        state.task = asyncio.create_task(self._catch_up_task(state))

    async def _catch_up_task(self, state: ChannelState) -> None:
        try:
            latest, items = await self.hub.catch_up.after(state.channel, state.last)
        except Exception:
            logger.exception("websocket catch-up failed", channel=state.channel.name)
            self.close(1011, "server error")
            return
        if items is None:
            self.close(4008, "too far behind: reconnect and resubscribe with since")
            return
        await self._replay(state, items, latest)

    async def _replay(self, state: ChannelState, items: list[messaging.Item], latest: int) -> None:
        """Send stored items after `state.last` in order, then release what was held."""
        name = state.channel.name
        for item in items:
            seq = item.seq
            if seq <= state.last:
                continue
            frame = frames.encode(frames.Message(channel=name, seq=seq, data=item))
            await self._put(Delivery(frame, seq=seq, author=author_of(item)))
            state.last = seq
        # Everything up to `latest` was committed before the read: nothing there is missing.
        state.last = max(state.last, latest)
        state.replaying = False
        if state.again:
            state.again = False
            self._catch_up(state)
        else:
            self._release(state)

    # ── Reading ──

    async def _read_events(self) -> None:
        """Take the socket's events in order while there are any, then end: an
        idle connection has no task. The disconnect event ends the connection."""
        try:
            while self.socket.has_events():
                event = await self.socket.receive()
                if event["type"] == "websocket.disconnect":
                    await self._cleanup()
                    return
                if self.closing is None:
                    await self._take_frame(event.get("text"))
        except Exception:
            logger.exception("websocket connection failed", user_id=str(self.user_id))
            self.close(1011, "server error")
        finally:
            self._reader = None
        if self.socket.has_events():
            self._wake()  # what arrived as this ended (closing queues a disconnect)

    async def _take_frame(self, text: object) -> None:
        self._last_heard = time.monotonic()
        if not await self._within_limits():
            self.close(4029, "rate limited")
            return
        if not isinstance(text, str):
            await self._error("invalid_frame", "Frames are JSON text")
            return
        if len(text) > MAX_FRAME_BYTES // 4 and len(text.encode()) > MAX_FRAME_BYTES:
            await self._error("frame_too_large", f"Frames are at most {MAX_FRAME_BYTES} bytes")
            return
        try:
            frame = frames.decode_client_frame(text)
        except frames.InvalidFrame as exc:
            await self._error("invalid_frame", exc.detail, exc.ref)
            return
        ref = getattr(frame, "ref", None)
        try:
            await self._handle(frame)
        except ApiError as exc:
            await self._error(exc.code, exc.detail, ref)
        except Exception:
            # One failed operation (the database, Redis) does not end the connection.
            logger.exception("websocket operation failed", op=type(frame).__name__)
            await self._error("server_error", "Something went wrong, try again", ref)

    async def _within_limits(self) -> bool:
        config = self.hub.config
        now = time.monotonic()
        if now >= self._window_ends:
            self._window_ends = now + CONNECTION_WINDOW_SECONDS
            self._window_count = 0
        self._window_count += 1
        if self._window_count > config.frames_per_connection_per_10s:
            return False
        # Counted here, settled with the other processes in batches (gateway/limits.py).
        return await self.hub.frames.spend(self.user_id)

    async def _handle(self, frame: frames.ClientFrame) -> None:
        match frame:
            case frames.Ping():
                await self._reply(frames.Pong(ref=frame.ref))
            case frames.Subscribe():
                await self._subscribe(frame)
            case frames.Unsubscribe():
                await self._unsubscribe(frame)
            case frames.Send():
                await self._send(frame)
            case frames.Typing():
                await self._typing(frame)
            case frames.Read():
                await self._read(frame)
            case frames.Auth():
                await self._reauth(frame)

    # ── Client operations ──

    def _channel(self, name: str) -> Channel:
        channel = parse_channel(name)
        if channel is None:
            raise ApiError(
                422, "invalid_channel", "Channels are event:<event_id> or conversation:<id>"
            )
        return channel

    async def _subscribe(self, frame: frames.Subscribe) -> None:
        channel = self._channel(frame.channel)
        name = channel.name
        if name not in self.channels and len(self.channels) >= self.hub.config.max_channels:
            raise ApiError(
                422, "too_many_channels", f"At most {self.hub.config.max_channels} channels"
            )
        async with self.hub.pool.acquire() as conn:
            member = await messaging.access(conn, self.user_id, channel)
        if member is None:
            raise ApiError(403, "forbidden", "This channel is not yours to follow")
        self._own_profiles.add(member.author)
        self.hub.visibility.forget_reader(self.user_id)
        state = ChannelState(channel, member)
        old = self.channels.get(name)
        self.channels[name] = state
        if old is not None:
            old.stop()
        else:
            # Listen before reading where the channel stands: whatever is
            # committed after that read arrives live (and is held meanwhile).
            await self.hub.fanout.listen(name, self)
            await self.hub.presence.add(self.user_id, name)
        try:
            latest, items = await self.hub.catch_up.after(channel, frame.since)
        except Exception:
            await self._leave(name)
            raise
        recovered = items is not None
        await self._reply(
            frames.Subscribed(channel=name, ref=frame.ref, last_seq=latest, recovered=recovered)
        )
        if self.channels.get(name) is not state:
            return  # unsubscribed or subscribed again meanwhile
        state.last = latest if items is None or frame.since is None else min(frame.since, latest)
        await self._replay(state, items or [], latest)

    async def _leave(self, name: str) -> bool:
        state = self.channels.pop(name, None)
        if state is None:
            return False
        state.stop()
        await self.hub.fanout.unlisten(name, self)
        await self.hub.presence.remove(self.user_id, name)
        return True

    async def _unsubscribe(self, frame: frames.Unsubscribe) -> None:
        name = self._channel(frame.channel).name
        await self._leave(name)
        await self._reply(frames.Unsubscribed(channel=name, ref=frame.ref))

    async def _send(self, frame: frames.Send) -> None:
        channel = self._channel(frame.channel)

        async def acknowledge(item: messaging.Item) -> None:
            author = author_of(item)
            if author is not None:
                self._own_profiles.add(author)
            await self._reply(frames.Ack(ref=frame.ref, seq=item.seq, id=item.id))

        await messaging.send(
            self.hub.pool,
            self.hub.writer,
            self.user_id,
            channel,
            frame.content,
            frame.client_id,
            acknowledge,
        )

    async def _typing(self, frame: frames.Typing) -> None:
        name = self._channel(frame.channel).name
        state = self.channels.get(name)
        if state is None:
            raise ApiError(409, "not_subscribed", "Subscribe to the channel first")
        await self.hub.fanout.ephemeral(
            name,
            frames.TypingEvent(
                channel=name, profile_id=state.member.profile_id, host_id=state.member.host_id
            ),
        )

    async def _read(self, frame: frames.Read) -> None:
        channel = self._channel(frame.channel)
        state = self.channels.get(channel.name)
        async with self.hub.pool.acquire() as conn:
            member = state.member if state else await messaging.access(conn, self.user_id, channel)
            if member is None:
                raise ApiError(403, "forbidden", "This channel is not yours to follow")
            stored = await messaging.mark_read(conn, self.user_id, channel, frame.seq)
        # Read markers exist only on conversations, whose members all have a profile.
        await self.hub.fanout.ephemeral(
            channel.name,
            frames.ReadEvent(channel=channel.name, profile_id=member.author, seq=stored),
        )

    async def _reauth(self, frame: frames.Auth) -> None:
        try:
            identity = await self.hub.authenticate(frame.token)
        except ApiError as exc:
            if exc.code == "account_suspended":
                self.close(4001, exc.detail)
                return
            raise
        if identity.user_id != self.user_id:
            raise ApiError(401, "invalid_token", "This token is for another account")
        self.identity = identity
        self._schedule_expiry()
        await self._reply(frames.Ready(user_id=self.user_id))
