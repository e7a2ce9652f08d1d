"""Peer for bench/fanout.py: a plain `websockets` broadcast server over Redis pub/sub.

    python bench/peers/ws_server.py --port 9001 --redis-url redis://127.0.0.1:6390/0

The ceiling for Python: no framework, no auth, no storage. A client connects
to `/ws/<room>`; every text frame it sends is PUBLISHed on the room's Redis
channel, and each process relays what arrives on the channels of its local
rooms to their members with `websockets.broadcast` (no per-client await). A
process subscribes to a room's channel when the room's first local member
arrives and unsubscribes when the last one leaves, over one pub/sub
connection. Run one process per port; every process shares the Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from redis.asyncio import BlockingConnectionPool, Redis
from websockets.asyncio.server import ServerConnection, broadcast, serve

CHANNEL_PREFIX = "bench:room:"
CONTROL = "bench:hello"  # subscribed at start so the listener always has a subscription


class Rooms:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self.members: dict[str, set[ServerConnection]] = {}

    async def handler(self, ws: ServerConnection) -> None:
        room = ws.request.path.rsplit("/", 1)[-1] if ws.request else ""
        channel = CHANNEL_PREFIX + room
        members = self.members.get(channel)
        if members is None:
            members = self.members[channel] = set()
            await self.pubsub.subscribe(channel)
        members.add(ws)
        try:
            async for frame in ws:
                await self.redis.publish(channel, frame)
        finally:
            members.discard(ws)
            if not members and self.members.get(channel) is members:
                del self.members[channel]
                await self.pubsub.unsubscribe(channel)

    async def relay(self) -> None:
        async for message in self.pubsub.listen():
            if message["type"] != "message":
                continue
            channel = message["channel"].decode()
            members = self.members.get(channel)
            if members:
                data = message["data"]
                broadcast(members, data.decode() if isinstance(data, bytes) else data)


async def main(host: str, port: int, redis_url: str) -> None:
    # Publishes wait for a free connection rather than fail (redis-py's default pool
    # raises past 100 connections in use).
    redis = Redis(
        connection_pool=BlockingConnectionPool.from_url(redis_url, max_connections=64, timeout=None)
    )
    rooms = Rooms(redis)
    await rooms.pubsub.subscribe(CONTROL)
    relay = asyncio.create_task(rooms.relay())
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        rooms.handler,
        host,
        port,
        compression=None,  # the bench client offers none; say so anyway
        backlog=2048,
    ):
        await stop
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    await rooms.pubsub.aclose()
    await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.host, args.port, args.redis_url))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main(args.host, args.port, args.redis_url))
