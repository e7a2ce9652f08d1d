"""Bookkeeping for the migration runner."""

from __future__ import annotations

import asyncpg

# Any constant works; it only has to be the same in every runner.
_LOCK_KEY = 0x6D6F6D656E746F  # "momento"


async def lock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)


async def unlock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def create_history_table(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


async def applied(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
    )
    return rows


async def record(conn: asyncpg.Connection, version: int, name: str, checksum: str) -> None:
    await conn.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        version,
        name,
        checksum,
    )
