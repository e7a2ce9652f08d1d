"""Litestar plugins that own the process's shared resources.

Each one opens its resource in the app's lifespan, keeps it on `app.state`,
and offers it to handlers as a dependency:

- DatabasePlugin: the asyncpg pool; `conn` is one pooled connection per request.
- RedisPlugin: the Redis client (None without REDIS_URL) and the rate limiter.
- AuthPlugin: token checking, the SMS code sender and the sign-in rules.
- WorkersPlugin: the job queue inside the web process (embedded default).
- ListenPlugin: the process's one LISTEN connection (db/listen.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol
from pgqueuer import PgQueuer
from redis.asyncio import Redis

from db.listen import Notifications
from db.pool import create_pool
from server.auth.service import Auth
from server.auth.session_cache import SessionCache
from server.auth.sms import CodeSender, ConsoleCodeSender, TwilioVerifyCodeSender
from server.auth.tokens import TokenService
from server.deps import provide_auth, provide_connection, provide_current_user
from server.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from server.settings import Settings
from workers.push.runtime import PushRuntime
from workers.queue import build_queue, embedder_for, run_queue


class DatabasePlugin(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        assert self.settings.database_url, "the app needs DATABASE_URL (python -m server sets it)"
        app.state.db_pool = await create_pool(
            self.settings.database_url,
            min_size=self.settings.database_pool_min,
            max_size=self.settings.database_pool_max,
            statement_timeout_ms=self.settings.database_statement_timeout_ms,
        )
        try:
            yield
        finally:
            await app.state.db_pool.close()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.state["settings"] = self.settings
        app_config.lifespan.append(self.lifespan)
        app_config.dependencies.update(
            {
                "conn": Provide(provide_connection),
                "current_user": Provide(provide_current_user, sync_to_thread=False),
            }
        )
        return app_config


class RedisPlugin(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        redis: Redis | None = None
        limiter: RateLimiter = MemoryRateLimiter()
        if self.settings.redis_url:
            redis = Redis.from_url(self.settings.redis_url, health_check_interval=30)
            limiter = RedisRateLimiter(redis, self.settings.redis_key_prefix)
        app.state.redis = redis
        app.state.rate_limiter = limiter
        try:
            yield
        finally:
            if redis is not None:
                await redis.aclose()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        return app_config


class AuthPlugin(InitPluginProtocol):
    """Needs RedisPlugin's rate limiter, so it is listed after it; the session
    cache registers on the ListenPlugin's Notifications."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        sender: CodeSender
        if self.settings.uses_twilio:
            sender = twilio = TwilioVerifyCodeSender(self.settings)
        else:
            sender, twilio = ConsoleCodeSender(), None
        tokens = TokenService(self.settings)
        sessions = SessionCache(self.settings.session_cache_seconds, app.state.notifications)
        app.state.tokens = tokens
        app.state.auth = Auth(self.settings, tokens, sender, app.state.rate_limiter, sessions)
        try:
            yield
        finally:
            if twilio is not None:
                await twilio.aclose()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        app_config.dependencies["auth"] = Provide(provide_auth, sync_to_thread=False)
        return app_config


class WorkersPlugin(InitPluginProtocol):
    """Runs the job queue inside the web process when there is only one process."""

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        settings: Settings = app.state.settings
        assert settings.database_url
        # The jobs' own pool: without the web's statement timeout (a job may
        # rightly run long), and not competing with requests for connections.
        # Sized as `python -m workers` sizes its own: the queue holds several at once.
        pool = await create_pool(
            settings.database_url, min_size=1, max_size=settings.database_pool_max
        )
        embedder = embedder_for(settings)
        # Live notifications go through this process's own fan-out and presence.
        push = PushRuntime(
            pool,
            settings,
            app.state.fanout,
            app.state.presence,
            app.state.redis,
        )
        # The payments plugin owns the gateway (it starts first and stops last).
        push.sender.wake_on(app.state.notifications)
        stop = asyncio.Event()

        def queue() -> PgQueuer:
            return build_queue(pool, settings, embedder, app.state.payments, push.expo)

        tasks = {
            asyncio.create_task(run_queue(queue, stop)),
            asyncio.create_task(push.sender.run(stop)),
        }
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
            await embedder.aclose()
            await push.aclose()
            await pool.close()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        return app_config


class ListenPlugin(InitPluginProtocol):
    """The process's one LISTEN connection, on `app.state.notifications`.

    The other plugins register their channels in their lifespans, so this one
    is listed after all of them: it starts listening once every channel is
    known, and stops first, before anything that reacts to a notification.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        assert self.settings.database_url
        notifications: Notifications = app.state.notifications
        await notifications.start(self.settings.database_url)
        try:
            yield
        finally:
            await notifications.stop()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.state["notifications"] = Notifications()
        app_config.lifespan.append(self.lifespan)
        return app_config
