"""The embedded PostgreSQL sizes itself for the machine it runs on."""

from __future__ import annotations

import os

import asyncpg
import pytest

from db.embedded import MB, server_settings

GB = 1024 * MB


@pytest.mark.parametrize(
    ("memory", "shared_buffers", "maintenance_work_mem"),
    [
        (1 * GB, "256MB", "64MB"),  # a small laptop or CI box
        (24 * GB, "6144MB", "1024MB"),  # this kind of machine
        (256 * GB, "8192MB", "1024MB"),  # capped: more buffers than this buy little
    ],
)
def test_shared_buffers_are_a_quarter_of_memory_within_bounds(
    memory: int, shared_buffers: str, maintenance_work_mem: str
) -> None:
    settings = server_settings(memory)
    assert settings["shared_buffers"] == shared_buffers
    assert settings["maintenance_work_mem"] == maintenance_work_mem
    assert settings["effective_cache_size"] == f"{memory * 3 // 4 // MB}MB"


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="not the embedded server")
async def test_the_embedded_server_runs_with_them(database_url: str) -> None:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    conn = await asyncpg.connect(database_url)
    try:
        for name, value in server_settings(memory).items():
            shown = await conn.fetchval("SELECT current_setting($1)", name)
            assert _in_mb(shown) == _in_mb(value), name
    finally:
        await conn.close()


def _in_mb(value: str) -> str:
    """'1GB' and '1024MB' are the same setting."""
    for unit, mb in (("GB", 1024), ("MB", 1)):
        if value.endswith(unit) and value[: -len(unit)].isdigit():
            return f"{int(value[: -len(unit)]) * mb}MB"
    return value
