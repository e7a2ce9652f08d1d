"""What the suites make through the API (people, hosts, places, events,
conversations) or straight in the database (invitations, attendance, bare
events), and apps with changed settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from helpers import bearer
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings

Client = AsyncTestClient[Any]
Person = dict[str, Any]


@asynccontextmanager
async def client_with(settings: Settings, **changes: Any) -> AsyncIterator[Client]:
    """A client of an app whose settings differ from the test's by `changes`."""
    async with AsyncTestClient(app=create_app(msgspec.structs.replace(settings, **changes))) as c:
        yield c


class Kit:
    """Hosts, guests, places and events made through the API (the `kit` fixture);
    invitations written straight into the database."""

    def __init__(self, client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> None:
        self.client = client
        self.sign_in = sign_in
        self.db = db_conn

    @staticmethod
    def at(hours: float) -> str:
        """An RFC 3339 time `hours` from now."""
        return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()

    @staticmethod
    def stop(
        location_id: str, start_hours: float, length_hours: float = 2, **extra: Any
    ) -> dict[str, Any]:
        return {
            "location_id": location_id,
            "start_time": Kit.at(start_hours),
            "end_time": Kit.at(start_hours + length_hours),
            **extra,
        }

    async def person(self, first_name: str = "Guest") -> Person:
        """Signed in, with a social profile: `profile_id` added to the tokens."""
        tokens: Person = await self.sign_in()
        r = await self.client.put(
            "/v1/me/social-profile",
            headers=bearer(tokens),
            json={"gender": "Woman", "interested_in": ["Man"], "first_name": first_name},
        )
        assert r.status_code == 201, r.text
        return {**tokens, "profile_id": r.json()["id"]}

    async def host(self, name: str = "Ada's Walks") -> Person:
        """A person who is also a host: `host_id` added."""
        tokens = await self.person("Ada")
        r = await self.client.put(
            "/v1/me/host-profile", headers=bearer(tokens), json={"host_name": name}
        )
        assert r.status_code == 201, r.text
        return {**tokens, "host_id": r.json()["id"]}

    async def community_host(self, name: str = "The Winslow") -> Person:
        """A host with no social profile (the seed's "Community Host"): `host_id`
        and its place's `location_id` added."""
        tokens: Person = await self.sign_in()
        venue = await self.location(tokens, "Community hall")
        r = await self.client.put(
            "/v1/me/host-profile",
            headers=bearer(tokens),
            json={"host_name": name, "host_type": "community", "location_id": venue},
        )
        assert r.status_code == 201, r.text
        return {**tokens, "host_id": r.json()["id"], "location_id": venue}

    async def location(self, owner: Person, address: str = "243 E 14th St") -> str:
        r = await self.client.post(
            "/v1/locations",
            headers=bearer(owner),
            json={"name": "The Winslow", "address": address, "latitude": 40.73, "longitude": -74},
        )
        assert r.status_code == 201, r.text
        location_id: str = r.json()["id"]
        return location_id

    async def draft(self, host: Person, **body: Any) -> dict[str, Any]:
        """A draft that passes every publishing check, unless `body` says otherwise."""
        if "stops" not in body:
            body["stops"] = [self.stop(await self.location(host), 48, title="Dinner")]
        payload = {
            "title": "Supper club",
            "description": "Six strangers, one long table",
            "min_attendees": 2,
            "max_attendees": 6,
            "age_min": 25,
            "age_max": 40,
            "arrival_signpost": "Ring the green door",
            **body,
        }
        r = await self.client.post("/v1/events", headers=bearer(host), json=payload)
        assert r.status_code == 201, r.text
        event: dict[str, Any] = r.json()
        return event

    async def published(self, host: Person, **body: Any) -> dict[str, Any]:
        event = await self.draft(host, **body)
        r = await self.client.post(f"/v1/events/{event['id']}/publish", headers=bearer(host))
        assert r.status_code == 200, r.text
        published: dict[str, Any] = r.json()
        return published

    async def invite(self, event: dict[str, Any], guest: Person, status: str = "sent") -> uuid.UUID:
        invitation_id: uuid.UUID = await self.db.fetchval(
            "INSERT INTO invitations (event_id, profile_id, status, match_reason, wave, "
            "match_score) VALUES ($1, $2, $3, 'You both love long dinners', 1, 0.87) "
            "RETURNING id",
            uuid.UUID(event["id"]),
            uuid.UUID(guest["profile_id"]),
            status,
        )
        return invitation_id

    async def collaborator(self, host: Person, event: dict[str, Any], user: Person) -> None:
        r = await self.client.post(
            f"/v1/events/{event['id']}/collaborators",
            headers=bearer(host),
            json={"user_id": user["user_id"], "role": "Chef"},
        )
        assert r.status_code == 201, r.text


# ── Conversations: people who attended an event together ──


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


# ── Straight in the database ──


async def make_event(db_conn: asyncpg.Connection, host_user_id: str) -> str:
    """A bare event (every column at its default) of a new host profile of `host_user_id`."""
    host_id = await db_conn.fetchval(
        "INSERT INTO host_profiles (user_id, host_type, host_name) VALUES ($1, 'user', 'H') "
        "RETURNING id",
        uuid.UUID(host_user_id),
    )
    return str(
        await db_conn.fetchval(
            "INSERT INTO events (host_id, title) VALUES ($1, 'Picnic') RETURNING id", host_id
        )
    )


# ── After the event: events happening now ──


async def move_event(
    db: asyncpg.Connection, event_id: str, start_hours: float, length_hours: float = 2
) -> None:
    """Shift the event's stops, in order and back to back, each `length_hours`
    long, so the first starts `start_hours` from now (negative: it has started)."""
    first = datetime.now(UTC) + timedelta(hours=start_hours)
    length = timedelta(hours=length_hours)
    await db.execute(
        """
        UPDATE event_itinerary_stops s
        SET start_time = $2::timestamptz + (s."order" - 1) * $3::interval,
            end_time = $2::timestamptz + s."order" * $3::interval
        WHERE s.event_id = $1
        """,
        uuid.UUID(event_id),
        first,
        length,
    )
    await db.execute(
        "UPDATE events e SET starts_at = t.starts_at, ends_at = t.ends_at FROM ("
        "  SELECT min(start_time) AS starts_at, max(end_time) AS ends_at"
        "  FROM event_itinerary_stops WHERE event_id = $1) t WHERE e.id = $1",
        uuid.UUID(event_id),
    )


async def happening(
    kit: Kit,
    host: Person,
    *guests: Person,
    start_hours: float = -0.25,
    length_hours: float = 2,
    stops: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A published event whose first stop starts `start_hours` from now (by default
    it began a quarter of an hour ago), each guest a confirmed invitee. Its stops are
    at the kit's location (40.73, -74) unless `stops` says otherwise."""
    body: dict[str, Any] = {"max_attendees": max(2, len(guests) + 1)}
    if stops is not None:
        body["stops"] = stops
    event = await kit.published(host, **body)
    await move_event(kit.db, event["id"], start_hours, length_hours)
    for guest in guests:
        await kit.invite(event, guest, "confirmed")
    return event


async def met(kit: Kit, host: Person, *people: Person) -> dict[str, Any]:
    """The people attended one event of `host` together (checked in), and it has
    completed: each finds the others in their Memory Book."""
    from server.events.lifecycle import complete_finished_events

    event = await happening(kit, host, *people)
    for person in people:
        await kit.db.execute(
            "INSERT INTO attendance (event_id, profile_id, status, source) "
            "VALUES ($1, $2, 'attended', 'check_in')",
            uuid.UUID(event["id"]),
            uuid.UUID(person["profile_id"]),
        )
    await move_event(kit.db, event["id"], start_hours=-3)
    assert await complete_finished_events(kit.db, datetime.now(UTC)) >= 1
    return event
