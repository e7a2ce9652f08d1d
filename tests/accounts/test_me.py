"""GET/PATCH/DELETE /v1/me and the export: the caller's own data, and only theirs."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
from helpers import bearer
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]


async def test_me_shows_my_account_without_payment_ids(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    await db_conn.execute(
        "UPDATE users SET payment_customer_id = 'cus_secret' WHERE id = $1",
        uuid.UUID(tokens["user_id"]),
    )
    r = await client.get("/v1/me", headers=bearer(tokens))
    assert r.status_code == 200
    body = r.json()
    assert body["social_profile"] is None
    assert body["host_profile"] is None
    assert body["roles"] == []
    user = body["user"]
    assert "payment_customer_id" not in user
    assert "cus_secret" not in r.text
    assert user["status"] == "active"
    assert user["active_role"] == "participant"
    assert user["min_lead_time_days"] == 3
    assert user["distance_preference"] == 25
    assert user["price_sensitivity"] is None
    assert user["availability_preferences"] == {}


async def test_user_numbers_follow_sign_up_order(client: Client, sign_in: Any) -> None:
    numbers = []
    for _ in range(3):
        tokens = await sign_in()
        numbers.append((await client.get("/v1/me", headers=bearer(tokens))).json()["user"])
    user_numbers = [u["user_number"] for u in numbers]
    assert user_numbers == sorted(user_numbers)
    assert len(set(user_numbers)) == 3


async def test_me_with_profiles_lists_roles(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    user_id = uuid.UUID(tokens["user_id"])
    await db_conn.execute(
        "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
        "VALUES ($1, 'Ada', 'Woman', ARRAY['Man','Woman'])",
        user_id,
    )
    await db_conn.execute(
        "INSERT INTO host_profiles (user_id, host_type, host_name) "
        "VALUES ($1, 'user', 'Ada hosts')",
        user_id,
    )
    body = (await client.get("/v1/me", headers=bearer(tokens))).json()
    assert body["roles"] == ["participant", "host"]
    assert body["social_profile"]["first_name"] == "Ada"
    assert body["social_profile"]["interested_in"] == ["Man", "Woman"]
    assert body["host_profile"]["host_name"] == "Ada hosts"

    switched = await client.patch("/v1/me", headers=bearer(tokens), json={"active_role": "host"})
    assert switched.status_code == 200
    assert switched.json()["user"]["active_role"] == "host"


async def test_patch_me_changes_only_what_is_sent(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    changes = {
        "email": "ada@example.com",
        "last_name": "Lovelace",
        "birth_date": "1990-12-10",
        "min_lead_time_days": 5,
        "availability_preferences": {"mon": {"day": "green", "night": "red"}},
        "distance_preference": 10,
        "price_sensitivity": 2,
        "home_latitude": 40.7128,
        "home_longitude": -74.006,
    }
    r = await client.patch("/v1/me", headers=bearer(tokens), json=changes)
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    for key, value in changes.items():
        assert user[key] == value, key

    r = await client.patch("/v1/me", headers=bearer(tokens), json={"price_sensitivity": None})
    user = r.json()["user"]
    assert user["price_sensitivity"] is None
    assert user["email"] == "ada@example.com"  # untouched
    assert user["home_latitude"] == 40.7128


async def test_patch_me_rejects_bad_input(client: Client, sign_in: Any) -> None:
    tokens = await sign_in()
    too_young = date.today().replace(year=date.today().year - 17).isoformat()
    bad: list[tuple[dict[str, Any], str]] = [
        ({"email": "not-an-email"}, "validation_error"),
        ({"birth_date": too_young}, "invalid_birth_date"),
        ({"birth_date": "1800-01-01"}, "invalid_birth_date"),
        ({"birth_date": "yesterday"}, "validation_error"),
        ({"active_role": "admin"}, "validation_error"),
        ({"active_role": None}, "validation_error"),
        ({"min_lead_time_days": -1}, "validation_error"),
        ({"distance_preference": 0}, "validation_error"),
        ({"price_sensitivity": 5}, "validation_error"),
        ({"availability_preferences": {"someday": {"day": "green"}}}, "validation_error"),
        ({"availability_preferences": {"mon": {"day": "blue"}}}, "validation_error"),
        ({"home_latitude": 91, "home_longitude": 0}, "validation_error"),
        ({"home_latitude": 40.0}, "invalid_location"),
        ({"home_latitude": 40.0, "home_longitude": None}, "invalid_location"),
        ({"status": "active"}, "validation_error"),  # not the caller's to set
        ({"is_verified": True}, "validation_error"),
        ({"phone_number": "+12025550000"}, "validation_error"),
    ]
    for body, code in bad:
        r = await client.patch("/v1/me", headers=bearer(tokens), json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, body
    # Switching to host needs a host profile: a state conflict, not bad input.
    r = await client.patch("/v1/me", headers=bearer(tokens), json={"active_role": "host"})
    assert r.status_code == 409
    assert r.json()["code"] == "host_profile_required"
    # Nothing was half-written.
    user = (await client.get("/v1/me", headers=bearer(tokens))).json()["user"]
    assert user["email"] is None
    assert user["active_role"] == "participant"


async def test_delete_me_erases_the_person_but_keeps_payments(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    tokens = await sign_in()
    user_id = uuid.UUID(tokens["user_id"])
    phone = await db_conn.fetchval("SELECT phone_number FROM users WHERE id = $1", user_id)
    await db_conn.execute(
        "INSERT INTO payments (user_id, amount_in_cents, currency, status) "
        "VALUES ($1, 500, 'usd', 'succeeded')",
        user_id,
    )
    await db_conn.execute(
        "INSERT INTO support_tickets (submitter_user_id, reply_to_email, category, body) "
        "VALUES ($1, 'me@example.com', 'account_issue', 'help')",
        user_id,
    )
    assert (await client.delete("/v1/me", headers=bearer(tokens))).status_code == 204

    assert await db_conn.fetchval("SELECT count(*) FROM users WHERE id = $1", user_id) == 0
    assert await db_conn.fetchval("SELECT count(*) FROM auth_sessions") == 0
    assert (
        await db_conn.fetchval("SELECT count(*) FROM otp_codes WHERE phone_number = $1", phone) == 0
    )
    payment = await db_conn.fetchrow("SELECT user_id, amount_in_cents FROM payments")
    assert payment["user_id"] is None
    assert payment["amount_in_cents"] == 500
    ticket = await db_conn.fetchrow("SELECT submitter_user_id, reply_to_email FROM support_tickets")
    assert ticket["submitter_user_id"] is None
    assert ticket["reply_to_email"] is None

    # The number can sign up again, as a new person.
    again = await sign_in(phone)
    assert again["is_new_user"] is True
    assert again["user_id"] != tokens["user_id"]


async def test_export_holds_my_data_and_nobody_elses(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    me = await sign_in()
    other = await sign_in()
    await client.patch("/v1/me", headers=bearer(me), json={"email": "me@example.com"})
    await client.patch("/v1/me", headers=bearer(other), json={"email": "other@example.com"})
    await db_conn.execute(
        "INSERT INTO payments (user_id, amount_in_cents, stripe_charge_id, status) "
        "VALUES ($1, 500, 'ch_private', 'succeeded')",
        uuid.UUID(me["user_id"]),
    )
    r = await client.get("/v1/me/export", headers=bearer(me))
    assert r.status_code == 200
    data = r.json()
    assert data["user"]["id"] == me["user_id"]
    assert data["user"]["email"] == "me@example.com"
    assert [p["amount_in_cents"] for p in data["payments"]] == [500]
    assert len(data["sign_in_sessions"]) == 1
    for section in ("invitations", "messages_sent", "event_posts", "connections"):
        assert data[section] == []
    assert "other@example.com" not in r.text
    assert other["user_id"] not in r.text
    assert "ch_private" not in r.text  # provider ids are not personal data to hand out
    assert "payment_customer_id" not in r.text
