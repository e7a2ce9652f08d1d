"""`python -m db migrate`: apply pending migrations.

Uses DATABASE_URL; without it, the embedded server under MOMENTO_DATA_DIR
(refused when MOMENTO_ENV=production).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from db.embedded import DEFAULT_DATA_DIR, pgdata_dir, start_embedded_postgres
from db.migrate import MigrationError, migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending migrations")
    parser.parse_args(argv)

    server = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        if os.environ.get("MOMENTO_ENV") == "production":
            print("DATABASE_URL is required in production", file=sys.stderr)
            return 2
        data_dir = Path(os.environ.get("MOMENTO_DATA_DIR") or DEFAULT_DATA_DIR)
        server, dsn = start_embedded_postgres(pgdata_dir(data_dir))
    try:
        applied = asyncio.run(migrate(dsn))
    except MigrationError as exc:
        print(f"migration failed: {exc}", file=sys.stderr)
        return 1
    finally:
        del server
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
