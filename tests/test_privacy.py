"""No response shows another user's private data.

One person (the subject) has every kind of private data the contract names:
`users` columns, internal metrics, interest vectors, push tokens, private
social links and locations, payment ids. Another person then calls every GET
route of the OpenAPI document with the subject's ids filled in, plus the
writes that point at the subject, and every response is scanned for those
values, byte for byte.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
from helpers import bearer
from litestar.testing import AsyncTestClient

from db.queries.connections import record_meetings

Client = AsyncTestClient[Any]

SECRETS = {
    "email": "subject.private@example.com",
    "last_name": "Privatelastname",
    "birth_date": "1991-07-14",
    "home_latitude": 40.123457,
    "home_longitude": -73.987654,
    "payment_customer_id": "cus_PRIVATE123",
    "stripe_charge_id": "ch_PRIVATE456",
    "absentee_rating": 0.314159,
    "contribution_score": 2.718281,
    "internal_attractiveness_rating": 1.414213,
    "vector_component": 0.987123,
    "push_token": "ExponentPushToken[PRIVATEtoken789]",
    "private_link": "https://example.com/private-profile-link",
    "private_location": "12 Secret Garden Lane",
    "private_notes": "Owes me a coffee, SECRET-NOTE-42",
    "check_in_latitude": 40.7301234,
}


async def make_subject(client: Client, sign_in: Any, db_conn: asyncpg.Connection) -> dict[str, Any]:
    tokens = await sign_in()
    headers = bearer(tokens)
    user_id = uuid.UUID(tokens["user_id"])
    assert (
        await client.patch(
            "/v1/me",
            headers=headers,
            json={
                "email": SECRETS["email"],
                "last_name": SECRETS["last_name"],
                "birth_date": SECRETS["birth_date"],
                "home_latitude": SECRETS["home_latitude"],
                "home_longitude": SECRETS["home_longitude"],
            },
        )
    ).status_code == 200
    profile = await client.put(
        "/v1/me/social-profile",
        headers=headers,
        json={"gender": "Woman", "interested_in": ["Man"], "first_name": "Subject"},
    )
    host = await client.put("/v1/me/host-profile", headers=headers, json={"host_name": "Subject"})
    location = await client.post(
        "/v1/locations",
        headers=headers,
        json={
            "name": "Home",
            "address": SECRETS["private_location"],
            "latitude": 1,
            "longitude": 2,
        },
    )
    token = await client.put(
        "/v1/me/push-tokens",
        headers=headers,
        json={"token": SECRETS["push_token"], "platform": "ios", "device_id": "phone-1"},
    )
    assert [profile.status_code, host.status_code, location.status_code] == [201, 201, 201]
    assert token.status_code in (200, 201)
    await db_conn.execute(
        "UPDATE users SET payment_customer_id = $2 WHERE id = $1",
        user_id,
        SECRETS["payment_customer_id"],
    )
    await db_conn.execute(
        "INSERT INTO user_internal_metrics (user_id, absentee_rating, contribution_score, "
        "internal_attractiveness_rating) VALUES ($1, $2, $3, $4)",
        user_id,
        SECRETS["absentee_rating"],
        SECRETS["contribution_score"],
        SECRETS["internal_attractiveness_rating"],
    )
    await db_conn.execute(
        "INSERT INTO user_interest_vectors (user_id, vector, vector_type) "
        "VALUES ($1, $2, 'positive_v1')",
        user_id,
        [SECRETS["vector_component"], 0.5, 0.25],
    )
    await db_conn.execute(
        "INSERT INTO user_social_links (user_id, platform, url) VALUES ($1, 'web', $2)",
        user_id,
        SECRETS["private_link"],
    )
    await db_conn.execute(
        "INSERT INTO payments (user_id, amount_in_cents, stripe_charge_id) VALUES ($1, 500, $2)",
        user_id,
        SECRETS["stripe_charge_id"],
    )
    phone = await db_conn.fetchval("SELECT phone_number FROM users WHERE id = $1", user_id)
    return {
        **tokens,
        "phone": phone,
        "profile_id": profile.json()["id"],
        "host_id": host.json()["id"],
        "location_id": location.json()["id"],
    }


async def meet(
    db_conn: asyncpg.Connection, sign_in: Any, subject: dict[str, Any], observer_profile_id: str
) -> str:
    """The subject and the observer attended an event together (the subject checked
    in at a private position); the subject's Memory Book entry about the observer
    carries private notes and a wish. Returns the event id."""
    host = await sign_in()
    host_id = await db_conn.fetchval(
        "INSERT INTO host_profiles (user_id, host_name) VALUES ($1, 'Third') RETURNING id",
        uuid.UUID(host["user_id"]),
    )
    event_id = await db_conn.fetchval(
        "INSERT INTO events (host_id, title, status, starts_at, ends_at, completed_at) "
        "VALUES ($1, 'Met', 'completed', now() - interval '3 hours', now() - interval '1 hour', "
        "now()) RETURNING id",
        host_id,
    )
    for profile_id, latitude in (
        (subject["profile_id"], SECRETS["check_in_latitude"]),
        (observer_profile_id, 40.73),
    ):
        await db_conn.execute(
            "INSERT INTO invitations (event_id, profile_id, status) VALUES ($1, $2, 'confirmed')",
            event_id,
            uuid.UUID(profile_id),
        )
        await db_conn.execute(
            "INSERT INTO attendance (event_id, profile_id, status, source, check_in_latitude, "
            "check_in_longitude) VALUES ($1, $2, 'attended', 'check_in', $3, -74)",
            event_id,
            uuid.UUID(profile_id),
            latitude,
        )
    await record_meetings(db_conn, event_id)
    await db_conn.execute(
        "UPDATE connections SET private_notes = $2, wants_to_connect_again = true "
        "WHERE user_profile_id = $1",
        uuid.UUID(subject["profile_id"]),
        SECRETS["private_notes"],
    )
    return str(event_id)


def leaks(text: str, subject: dict[str, Any]) -> list[str]:
    values = [str(v) for v in SECRETS.values()]
    values += [subject["phone"], subject["phone"].removeprefix("+1"), subject["user_id"]]
    return [v for v in values if v in text]


def fill(path: str, subject: dict[str, Any]) -> str:
    ids = {
        "profile_id": subject["profile_id"],
        "host_id": subject["host_id"],
        "location_id": subject["location_id"],
        "user_id": subject["user_id"],
        "token": SECRETS["push_token"],
        "event_id": subject.get("event_id", str(uuid.uuid4())),
    }
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


async def test_nobody_sees_anothers_private_data(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    subject = await make_subject(client, sign_in, db_conn)
    observer = await sign_in()
    observer_profile = await client.put(
        "/v1/me/social-profile",
        headers=bearer(observer),
        json={"gender": "Man", "interested_in": ["Woman"]},
    )
    subject["event_id"] = await meet(db_conn, sign_in, subject, observer_profile.json()["id"])
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    responses: dict[str, str] = {}
    for path, operations in paths.items():
        if "get" in operations:
            url = fill(path, subject)
            r = await client.get(url, headers=bearer(observer))
            responses[f"GET {url}"] = r.text
    # The observer saw the subject through the routes meant for it.
    assert '"first_name":"Subject"' in responses[f"GET /v1/profiles/{subject['profile_id']}"]
    assert subject["profile_id"] in responses["GET /v1/discover"]
    assert '"host_name":"Subject"' in responses[f"GET /v1/hosts/{subject['host_id']}"]

    # Writes that point at the subject answer with nothing private either.
    writes = [
        ("PUT", f"/v1/profiles/{subject['profile_id']}/like", None),
        ("POST", "/v1/reports", {"reported_profile_id": subject["profile_id"], "category": "spam"}),
        ("POST", "/v1/blocks", {"profile_id": subject["profile_id"]}),
        ("GET", "/v1/blocks", None),
        ("GET", "/v1/me", None),
        ("GET", "/v1/me/export", None),
    ]
    for method, url, body in writes:
        r = await client.request(method, url, headers=bearer(observer), json=body)
        assert r.status_code < 500, (method, url, r.text)
        responses[f"{method} {url}"] = r.text

    # The observer is in the subject's Memory Book and the subject in theirs: the
    # observer sees their own entry (no wish of theirs), never the subject's.
    assert subject["profile_id"] in responses["GET /v1/me/connections"]
    found = {route: leaks(text, subject) for route, text in responses.items()}
    assert {route: values for route, values in found.items() if values} == {}
    wished = [route for route, text in responses.items() if '"wants_to_connect_again":true' in text]
    assert wished == []
    assert len(responses) > 15  # every GET route was tried


async def test_the_subject_sees_their_own_private_data(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    """The scan above would pass if nothing ever showed these values: they do reach their owner."""
    subject = await make_subject(client, sign_in, db_conn)
    me = (await client.get("/v1/me", headers=bearer(subject))).text
    for key in ("email", "last_name", "birth_date", "home_latitude"):
        assert str(SECRETS[key]) in me
    observer = await sign_in()
    observer_profile = await client.put(
        "/v1/me/social-profile",
        headers=bearer(observer),
        json={"gender": "Man", "interested_in": ["Woman"]},
    )
    await meet(db_conn, sign_in, subject, observer_profile.json()["id"])
    book = (await client.get("/v1/me/connections", headers=bearer(subject))).text
    assert SECRETS["private_notes"] in book and '"wants_to_connect_again":true' in book
    export = (await client.get("/v1/me/export", headers=bearer(subject))).text
    assert SECRETS["private_notes"] in export
    assert str(SECRETS["check_in_latitude"]) in export
    assert SECRETS["push_token"] in export
    assert SECRETS["private_link"] in export
    # Internal scores, vectors and provider ids stay internal even for their owner.
    for key in ("payment_customer_id", "stripe_charge_id", "absentee_rating", "vector_component"):
        assert str(SECRETS[key]) not in me + export
