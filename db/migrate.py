"""Forward-only migrations: numbered SQL files applied once, in order.

- `db/migrations/NNNN_name.sql`, applied in number order.
- Each file runs in one transaction together with its record in
  `schema_migrations`, unless its first line is `-- migrate: no-transaction`
  (for statements such as CREATE INDEX CONCURRENTLY); such a file must hold
  exactly one statement.
- A session advisory lock makes concurrent runners queue up; the second one
  then finds nothing to do.
- The checksum of every applied file is recorded; an applied file that has
  since been edited, one the database has but this code lacks, or a new file
  numbered before an applied one, is an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from db.queries import migrations as q

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_NO_TRANSACTION = "-- migrate: no-transaction"


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    checksum: str

    @property
    def transactional(self) -> bool:
        return not self.sql.lstrip().startswith(_NO_TRANSACTION)


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_case.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations numbered {version:04d}")
        raw = path.read_bytes()
        found[version] = Migration(
            version=version,
            name=path.stem,
            sql=raw.decode("utf-8"),
            checksum=hashlib.sha256(raw).hexdigest(),
        )
    return [found[v] for v in sorted(found)]


async def migrate(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending migration; return the names of those applied now."""
    migrations = load_migrations(directory)
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    try:
        await q.lock(conn)
        try:
            await q.create_history_table(conn)
            applied = {r["version"]: r for r in await q.applied(conn)}
            _check_history(migrations, applied)
            done: list[str] = []
            for migration in migrations:
                if migration.version in applied:
                    continue
                await _apply(conn, migration)
                done.append(migration.name)
            return done
        finally:
            await q.unlock(conn)
    finally:
        await conn.close()


def _check_history(migrations: list[Migration], applied: dict[int, asyncpg.Record]) -> None:
    known = {m.version: m for m in migrations}
    newest_applied = max(applied, default=0)
    for pending in migrations:
        if pending.version < newest_applied and pending.version not in applied:
            raise MigrationError(
                f"{pending.name} is numbered before an applied migration; "
                "renumber it after the newest one"
            )
    for version, record in applied.items():
        done = known.get(version)
        if done is None:
            raise MigrationError(
                f"the database has migration {record['name']} that this code does not know"
            )
        if done.checksum != record["checksum"]:
            raise MigrationError(
                f"{done.name} was edited after it was applied; "
                "migrations are forward-only: add a new file instead"
            )


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    try:
        await _run(conn, migration)
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"{migration.name} failed: {exc}") from exc


async def _run(conn: asyncpg.Connection, migration: Migration) -> None:
    if migration.transactional:
        async with conn.transaction():
            await conn.execute(migration.sql)
            await q.record(conn, migration.version, migration.name, migration.checksum)
    else:
        await conn.execute(migration.sql)
        await q.record(conn, migration.version, migration.name, migration.checksum)
