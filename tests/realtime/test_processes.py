"""Several server processes, one Redis: delivery across processes, and nothing
lost or doubled when Redis restarts or a process dies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import asyncpg
import httpx
from helpers import bearer, make_phone, until
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from realtime.presence import is_watching
from server.settings import Settings
from tests.realtime.steps import (
    Chat,
    Connect,
    Frame,
    Person,
    Process,
    RedisServer,
    Serve,
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


async def test_rate_limits_and_presence_come_back_after_a_redis_restart(
    serve: Serve, ws: Connect, chat: Chat, own_redis: RedisServer, settings: Settings
) -> None:
    """Redis keeps nothing across the restart: what must hold is that the live
    state is written again (presence within a heartbeat) and limits count again."""
    live = await serve(redis_url=own_redis.url, ws_heartbeat_seconds=1)
    base = live.ws_url.replace("ws://", "http://").removesuffix("/v1/ws")
    me = uuid.UUID(chat.me["user_id"])
    watcher = await ws(live, chat.me)
    await watcher.subscribe(chat.channel)
    redis = Redis.from_url(own_redis.url)
    try:

        async def watching() -> bool:
            return await is_watching(redis, me, chat.channel, settings.redis_key_prefix)

        assert await watching()
        own_redis.stop()
        own_redis.start()
        assert not await watching()  # the restart lost it...
        await until(watching, 10, what="presence was not written again")  # ...and it is back

        async with httpx.AsyncClient(base_url=base) as http:
            phone = make_phone()
            statuses = []
            for _ in range(settings.otp_sends_per_phone_per_hour + 1):
                r = await http.post("/v1/auth/otp", json={"phone_number": phone})
                statuses.append(r.status_code)
        limit = settings.otp_sends_per_phone_per_hour
        assert statuses == [202] * limit + [429]
    finally:
        await redis.aclose()


async def test_a_process_killed_mid_send_stores_the_retried_message_once(
    spawn: SpawnProcess, chat: Chat, db_conn: asyncpg.Connection
) -> None:
    """The app sends, its process dies before or after storing (we cannot tell,
    and neither can the app), and the app retries with the same client_id on
    another process: exactly one message, whatever the moment of the kill."""
    survivor = spawn()
    await survivor.ready()
    url = f"/v1/conversations/{chat.conversation_id}/messages"
    for delay in (0.0, 0.01, 0.1):
        doomed = spawn()
        await doomed.ready()
        client_id = str(uuid.uuid4())
        body = {"content": f"after {delay}", "client_id": client_id}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{doomed.port}") as http:
            sending = asyncio.create_task(http.post(url, headers=bearer(chat.me), json=body))
            await asyncio.sleep(delay)
            doomed.kill()
            with contextlib.suppress(httpx.HTTPError):
                await sending
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{survivor.port}") as http:
            r = await http.post(url, headers=bearer(chat.me), json=body)
        assert r.status_code == 201, r.text
        stored = await db_conn.fetch(
            "SELECT id FROM messages WHERE client_id = $1", uuid.UUID(client_id)
        )
        assert [row["id"] for row in stored] == [uuid.UUID(r.json()["id"])], delay
