"""`python -m server`: run the web server on this machine.

Without DATABASE_URL it starts the embedded PostgreSQL under MOMENTO_DATA_DIR
(kept across restarts, stopped with the server), migrates, and serves on PORT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import msgspec
import uvicorn

from db.embedded import pgdata_dir, start_embedded_postgres
from db.migrate import MigrationError, migrate
from server.app import create_app
from server.settings import SettingsError, load_settings


def run(host: str) -> int:
    settings = load_settings()
    embedded = None
    if not settings.database_url:
        embedded, url = start_embedded_postgres(pgdata_dir(settings.data_dir))
        settings = msgspec.structs.replace(settings, database_url=url)
        print(f"embedded PostgreSQL: {url}", file=sys.stderr)
    assert settings.database_url
    try:
        asyncio.run(migrate(settings.database_url))
        # uvicorn re-raises SIGTERM/SIGINT once it has shut down gracefully; the
        # default handler would then kill the process before `finally` stops the
        # embedded database. A no-op handler lets uvicorn.run return instead.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        uvicorn.run(
            create_app(settings),
            host=host,
            port=settings.port,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=10,
        )
    finally:
        if embedded is not None:
            embedded.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server")
    sub = parser.add_subparsers(dest="command")
    run_cmd = sub.add_parser("run", help="serve HTTP (the default)")
    run_cmd.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    try:
        return run(getattr(args, "host", "127.0.0.1"))
    except (SettingsError, MigrationError) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
