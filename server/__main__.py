"""`python -m server`: run the web server on this machine, or manage staff accounts.

Without DATABASE_URL it starts the embedded PostgreSQL under MOMENTO_DATA_DIR
(kept across restarts, stopped with the server), migrates, and serves on PORT.

- `python -m server [run] [--host H]`: serve HTTP (the default).
- `python -m server create-staff <phone> [--role admin|moderator|support]`:
  make the person with this US number staff (the user is created if new).
- `python -m server create-staff <phone> --revoke`: remove their staff account.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator

import msgspec
import uvicorn

from db.embedded import pgdata_dir, start_embedded_postgres
from db.migrate import MigrationError, migrate
from db.pool import connect
from gateway.transport import FrameProtocol
from server.admin import service as admin_service
from server.admin.schemas import STAFF_ROLES, StaffRole
from server.app import create_app
from server.auth.phone import us_phone
from server.demo import DemoSummary, fill_demo_data
from server.errors import ApiError
from server.settings import Settings, SettingsError, load_settings
from server.storage.plugin import open_storage


@contextlib.contextmanager
def migrated_database(settings: Settings) -> Iterator[Settings]:
    """The settings with a migrated database: DATABASE_URL, or the embedded one
    (started here and stopped on the way out)."""
    embedded = None
    if not settings.database_url:
        embedded, url = start_embedded_postgres(pgdata_dir(settings.data_dir))
        settings = msgspec.structs.replace(settings, database_url=url)
        print(f"embedded PostgreSQL: {url}", file=sys.stderr)
    assert settings.database_url
    try:
        asyncio.run(migrate(settings.database_url))
        yield settings
    finally:
        if embedded is not None:
            embedded.cleanup()


def run(host: str) -> int:
    with migrated_database(load_settings()) as settings:
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
            # Chat frames are small; per-connection deflate state doubles the
            # memory of an idle WebSocket (~78 KB against ~36 KB).
            ws=FrameProtocol,
            ws_per_message_deflate=False,
            ws_max_size=1024 * 1024,
        )
    return 0


async def _change_staff(database_url: str, phone: str, role: StaffRole, revoke: bool) -> int:
    conn = await connect(database_url)
    try:
        if revoke:
            revoked = await admin_service.revoke_staff(conn, phone)
            if revoked is None:
                print(f"{phone} is not a staff member", file=sys.stderr)
                return 1
            print(f"user_id={revoked[0]} role={revoked[1]} revoked")
            return 0
        grant = await admin_service.grant_staff(conn, phone, role)
        print(f"user_id={grant.user_id} role={grant.role}")
        return 0
    finally:
        await conn.close()


def create_staff(raw_phone: str, role: StaffRole, revoke: bool) -> int:
    try:
        phone = us_phone(raw_phone)
    except ApiError as exc:
        print(f"{raw_phone!r}: {exc.detail}", file=sys.stderr)
        return 2
    with migrated_database(load_settings()) as settings:
        assert settings.database_url
        return asyncio.run(_change_staff(settings.database_url, phone, role, revoke))


async def _demo(settings: Settings, people: int) -> DemoSummary:
    assert settings.database_url
    conn = await connect(settings.database_url)
    try:
        with open_storage(settings) as storage:
            return await fill_demo_data(conn, storage, settings.max_photo_bytes, people)
    finally:
        await conn.close()


def demo_data(people: int) -> int:
    with migrated_database(load_settings()) as settings:
        summary = asyncio.run(_demo(settings, people))
    if summary.already_present:
        print("demo data is already there")
    else:
        print(
            f"demo data: {summary.people} people, {summary.hosts} hosts, "
            f"{summary.photos} photos, {summary.likes} likes"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server")
    sub = parser.add_subparsers(dest="command")
    run_cmd = sub.add_parser("run", help="serve HTTP (the default)")
    run_cmd.add_argument("--host", default="127.0.0.1")
    staff_cmd = sub.add_parser("create-staff", help="make a phone number's user staff")
    staff_cmd.add_argument("phone", help="a US phone number, any common format")
    staff_cmd.add_argument("--role", choices=STAFF_ROLES, default="admin")
    staff_cmd.add_argument("--revoke", action="store_true", help="remove the staff account")
    demo_cmd = sub.add_parser("demo-data", help="fill the database with demo people and hosts")
    demo_cmd.add_argument("--people", type=int, default=24, help="how many (1..90)")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo-data":
            return demo_data(args.people)
        if args.command == "create-staff":
            return create_staff(args.phone, args.role, args.revoke)
        return run(getattr(args, "host", "127.0.0.1"))
    except (SettingsError, MigrationError) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
