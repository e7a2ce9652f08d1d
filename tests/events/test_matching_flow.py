"""The whole path through real processes' code: a host publishes over HTTP, the
job queue (running in a web process, as on the embedded default) runs the
wave, and the invited people see the event without its exact place."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import msgspec
from builders import Kit
from helpers import bearer
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings


async def _guest(kit: Kit, *, home: tuple[float, float] | None, interests: list[int]) -> Any:
    guest = await kit.person("Guest")
    body: dict[str, Any] = {"birth_date": "1994-05-01"}
    if home is not None:
        body |= {"home_latitude": home[0], "home_longitude": home[1]}
    r = await kit.client.patch("/v1/me", headers=bearer(guest), json=body)
    assert r.status_code == 200, r.text
    r = await kit.client.put(
        "/v1/me/interests", headers=bearer(guest), json={"interest_ids": interests}
    )
    assert r.status_code == 200, r.text
    return guest


async def test_publish_invites_matching_people_through_the_queue(
    kit: Kit, settings: Settings, db_conn: asyncpg.Connection
) -> None:
    ids = dict(await db_conn.fetch("SELECT name, id FROM interests WHERE name IN ('Hiking')"))
    host = await kit.host()
    near = [await _guest(kit, home=(40.74, -74.0), interests=[ids["Hiking"]]) for _ in range(3)]
    far = await _guest(kit, home=(34.05, -118.24), interests=[ids["Hiking"]])
    homeless = await _guest(kit, home=None, interests=[ids["Hiking"]])
    # Ten days ahead: past everyone's default three-day lead time.
    stops = [kit.stop(await kit.location(host), 240, title="Trailhead")]
    event = await kit.published(host, title="Palisades hike", stops=stops)
    event_id = uuid.UUID(event["id"])

    worker_app = create_app(msgspec.structs.replace(settings, run_workers_in_web=True))
    async with AsyncTestClient(app=worker_app):
        for _ in range(300):
            invited = await db_conn.fetch(
                "SELECT i.profile_id, i.match_reason FROM invitations i WHERE i.event_id = $1",
                event_id,
            )
            vectors = await db_conn.fetchval("SELECT count(*) FROM user_interest_vectors")
            if invited and vectors == 5:
                break
            await asyncio.sleep(0.1)
    # Everyone who can reach the stop, and nobody who cannot.
    assert {r["profile_id"] for r in invited} == {uuid.UUID(g["profile_id"]) for g in near}
    assert all(r["match_reason"] for r in invited)
    assert str(far["profile_id"]) not in {str(r["profile_id"]) for r in invited}
    assert str(homeless["profile_id"]) not in {str(r["profile_id"]) for r in invited}
    # The interest jobs ran too (one positive vector per guest).
    assert vectors == 5

    seen = await kit.client.get(f"/v1/events/{event_id}", headers=bearer(near[0]))
    assert seen.status_code == 200
    body = seen.json()
    assert body["viewer_role"] == "invitee"
    assert body["arrival_signpost"] is None
    assert [s["location"] for s in body["stops"]] == [None]
    location_id = event["stops"][0]["location_id"]
    hidden = await kit.client.get(f"/v1/locations/{location_id}", headers=bearer(near[0]))
    assert hidden.status_code == 404
    assert (await kit.client.get(f"/v1/events/{event_id}", headers=bearer(far))).status_code == 404
