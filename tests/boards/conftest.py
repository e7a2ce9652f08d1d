"""Event-board fixtures: a published event with one person in every relation to it."""

from __future__ import annotations

import uuid

import pytest
from boards.steps import Cast
from builders import Kit


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
