"""The asyncpg connection pool every process uses."""

from __future__ import annotations

import asyncpg
import msgspec
from pgvector.asyncpg import register_vector


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Decode json/jsonb to Python objects instead of strings.
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=_json_dumps, decoder=_json_loads, schema="pg_catalog"
        )
    await register_vector(conn)


def _json_dumps(value: object) -> str:
    return msgspec.json.encode(value).decode()


def _json_loads(value: str) -> object:
    return msgspec.json.decode(value)


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """Skips asyncpg's reset query when a connection goes back to the pool.

    That query (UNLISTEN, RESET ALL, CLOSE ALL, advisory unlock) is a round
    trip per request for state this project never leaves behind: settings are
    only `SET LOCAL`, cursors live inside transactions, session advisory locks
    are taken only by the migrator on its own connection, and pgqueuer LISTENs
    on a connection it keeps. asyncpg still rolls back an open transaction.
    """

    def get_reset_query(self) -> str:
        return ""


MAX_QUERIES_PER_CONNECTION = 100_000_000


async def create_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 10, statement_timeout_ms: int | None = None
) -> asyncpg.Pool:
    """`statement_timeout_ms`: PostgreSQL cancels any statement running longer
    (the web process's bound; workers' jobs may legitimately run long)."""
    settings = {"statement_timeout": str(statement_timeout_ms)} if statement_timeout_ms else {}
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        connection_class=PooledConnection,
        server_settings=settings,
        # asyncpg replaces a connection after 50,000 queries by default: the
        # message writer's two connections reached that every two minutes at
        # 2,400 messages/s, each time a new backend, its set-up and every
        # statement prepared again, in the middle of the batches.
        max_queries=MAX_QUERIES_PER_CONNECTION,
    )
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """A single connection set up like the pooled ones (for CLIs and tests)."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn
