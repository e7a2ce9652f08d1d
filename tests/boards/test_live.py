"""A new post reaches the board's live channel once; retries and deletes send nothing."""

from __future__ import annotations

import uuid
from typing import Any

from boards.steps import Cast, post
from helpers import bearer, listen

Kit = Any


async def test_new_posts_are_published_once(kit: Kit, cast: Cast) -> None:
    channel = f"event:{cast['event']['id']}"
    live = await listen(kit.client, channel)
    client_id = str(uuid.uuid4())
    first = await post(kit.client, cast, "attendee", "hello", client_id=client_id)
    await post(kit.client, cast, "attendee", "hello", client_id=client_id)
    r = await kit.client.delete(f"{cast['url']}/{first['id']}", headers=bearer(cast["host"]))
    assert r.status_code == 204
    second = await post(kit.client, cast, "host", "welcome")
    assert await live.wait_for(2) == [
        {"type": "message", "channel": channel, "seq": 1, "data": first},
        {"type": "message", "channel": channel, "seq": 2, "data": second},
    ]
