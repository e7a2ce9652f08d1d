"""Several server processes, one Redis: delivery across processes, and nothing
lost or doubled when Redis restarts or a process dies."""

from __future__ import annotations

import asyncio
import contextlib
import json

from helpers import until
from websockets.exceptions import ConnectionClosed

from tests.realtime.steps import (
    Chat,
    Connect,
    Frame,
    Person,
    Process,
    RedisServer,
    Socket,
    SpawnProcess,
    seqs,
)


async def test_a_message_sent_on_one_process_reaches_another_in_order(
    spawn: SpawnProcess, ws: Connect, chat: Chat
) -> None:
    a, b = spawn(), spawn()
    await a.ready()
    await b.ready()
    me, friend = await ws(a, chat.me), await ws(b, chat.friend)
    await me.subscribe(chat.channel)
    await friend.subscribe(chat.channel)
    for n in range(1, 31):
        await me.send(op="send", channel=chat.channel, content=f"#{n}", ref=n)
    got = [await friend.expect("message") for _ in range(30)]
    assert seqs(got) == list(range(1, 31))
    assert [m["data"]["content"] for m in got] == [f"#{n}" for n in range(1, 31)]
    await friend.send(op="send", channel=chat.channel, content="Got them", ref="back")
    await friend.expect("ack")
    mine = [await me.recv() for _ in range(30 + 31)]
    assert [f["seq"] for f in mine if f["type"] == "ack"] == list(range(1, 31))
    assert seqs([f for f in mine if f["type"] == "message"]) == list(range(1, 32))
    assert mine[-1]["data"]["content"] == "Got them"
    await friend.send(op="typing", channel=chat.channel)
    assert (await me.expect("typing"))["profile_id"] == chat.friend["profile_id"]


class Follower:
    """A client that keeps every message it is given, and can move to another server."""

    def __init__(self, ws: Connect, person: Person, channel: str) -> None:
        self._ws = ws
        self._person = person
        self._channel = channel
        self.got: list[Frame] = []
        self._task: asyncio.Task[None] | None = None
        self.client: Socket | None = None

    async def join(self, server: Process, since: int | None) -> None:
        self.client = await self._ws(server, self._person)
        await self.client.subscribe(self._channel, since=since)
        self._task = asyncio.create_task(self._read(self.client))

    async def _read(self, client: Socket) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                frame = json.loads(await client.ws.recv())
                if frame["type"] == "message":
                    self.got.append(frame)

    @property
    def last(self) -> int:
        return self.got[-1]["seq"] if self.got else 0

    async def lost(self) -> None:
        assert self._task is not None
        await asyncio.wait_for(self._task, 10)

    async def has(self, count: int) -> bool:
        return len(self.got) >= count


async def test_a_redis_restart_and_a_dead_process_lose_and_double_nothing(
    spawn: SpawnProcess, ws: Connect, chat: Chat, own_redis: RedisServer
) -> None:
    a, b = spawn(own_redis.url), spawn(own_redis.url)
    await a.ready()
    await b.ready()
    followers = [
        Follower(ws, chat.friend, chat.channel),  # on b, then moves to a
        Follower(ws, chat.friend, chat.channel),  # a second device, on a
        Follower(ws, chat.me, chat.channel),  # the sender's own other device, on b
    ]
    await followers[0].join(b, since=0)
    await followers[1].join(a, since=0)
    await followers[2].join(b, since=0)
    sender = await ws(a, chat.me)
    total = 60

    async def say(n: int) -> None:
        await sender.send(op="send", channel=chat.channel, content=f"#{n}", ref=n)
        assert (await sender.expect("ack"))["seq"] == n

    for n in range(1, 16):
        await say(n)
    own_redis.stop()
    for n in range(16, 26):  # stored while Redis is away
        await say(n)
    await asyncio.sleep(0.5)
    own_redis.start()
    for n in range(26, 41):
        await say(n)
        await asyncio.sleep(0.02)
    # Process b dies; its clients reconnect to a with what they have.
    b.kill()
    for follower in (followers[0], followers[2]):
        await follower.lost()
    for n in range(41, 51):
        await say(n)
    await followers[0].join(a, since=followers[0].last)
    await followers[2].join(a, since=followers[2].last)
    for n in range(51, total + 1):
        await say(n)
    for follower in followers:

        async def complete(f: Follower = follower) -> bool:
            return await f.has(total)

        await until(complete, 20)
        assert seqs(follower.got) == list(range(1, total + 1))
        assert [m["data"]["content"] for m in follower.got] == [f"#{n}" for n in range(1, 61)]
    await asyncio.sleep(0.3)
    assert all(len(f.got) == total for f in followers)
