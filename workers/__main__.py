"""`python -m workers`: run the job queue until SIGTERM/SIGINT (the Procfile's `worker`)."""

from __future__ import annotations

import asyncio
import signal
import sys

from db.pool import create_pool
from server.logging import configure_logging
from server.payments.plugin import build_gateway
from server.settings import SettingsError, load_settings
from workers.queue import build_queue, embedder_for


async def _main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    if not settings.database_url:
        raise SettingsError(
            "python -m workers needs DATABASE_URL (the web process runs "
            "the workers itself on the embedded database)"
        )
    pool = await create_pool(settings.database_url, min_size=1, max_size=settings.database_pool_max)
    embedder = embedder_for(settings)
    gateway = build_gateway(settings)
    pgq = build_queue(pool, settings, embedder, gateway)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, pgq.shutdown.set)
    try:
        await pgq.run()
    finally:
        await embedder.aclose()
        if gateway is not None:
            await gateway.aclose()
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
