"""The migration runner, against a real PostgreSQL.

What operators rely on: every file in db/migrations is applied once, in number
order, and recorded with its checksum; re-running is a no-op; concurrent
runners (several web processes starting at once) queue up instead of racing;
an edited or unknown migration stops the run; a failing migration leaves
nothing half-applied; `python -m db migrate` says what it did.

Every test here starts from an EMPTY database (not the migrated template).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from db.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, migrate

REPO_ROOT = Path(__file__).parents[2]


async def _fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await conn.close()


async def _history(url: str) -> list[tuple[int, str, str]]:
    rows = await _fetch(url, "SELECT version, name, checksum FROM schema_migrations ORDER BY 1")
    return [(r["version"], r["name"], r["checksum"]) for r in rows]


async def _table_exists(url: str, table: str) -> bool:
    rows = await _fetch(url, "SELECT to_regclass($1) IS NOT NULL AS present", f"public.{table}")
    return bool(rows[0]["present"])


async def _snapshot(url: str) -> list[tuple[Any, ...]]:
    """Everything a re-run could plausibly change: history rows, columns, indexes."""
    history = await _fetch(url, "SELECT * FROM schema_migrations ORDER BY version")
    columns = await _fetch(
        url,
        """
        SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1, 2, 3
        """,
    )
    indexes = await _fetch(
        url, "SELECT schemaname, indexname, indexdef FROM pg_indexes ORDER BY 1, 2"
    )
    return [tuple(r.values()) for r in [*history, *columns, *indexes]]


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


# ── The real migrations ─────────────────────────────────────────────────────


async def test_empty_database_gets_every_migration_in_order(empty_database: str) -> None:
    expected = load_migrations()
    assert [m.name for m in expected] == sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))

    applied = await migrate(empty_database)

    assert applied == [m.name for m in expected]
    assert await _history(empty_database) == [(m.version, m.name, m.checksum) for m in expected]
    assert await _table_exists(empty_database, "users")


async def test_second_run_applies_nothing_and_changes_nothing(empty_database: str) -> None:
    await migrate(empty_database)
    before = await _snapshot(empty_database)

    assert await migrate(empty_database) == []

    assert await _snapshot(empty_database) == before


@pytest.mark.parametrize("attempt", range(3))
async def test_concurrent_runners_apply_each_migration_exactly_once(
    empty_database: str, attempt: int
) -> None:
    """Four processes starting at once: one applies everything, the others find it done."""
    expected = load_migrations()

    results = await asyncio.gather(*(migrate(empty_database) for _ in range(4)))

    applied_by_someone = sorted(name for result in results for name in result)
    assert applied_by_someone == [m.name for m in expected]
    assert sum(1 for result in results if result) == 1  # the lock holder did it all
    assert await _history(empty_database) == [(m.version, m.name, m.checksum) for m in expected]
    assert await _table_exists(empty_database, "users")


# ── History checks, with small migrations of our own ────────────────────────


async def test_edited_migration_is_refused_and_nothing_new_is_applied(
    empty_database: str, tmp_path: Path
) -> None:
    directory = _write(tmp_path / "migrations", {"0001_first.sql": "CREATE TABLE first (id int);"})
    await migrate(empty_database, directory)

    _write(
        directory,
        {
            "0001_first.sql": "CREATE TABLE first (id bigint);",  # edited after being applied
            "0002_second.sql": "CREATE TABLE second (id int);",
        },
    )
    with pytest.raises(MigrationError, match="0001_first"):
        await migrate(empty_database, directory)

    # The check comes before anything is applied.
    assert not await _table_exists(empty_database, "second")
    assert [v for v, _, _ in await _history(empty_database)] == [1]


async def test_migration_unknown_to_the_code_is_refused(
    empty_database: str, tmp_path: Path
) -> None:
    """A database migrated by newer code must not be touched by older code."""
    newer = _write(
        tmp_path / "newer",
        {
            "0001_first.sql": "CREATE TABLE first (id int);",
            "0002_second.sql": "CREATE TABLE second (id int);",
        },
    )
    older = _write(tmp_path / "older", {"0001_first.sql": "CREATE TABLE first (id int);"})
    await migrate(empty_database, newer)

    with pytest.raises(MigrationError, match="0002_second"):
        await migrate(empty_database, older)


async def test_new_file_numbered_before_an_applied_one_is_refused(
    empty_database: str, tmp_path: Path
) -> None:
    """A branch that lands 0002 after 0003 ran would apply out of order: refuse."""
    directory = _write(
        tmp_path / "migrations",
        {
            "0001_first.sql": "CREATE TABLE first (id int);",
            "0003_third.sql": "CREATE TABLE third (id int);",
        },
    )
    await migrate(empty_database, directory)
    _write(directory, {"0002_late.sql": "CREATE TABLE late (id int);"})

    with pytest.raises(MigrationError, match="0002_late"):
        await migrate(empty_database, directory)
    assert not await _table_exists(empty_database, "late")


async def test_failing_migration_leaves_nothing_of_itself(
    empty_database: str, tmp_path: Path
) -> None:
    directory = _write(
        tmp_path / "migrations",
        {
            "0001_good.sql": "CREATE TABLE good (id int);",
            "0002_bad.sql": "CREATE TABLE half (id int);\nSELECT * FROM no_such_table;",
        },
    )

    with pytest.raises(MigrationError, match="0002_bad"):
        await migrate(empty_database, directory)

    assert await _table_exists(empty_database, "good")
    assert not await _table_exists(empty_database, "half")
    assert [name for _, name, _ in await _history(empty_database)] == ["0001_good"]

    # Once the file is fixed (it was never recorded, so that is allowed) it applies.
    _write(directory, {"0002_bad.sql": "CREATE TABLE half (id int);"})
    assert await migrate(empty_database, directory) == ["0002_bad"]


async def test_no_transaction_migration_is_applied_and_recorded(
    empty_database: str, tmp_path: Path
) -> None:
    """CREATE INDEX CONCURRENTLY fails inside a transaction, so this proves it ran outside one."""
    directory = _write(
        tmp_path / "migrations",
        {
            "0001_table.sql": "CREATE TABLE things (id int);",
            "0002_index.sql": (
                "-- migrate: no-transaction\n"
                "CREATE INDEX CONCURRENTLY things_id_idx ON things (id);\n"
            ),
        },
    )
    assert [m.transactional for m in load_migrations(directory)] == [True, False]

    assert await migrate(empty_database, directory) == ["0001_table", "0002_index"]

    indexes = await _fetch(
        empty_database, "SELECT indexname FROM pg_indexes WHERE tablename = 'things'"
    )
    assert [r["indexname"] for r in indexes] == ["things_id_idx"]
    assert [name for _, name, _ in await _history(empty_database)] == ["0001_table", "0002_index"]


# ── File naming ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "bad_name",
    ["1_init.sql", "0001-init.sql", "0001_Init.sql", "init.sql", "00001_init.sql", "0001_.sql"],
)
def test_badly_named_file_is_rejected(tmp_path: Path, bad_name: str) -> None:
    directory = _write(tmp_path, {"0001_ok.sql": "SELECT 1;", bad_name: "SELECT 1;"})
    with pytest.raises(MigrationError, match=bad_name):
        load_migrations(directory)


def test_duplicate_numbers_are_rejected(tmp_path: Path) -> None:
    directory = _write(tmp_path, {"0001_one.sql": "SELECT 1;", "0001_other.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="0001"):
        load_migrations(directory)


def test_files_load_in_number_order_with_their_checksums(tmp_path: Path) -> None:
    directory = _write(tmp_path, {"0010_late.sql": "SELECT 10;", "0002_early.sql": "SELECT 2;"})
    loaded = load_migrations(directory)
    assert [(m.version, m.name) for m in loaded] == [(2, "0002_early"), (10, "0010_late")]
    assert len({m.checksum for m in loaded}) == 2


# ── The command operators run ───────────────────────────────────────────────


def test_command_line_migrates_then_reports_up_to_date(empty_database: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "db", "migrate"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = run()
    assert first.returncode == 0, first.stderr
    for migration in load_migrations():
        assert migration.name in first.stdout

    second = run()
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
