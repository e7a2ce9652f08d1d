"""What the board tests do again and again: post as one of the cast."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from builders import Client
from helpers import bearer

from server.storage.local import LocalStorage

Cast = dict[str, Any]
# For posts made or read by calling the service directly: it only turns keys of
# stored files (a host's logo) into URLs.
STORAGE = LocalStorage(Path(tempfile.gettempdir()) / "momento-board-tests", "http://localhost")


async def post(
    client: Client, cast: Cast, who: str, content: str = "Hello", **body: Any
) -> dict[str, Any]:
    r = await client.post(cast["url"], headers=bearer(cast[who]), json={"content": content, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created
