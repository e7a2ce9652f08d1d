"""Deleting an account takes its after-event traces with it, and what others
see moves accordingly."""

from __future__ import annotations

import uuid

from builders import Kit, happening
from helpers import bearer

from tests.attendance.steps import check_in


async def test_a_deleted_raters_stars_leave_the_host_average_and_their_kudos_go(kit: Kit) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    event = await happening(kit, host, ann, bob)
    for person, stars in ((ann, 5), (bob, 1)):
        await check_in(kit.client, person, event)
        r = await kit.client.post(
            f"/v1/events/{event['id']}/rating",
            headers=bearer(person),
            json={"host_rating_value": stars, "event_rating_value": stars},
        )
        assert r.status_code == 201
    r = await kit.client.post(
        f"/v1/events/{event['id']}/kudos",
        headers=bearer(bob),
        json={"receiver_profile_id": ann["profile_id"], "kudo": "good_energy"},
    )
    assert r.status_code == 201
    assert (await kit.client.delete("/v1/me", headers=bearer(bob))).status_code == 204
    average = await kit.db.fetchval(
        "SELECT average_rating FROM host_profiles WHERE id = $1", uuid.UUID(host["host_id"])
    )
    assert average == 5
    mine = (await kit.client.get("/v1/me/kudos", headers=bearer(ann))).json()
    assert mine == {"total": 0, "counts": []}
    bob_profile = uuid.UUID(bob["profile_id"])
    for table, column in (
        ("attendance", "profile_id"),
        ("ratings", "rater_profile_id"),
        ("connections", "connected_profile_id"),
        ("attendee_kudos", "giver_profile_id"),
    ):
        left = await kit.db.fetchval(
            f"SELECT count(*) FROM {table} WHERE {column} = $1", bob_profile
        )
        assert left == 0, table
