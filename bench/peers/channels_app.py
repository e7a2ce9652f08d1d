"""Peer for bench/fanout.py: a Django Channels chat app on channels_redis.

    BENCH_REDIS_URL=redis://127.0.0.1:6390/0 \
        uvicorn --app-dir bench/peers channels_app:application --port 9002

The textbook Channels room: a client connects to `/ws/<room>`, its consumer
joins the room's group, and every text frame it sends goes to the group with
`group_send`; each member's consumer writes it out. The channel layer is
`channels_redis.core.RedisChannelLayer` with its defaults (capacity 100 per
channel, expiry 60 s): the layer the Channels docs set up and most apps run.
(`RedisPubSubChannelLayer` is the newer, still-beta alternative.) No auth
middleware, sessions or database: those would cost only at connect time.
Run one process per port; every process shares the Redis.
"""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-" + "x" * 40,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    INSTALLED_APPS=["channels"],
    USE_TZ=True,
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["BENCH_REDIS_URL"]]},
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class RoomConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    group = ""

    async def connect(self) -> None:
        self.group = "room-" + self.scope["url_route"]["kwargs"]["room"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.channel_layer.group_send(
                self.group, {"type": "room.message", "text": text_data}
            )

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/<str:room>", RoomConsumer.as_asgi())])}
)
