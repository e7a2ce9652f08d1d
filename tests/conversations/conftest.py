"""Conversation fixtures: people who attended an event together (attendance rows
written straight into the database, as the check-in issue will)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from events.conftest import Kit
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]
Person = dict[str, Any]


@pytest.fixture
def kit(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> Kit:
    return Kit(client, sign_in, db_conn)


async def attended(kit: Kit, *people: Person, status: str = "attended") -> None:
    """The people attended one new event together."""
    event = await kit.published(await kit.host())
    for person in people:
        await kit.db.execute(
            "INSERT INTO attendance (event_id, profile_id, status) VALUES ($1, $2, $3)",
            uuid.UUID(event["id"]),
            uuid.UUID(person["profile_id"]),
            status,
        )


async def start(kit: Kit, me: Person, other: Person, expect: int = 201) -> dict[str, Any]:
    r = await kit.client.post(
        "/v1/conversations", headers=bearer(me), json={"profile_id": other["profile_id"]}
    )
    assert r.status_code == expect, r.text
    body: dict[str, Any] = r.json()
    return body


async def send(
    kit: Kit, me: Person, conversation: dict[str, Any], content: str = "Hi", **body: Any
) -> dict[str, Any]:
    r = await kit.client.post(
        f"/v1/conversations/{conversation['id']}/messages",
        headers=bearer(me),
        json={"content": content, **body},
    )
    assert r.status_code == 201, r.text
    message: dict[str, Any] = r.json()
    return message


async def inbox(kit: Kit, me: Person, **params: Any) -> dict[str, Any]:
    r = await kit.client.get("/v1/conversations", headers=bearer(me), params=params)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


async def gather(*calls: Any) -> list[Any]:
    return list(await asyncio.gather(*calls))
