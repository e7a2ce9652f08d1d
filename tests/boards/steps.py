"""What the board tests do again and again: post as one of the cast."""

from __future__ import annotations

from typing import Any

from builders import Client
from helpers import bearer

Cast = dict[str, Any]


async def post(
    client: Client, cast: Cast, who: str, content: str = "Hello", **body: Any
) -> dict[str, Any]:
    r = await client.post(cast["url"], headers=bearer(cast[who]), json={"content": content, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created
