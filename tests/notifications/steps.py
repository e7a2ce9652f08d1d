"""What the notification tests do again and again: delivery rounds, push tokens."""

from __future__ import annotations

import uuid

from builders import Client, Person
from helpers import bearer

from workers.push.runtime import PushRuntime


async def deliver(push: PushRuntime) -> int:
    """Run delivery rounds until nothing is due; how many notifications were claimed."""
    total = 0
    while claimed := await push.sender.deliver_due():
        total += claimed
    return total


def expo_token() -> str:
    return f"ExponentPushToken[{uuid.uuid4().hex[:22]}]"


async def with_token(client: Client, person: Person) -> str:
    token = expo_token()
    r = await client.put(
        "/v1/me/push-tokens", headers=bearer(person), json={"token": token, "platform": "ios"}
    )
    assert r.status_code == 201, r.text
    return token


def user_id(person: Person) -> uuid.UUID:
    return uuid.UUID(person["user_id"])
