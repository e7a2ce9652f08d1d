"""Social profiles, public views, discover and likes: who sees whom."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from helpers import bearer, block
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]

PROFILE = {"gender": "Woman", "interested_in": ["Man", "Woman"], "first_name": "Ada"}


async def make_person(client: Client, sign_in: Any, **profile: Any) -> dict[str, Any]:
    """Sign a new person in and give them a profile; returns tokens + profile."""
    tokens = await sign_in()
    r = await client.put(
        "/v1/me/social-profile", headers=bearer(tokens), json={**PROFILE, **profile}
    )
    assert r.status_code == 201, r.text
    return {**tokens, "profile": r.json()}


async def test_create_replace_and_patch_my_profile(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    created = await client.put(
        "/v1/me/social-profile",
        headers=bearer(tokens),
        json={**PROFILE, "bio": "Hi", "pronouns": "she/her", "interested_in": ["Man", "Man"]},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["user_id"] == tokens["user_id"]
    assert body["interested_in"] == ["Man"]
    assert body["liked_profiles"] == []

    replaced = await client.put(
        "/v1/me/social-profile",
        headers=bearer(tokens),
        json={"gender": "Man", "interested_in": ["Woman"]},
    )
    assert replaced.status_code == 200
    assert replaced.json()["id"] == body["id"]
    assert replaced.json()["bio"] is None  # PUT replaces the whole profile

    patched = await client.patch(
        "/v1/me/social-profile", headers=bearer(tokens), json={"occupation": "Engineer"}
    )
    assert patched.status_code == 200
    assert patched.json()["occupation"] == "Engineer"
    assert patched.json()["gender"] == "Man"

    me = (await client.get("/v1/me", headers=bearer(tokens))).json()
    assert me["roles"] == ["participant"]
    assert me["social_profile"]["occupation"] == "Engineer"


async def test_profile_input_is_checked(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    patch_first = await client.patch(
        "/v1/me/social-profile", headers=bearer(tokens), json={"bio": "x"}
    )
    assert patch_first.status_code == 409
    assert patch_first.json()["code"] == "social_profile_required"
    bad = [
        {"interested_in": ["Man"]},  # gender missing on create
        {"gender": "Woman"},  # interested_in missing
        {"gender": "Robot", "interested_in": ["Man"]},
        {"gender": "Woman", "interested_in": []},
        {"gender": "Woman", "interested_in": ["Dog"]},
        {**PROFILE, "bio": "x" * 501},
        {**PROFILE, "first_name": ""},
        {**PROFILE, "liked_profiles": []},  # not settable
        {**PROFILE, "user_id": str(uuid.uuid4())},
    ]
    for body in bad:
        r = await client.put("/v1/me/social-profile", headers=bearer(tokens), json=body)
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_error"
    me = (await client.get("/v1/me", headers=bearer(tokens))).json()
    assert me["social_profile"] is None


async def test_current_photo_must_be_my_own(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    alice = await make_person(client, sign_in)
    bob = await make_person(client, sign_in)
    bobs_photo = await db_conn.fetchval(
        "INSERT INTO profile_photos (profile_id, image_url) VALUES ($1, 'photos/b.jpg') "
        "RETURNING id",
        uuid.UUID(bob["profile"]["id"]),
    )
    r = await client.patch(
        "/v1/me/social-profile",
        headers=bearer(alice),
        json={"current_photo_id": str(bobs_photo)},
    )
    assert r.status_code == 404
    assert r.json()["code"] == "invalid_photo"
    r = await client.patch(
        "/v1/me/social-profile",
        headers=bearer(bob),
        json={"current_photo_id": str(bobs_photo), "current_face_card_photo_id": str(bobs_photo)},
    )
    assert r.status_code == 200
    public = (
        await client.get(f"/v1/profiles/{bob['profile']['id']}", headers=bearer(alice))
    ).json()
    assert public["photo_url"].endswith("photos/b.jpg")
    assert public["face_card_url"].endswith("photos/b.jpg")


async def test_public_profile_shows_public_fields_only(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    viewer = await make_person(client, sign_in)
    person = await make_person(client, sign_in, bio="Loves hiking", occupation="Chef")
    await client.patch(
        "/v1/me",
        headers=bearer(person),
        json={
            "email": "secret@example.com",
            "last_name": "Hidden",
            "home_latitude": 1.5,
            "home_longitude": 2.5,
        },
    )
    profile_id = uuid.UUID(person["profile"]["id"])
    hiking = await db_conn.fetchval(
        "INSERT INTO interests (name) VALUES ('Hiking test') RETURNING id"
    )
    await db_conn.execute(
        "INSERT INTO profile_interests (profile_id, interest_id) VALUES ($1, $2)",
        profile_id,
        hiking,
    )
    await db_conn.execute(
        "INSERT INTO profile_photos (profile_id, image_url, is_in_app_photo) "
        "VALUES ($1, 'photos/new.jpg', true)",
        profile_id,
    )
    r = await client.get(f"/v1/profiles/{profile_id}", headers=bearer(viewer))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "id",
        "first_name",
        "preferred_name",
        "bio",
        "gender",
        "pronouns",
        "occupation",
        "location",
        "photo_url",
        "face_card_url",
        "is_authentic",
        "interests",
    }
    assert body["is_authentic"] is True
    assert body["interests"] == [{"id": hiking, "name": "Hiking test"}]
    for secret in ("secret@example.com", "Hidden", person["user_id"], "+1202555"):
        assert secret not in r.text


async def test_authentic_badge_expires_after_twelve_months(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    viewer = await make_person(client, sign_in)
    person = await make_person(client, sign_in)
    profile_id = uuid.UUID(person["profile"]["id"])
    await db_conn.execute(
        "INSERT INTO profile_photos (profile_id, image_url, is_in_app_photo, created_at) VALUES "
        "($1, 'a', true, now() - interval '13 months'), ($1, 'b', false, now())",
        profile_id,
    )
    body = (await client.get(f"/v1/profiles/{profile_id}", headers=bearer(viewer))).json()
    assert body["is_authentic"] is False


async def test_who_must_not_see_a_profile(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    alice = await make_person(client, sign_in)
    bob = await make_person(client, sign_in)
    path = f"/v1/profiles/{bob['profile']['id']}"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=bearer(alice))).status_code == 200
    unknown = await client.get(f"/v1/profiles/{uuid.uuid4()}", headers=bearer(alice))
    assert unknown.status_code == 404

    await block(db_conn, bob, alice)  # bob blocked alice: strangers both ways
    for viewer, target in ((alice, bob), (bob, alice)):
        r = await client.get(f"/v1/profiles/{target['profile']['id']}", headers=bearer(viewer))
        assert r.status_code == 404
        assert r.json()["code"] == "not_found"

    carol = await make_person(client, sign_in)
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(carol["user_id"])
    )
    r = await client.get(f"/v1/profiles/{carol['profile']['id']}", headers=bearer(alice))
    assert r.status_code == 404
    own = await client.get(f"/v1/profiles/{alice['profile']['id']}", headers=bearer(carol))
    assert own.status_code == 403
    assert own.json()["code"] == "account_suspended"


async def test_discover_your_type(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await make_person(client, sign_in, gender="Man", interested_in=["Woman", "Non-binary"])
    women = [await make_person(client, sign_in, gender="Woman") for _ in range(3)]
    nonbinary = await make_person(client, sign_in, gender="Non-binary")
    await make_person(client, sign_in, gender="Man")  # not my type
    blocked_me = await make_person(client, sign_in, gender="Woman")
    i_blocked = await make_person(client, sign_in, gender="Woman")
    suspended = await make_person(client, sign_in, gender="Woman")
    await block(db_conn, blocked_me, me)
    await block(db_conn, me, i_blocked)
    await db_conn.execute(
        "UPDATE users SET status = 'banned' WHERE id = $1", uuid.UUID(suspended["user_id"])
    )

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/v1/discover", headers=bearer(me), params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = {p["profile"]["id"] for p in [*women, nonbinary]}
    assert set(seen) == expected
    assert len(seen) == len(expected)  # each once
    # Newest first.
    assert seen[0] == nonbinary["profile"]["id"]


async def test_discover_needs_a_profile_and_checks_paging(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    r = await client.get("/v1/discover", headers=bearer(tokens))
    assert r.status_code == 409
    assert r.json()["code"] == "social_profile_required"
    me = await make_person(client, sign_in)
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "garbage"}):
        r = await client.get("/v1/discover", headers=bearer(me), params=params)
        assert r.status_code == 422, params
    assert (await client.get("/v1/discover")).status_code == 401


async def test_likes(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> None:
    alice = await make_person(client, sign_in)
    bob = await make_person(client, sign_in)
    bob_id = bob["profile"]["id"]
    like = f"/v1/profiles/{bob_id}/like"
    assert (await client.put(like)).status_code == 401
    assert (await client.put(like, headers=bearer(alice))).status_code == 204
    assert (await client.put(like, headers=bearer(alice))).status_code == 204  # once only
    me = (await client.get("/v1/me", headers=bearer(alice))).json()
    assert me["social_profile"]["liked_profiles"] == [bob_id]

    own = await client.put(f"/v1/profiles/{alice['profile']['id']}/like", headers=bearer(alice))
    assert own.status_code == 422
    assert own.json()["code"] == "cannot_like_self"
    unknown = await client.put(f"/v1/profiles/{uuid.uuid4()}/like", headers=bearer(alice))
    assert unknown.status_code == 404

    # A block makes them strangers: likes disappear and cannot be given.
    await block(db_conn, bob, alice)
    me = (await client.get("/v1/me", headers=bearer(alice))).json()
    assert me["social_profile"]["liked_profiles"] == []
    assert (await client.put(like, headers=bearer(alice))).status_code == 404
    assert (await client.delete(like, headers=bearer(alice))).status_code == 404

    carol = await make_person(client, sign_in)
    carol_like = f"/v1/profiles/{carol['profile']['id']}/like"
    assert (await client.put(carol_like, headers=bearer(alice))).status_code == 204
    assert (await client.delete(carol_like, headers=bearer(alice))).status_code == 204
    me = (await client.get("/v1/me", headers=bearer(alice))).json()
    assert me["social_profile"]["liked_profiles"] == []

    no_profile = await sign_in()
    r = await client.put(carol_like, headers=bearer(no_profile))
    assert r.status_code == 409
