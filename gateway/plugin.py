"""RealtimePlugin: the fan-out, presence and the gateway's hub for this process.

Puts the Fanout on `app.state.fanout` (routes ask for it as
`fanout: RealtimeFanout`, server/deps.py), the group commit that stores and
publishes posts and messages on `app.state.writer` (`writer: MessageWriter`),
the Presence on `app.state.presence` and the Hub on
`app.state.realtime`. Needs the database, Redis and auth plugins (listed after
them) and registers the hub's channels on `app.state.notifications`, so it is
listed before the ListenPlugin. On shutdown every connection is closed with 1012.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from db.pool import create_pool
from gateway.config import RealtimeConfig
from gateway.hub import Hub
from gateway.limits import WINDOW_SECONDS, FrameBudget
from realtime.fanout import Fanout, RedisFanout
from realtime.presence import Presence, RedisPresence
from server.deps import provide_fanout, provide_writer
from server.messaging.writer import FLUSHES, Writer
from server.settings import Settings

REDIS_CONNECTIONS = 100
REDIS_POOL_WAIT_SECONDS = 5.0


class RealtimePlugin(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = RealtimeConfig.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        redis: Redis | None = None
        fanout: Fanout
        presence: Presence
        if self.settings.redis_url:
            # Its own client: short timeouts (a publish must not hang a request
            # while Redis is away) and one quick retry; the fan-out handles the rest.
            # A blocking pool: when thousands of sockets close at once, their
            # presence and frame-count updates wait for a connection instead of
            # failing with "Too many connections".
            redis = Redis.from_pool(
                BlockingConnectionPool.from_url(
                    self.settings.redis_url,
                    max_connections=REDIS_CONNECTIONS,
                    timeout=REDIS_POOL_WAIT_SECONDS,
                    health_check_interval=10,
                    socket_connect_timeout=2,
                    socket_timeout=5,
                    retry=Retry(NoBackoff(), 1),
                )
            )
            prefix = self.settings.redis_key_prefix
            fanout = RedisFanout(redis, prefix)
            presence = RedisPresence(redis, prefix, self.config.presence_ttl_seconds)
        else:
            fanout, presence = Fanout(), Presence()
        # The group commit's own connections, bound like the web pool's.
        assert self.settings.database_url
        writer_pool = await create_pool(
            self.settings.database_url,
            min_size=1,
            max_size=FLUSHES,
            statement_timeout_ms=self.settings.database_statement_timeout_ms,
        )
        writer = Writer(
            writer_pool,
            fanout,
            app.state.storage,
            self.settings.database_acquire_timeout_seconds,
        )
        hub = Hub(
            self.config,
            fanout,
            presence,
            app.state.db_pool,
            FrameBudget(
                redis,
                self.settings.redis_key_prefix,
                self.config.frames_per_user_per_minute,
                WINDOW_SECONDS,
            ),
            app.state.tokens,
            app.state.auth.sessions,
            app.state.notifications,
            writer,
        )
        app.state.fanout = fanout
        app.state.writer = writer
        app.state.presence = presence
        app.state.realtime = hub
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await writer.stop()
            await writer_pool.close()
            if redis is not None:
                await redis.aclose()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        app_config.dependencies["fanout"] = Provide(provide_fanout, sync_to_thread=False)
        app_config.dependencies["writer"] = Provide(provide_writer, sync_to_thread=False)
        return app_config
