"""New messages and read markers reach the conversation's live channel."""

from __future__ import annotations

import uuid
from typing import Any

from builders import attended, send, start
from helpers import bearer, listen

Kit = Any


async def test_messages_and_read_markers_are_published(kit: Kit) -> None:
    ann, bob = await kit.person("Ann"), await kit.person("Bob")
    await attended(kit, ann, bob)
    conversation = await start(kit, ann, bob)
    channel = f"conversation:{conversation['id']}"
    live = await listen(kit.client, channel)

    client_id = str(uuid.uuid4())
    message = await send(kit, ann, conversation, "hi", client_id=client_id)
    await send(kit, ann, conversation, "hi", client_id=client_id)  # a retry: nothing new
    r = await kit.client.post(
        f"/v1/conversations/{conversation['id']}/read", headers=bearer(bob), json={"seq": 5}
    )
    assert r.status_code == 204
    assert await live.wait_for(2) == [
        {"type": "message", "channel": channel, "seq": 1, "data": message},
        {"type": "read", "channel": channel, "profile_id": bob["profile_id"], "seq": 1},
    ]
