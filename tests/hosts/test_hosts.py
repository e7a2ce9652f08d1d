"""Host profiles and the public host page."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]


async def make_location(db_conn: asyncpg.Connection, owner: dict[str, Any]) -> uuid.UUID:
    location_id: uuid.UUID = await db_conn.fetchval(
        "INSERT INTO locations (name, address, latitude, longitude, created_by_user_id) "
        "VALUES ('The Winslow', '243 E 14th St', 40.73, -73.98, $1) RETURNING id",
        uuid.UUID(owner["user_id"]),
    )
    return location_id


async def test_become_a_host_and_switch_roles(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    r = await client.put(
        "/v1/me/host-profile", headers=bearer(tokens), json={"host_name": "Ada's Walks"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["host_type"] == "user"
    again = await client.put(
        "/v1/me/host-profile",
        headers=bearer(tokens),
        json={"host_name": "Ada's Walks", "host_bio": "Sunday walks"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == r.json()["id"]
    patched = await client.patch(
        "/v1/me/host-profile", headers=bearer(tokens), json={"host_bio": None}
    )
    assert patched.status_code == 200
    assert patched.json()["host_bio"] is None
    assert patched.json()["host_name"] == "Ada's Walks"

    me = await client.patch("/v1/me", headers=bearer(tokens), json={"active_role": "host"})
    assert me.status_code == 200
    assert me.json()["roles"] == ["host"]
    assert me.json()["user"]["active_role"] == "host"


async def test_community_hosts_need_their_own_location(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    host = await sign_in()
    other = await sign_in()
    mine = await make_location(db_conn, host)
    theirs = await make_location(db_conn, other)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"host_name": "Bar", "host_type": "community"}, 422, "location_required"),
        # Someone else's place, or none: not one the caller may know of.
        (
            {"host_name": "Bar", "host_type": "community", "location_id": str(theirs)},
            404,
            "not_found",
        ),
        (
            {"host_name": "Bar", "host_type": "community", "location_id": str(uuid.uuid4())},
            404,
            "not_found",
        ),
        ({"host_name": "Bar", "location_id": str(mine)}, 422, "invalid_location"),
        ({"host_name": ""}, 422, "validation_error"),
        ({"host_name": "Bar", "host_type": "venue"}, 422, "validation_error"),
        ({"host_name": "Bar", "average_rating": 5}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = await client.put("/v1/me/host-profile", headers=bearer(host), json=body)
        assert r.status_code == status, body
        assert r.json()["code"] == code, body
    assert (await client.get("/v1/me", headers=bearer(host))).json()["host_profile"] is None

    ok = await client.put(
        "/v1/me/host-profile",
        headers=bearer(host),
        json={"host_name": "Bar", "host_type": "community", "location_id": str(mine)},
    )
    assert ok.status_code == 201
    # Switching to a user host while keeping the location is refused, atomically.
    r = await client.patch("/v1/me/host-profile", headers=bearer(host), json={"host_type": "user"})
    assert r.status_code == 422
    r = await client.patch(
        "/v1/me/host-profile", headers=bearer(host), json={"host_type": "user", "location_id": None}
    )
    assert r.status_code == 200

    no_host = await sign_in()
    r = await client.patch("/v1/me/host-profile", headers=bearer(no_host), json={"host_bio": "x"})
    assert r.status_code == 409
    assert r.json()["code"] == "host_profile_required"


async def test_public_host_page(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> None:
    host = await sign_in()
    viewer = await sign_in()
    location = await make_location(db_conn, host)
    page = (
        await client.put(
            "/v1/me/host-profile",
            headers=bearer(host),
            json={"host_name": "Winslow", "host_type": "community", "location_id": str(location)},
        )
    ).json()
    host_id = uuid.UUID(page["id"])
    host_user = uuid.UUID(host["user_id"])
    await db_conn.execute(
        "INSERT INTO user_social_links (user_id, platform, url, is_public_on_host_profile) VALUES "
        "($1, 'instagram', 'https://instagram.com/winslow', true), "
        "($1, 'twitter', 'https://x.com/private', false)",
        host_user,
    )
    await db_conn.execute(
        "INSERT INTO host_photos (host_id, image_url, photo_type, caption) "
        "VALUES ($1, 'host/logo.png', 'logo', 'Our logo')",
        host_id,
    )
    rater_user = await db_conn.fetchval(
        "INSERT INTO users (phone_number) VALUES ('+12025559999') RETURNING id"
    )
    rater = await db_conn.fetchval(
        "INSERT INTO social_profiles (user_id, gender, interested_in) "
        "VALUES ($1, 'Man', ARRAY['Woman']) RETURNING id",
        rater_user,
    )
    event_sql = "INSERT INTO events (host_id, title, status) VALUES ($1, $2, $3) RETURNING id"
    done = await db_conn.fetchval(event_sql, host_id, "Trivia night", "completed")
    draft = await db_conn.fetchval(event_sql, host_id, "Secret plan", "draft")
    await db_conn.execute(
        'INSERT INTO event_itinerary_stops (event_id, location_id, "order", start_time, '
        "end_time) VALUES ($1, $2, 1, now() - interval '3 hours', now() - interval '1 hour')",
        done,
        location,
    )
    await db_conn.execute(
        "INSERT INTO ratings (event_id, rater_profile_id, rated_host_id, host_rating_value, "
        "event_rating_value) VALUES ($1, $2, $3, 4, 5)",
        done,
        rater,
        host_id,
    )

    r = await client.get(f"/v1/hosts/{host_id}", headers=bearer(viewer))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["host_name"] == "Winslow"
    assert body["location"]["name"] == "The Winslow"
    assert body["average_rating"] == 4.0
    assert body["rating_count"] == 1
    assert [e["title"] for e in body["event_history"]] == ["Trivia night"]
    assert body["event_history"][0]["average_event_rating"] == 5.0
    assert body["social_links"] == [
        {"platform": "instagram", "url": "https://instagram.com/winslow"}
    ]
    assert body["photos"][0]["image_url"].endswith("host/logo.png")
    assert body["photos"][0]["caption"] == "Our logo"
    assert "x.com/private" not in r.text
    assert "Secret plan" not in r.text
    assert str(draft) not in r.text
    assert host["user_id"] not in r.text


async def test_who_must_not_see_a_host_page(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    host = await sign_in()
    viewer = await sign_in()
    host_id = (
        await client.put("/v1/me/host-profile", headers=bearer(host), json={"host_name": "H"})
    ).json()["id"]
    path = f"/v1/hosts/{host_id}"
    assert (await client.get(path)).status_code == 401
    assert (
        await client.get(f"/v1/hosts/{uuid.uuid4()}", headers=bearer(viewer))
    ).status_code == 404
    await db_conn.execute(
        "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)",
        uuid.UUID(viewer["user_id"]),
        uuid.UUID(host["user_id"]),
    )
    assert (await client.get(path, headers=bearer(viewer))).status_code == 404
    await db_conn.execute("DELETE FROM blocked_users")
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(host["user_id"])
    )
    assert (await client.get(path, headers=bearer(viewer))).status_code == 404
