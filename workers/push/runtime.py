"""The push side of a worker process: Expo client, SMS sender, rate gate and the sender loop."""

from __future__ import annotations

import asyncpg
from redis.asyncio import Redis

from realtime.fanout import Fanout
from realtime.presence import Presence
from server.notifications.sms import build_text_sender
from server.settings import Settings
from workers.push.expo import ExpoClient
from workers.push.rate import build_rate_gate
from workers.push.sender import PushSender


class PushRuntime:
    """Built once per process; `aclose` when the process stops.

    `fanout` and `presence` are the web process's own when the workers run
    inside it; a separate worker process publishes through Redis (`redis`).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        fanout: Fanout,
        presence: Redis | Presence,
        redis: Redis | None,
    ) -> None:
        self.expo = ExpoClient(access_token=settings.expo_access_token, host=settings.expo_api_base)
        self.texts = build_text_sender(settings)
        self.sender = PushSender(
            pool,
            self.expo,
            build_rate_gate(redis, settings.redis_key_prefix, settings.push_rate_per_second),
            self.texts,
            fanout,
            presence,
            key_prefix=settings.redis_key_prefix,
            concurrency=settings.push_concurrency,
            sms_per_day=settings.sms_notifications_per_day,
        )

    async def aclose(self) -> None:
        await self.expo.aclose()
        await self.texts.aclose()
