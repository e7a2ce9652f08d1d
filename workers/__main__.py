"""`python -m workers`: run the job queue until SIGTERM/SIGINT (the Procfile's `worker`)."""

from __future__ import annotations

import asyncio
import signal
import sys

from pgqueuer import PgQueuer
from redis.asyncio import BlockingConnectionPool, Redis

from db.listen import Notifications
from db.pool import create_pool
from realtime.fanout import Fanout, RedisFanout
from realtime.presence import Presence
from server.logging import configure_logging
from server.payments.plugin import build_gateway
from server.settings import SettingsError, load_settings
from workers.push.runtime import PushRuntime
from workers.queue import build_queue, embedder_for, run_queue

# Callers wait for a free connection rather than fail when all are busy.
REDIS_CONNECTIONS = 50


async def _main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    if not settings.database_url:
        raise SettingsError(
            "python -m workers needs DATABASE_URL (the web process runs "
            "the workers itself on the embedded database)"
        )
    # Handlers first: a SIGTERM during start-up must still end in a clean exit.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings.database_url, min_size=1, max_size=settings.database_pool_max)
    embedder = embedder_for(settings)
    gateway = build_gateway(settings)
    # Live notifications reach the web processes' connections through Redis.
    redis = (
        Redis(
            connection_pool=BlockingConnectionPool.from_url(
                settings.redis_url, max_connections=REDIS_CONNECTIONS, timeout=5
            )
        )
        if settings.redis_url
        else None
    )
    fanout = RedisFanout(redis, settings.redis_key_prefix) if redis else Fanout()
    push = PushRuntime(pool, settings, fanout, redis or Presence(), redis)
    notifications = Notifications()
    push.sender.wake_on(notifications)

    def queue() -> PgQueuer:
        return build_queue(pool, settings, embedder, gateway, push.expo)

    try:
        if not stop.is_set():
            await notifications.start(settings.database_url)
            await asyncio.gather(run_queue(queue, stop), push.sender.run(stop))
    finally:
        await notifications.stop()
        await embedder.aclose()
        await push.aclose()
        if gateway is not None:
            await gateway.aclose()
        if redis is not None:
            await redis.aclose()
        await pool.close()


def main() -> int:
    try:
        asyncio.run(_main())
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
