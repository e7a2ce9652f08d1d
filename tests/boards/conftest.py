"""Event-board fixtures: the event kit, and a published event with one person in
every relation to it."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest
from events.conftest import Kit
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]
Cast = dict[str, Any]


@pytest.fixture
def kit(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> Kit:
    return Kit(client, sign_in, db_conn)


@pytest.fixture
async def cast(kit: Kit) -> Cast:
    """A published event: host, collaborator, two confirmed attendees, an invitee
    (not confirmed), a stranger; `url` is the board."""
    host = await kit.host()
    people = {
        name: await kit.person(name.title())
        for name in ("collaborator", "attendee", "other_attendee", "invitee", "stranger")
    }
    event = await kit.published(host)
    await kit.collaborator(host, event, people["collaborator"])
    await kit.invite(event, people["attendee"], "confirmed")
    await kit.invite(event, people["other_attendee"], "confirmed")
    await kit.invite(event, people["invitee"], "sent")
    return {
        "host": host,
        "event": event,
        "event_id": uuid.UUID(event["id"]),
        "url": f"/v1/events/{event['id']}/posts",
        **people,
    }


async def post(
    client: Client, cast: Cast, who: str, content: str = "Hello", **body: Any
) -> dict[str, Any]:
    r = await client.post(cast["url"], headers=bearer(cast[who]), json={"content": content, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def gather(*calls: Any) -> list[Any]:
    return list(await asyncio.gather(*calls))


class Recorder:
    """A fan-out listener that keeps every frame delivered on its channels."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()

    def deliver(self, channel: str, delivery: Any) -> None:
        self.frames.append(json.loads(delivery.frame))
        self._arrived.set()

    def resync(self, channel: str) -> None:
        pass

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        """The frames once there are `count`, then a moment more to catch extras."""
        async with asyncio.timeout(5):
            while len(self.frames) < count:
                self._arrived.clear()
                await self._arrived.wait()
        await asyncio.sleep(0.2)
        return self.frames


async def listen(client: Client, channel: str) -> Recorder:
    recorder = Recorder()
    await client.app.state.fanout.listen(channel, recorder)
    return recorder
