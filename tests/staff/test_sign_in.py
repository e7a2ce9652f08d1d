"""Signing in to the staff console, and who must not get through."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from builders import Kit
from helpers import bearer
from staff.conftest import Client, StaffFactory, console_sign_in, csrf_token, file_report


async def test_staff_sign_in_sets_a_strict_session_cookie(
    client: Client, staff: StaffFactory
) -> None:
    member = await staff("moderator")
    done = await console_sign_in(client, member["phone"])
    assert done.status_code == 303 and done.headers["location"] == "/staff"
    cookie = next(
        v for k, v in done.headers.multi_items() if k == "set-cookie" and "momento_staff=" in v
    )
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/staff" in cookie
    assert "Secure" not in cookie  # only in production
    home = await client.get("/staff")
    assert home.status_code == 200 and "moderator" in home.text
    csp = home.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # no script at all


async def test_a_participant_cannot_sign_in(client: Client, sign_in: Any) -> None:
    someone = await sign_in()
    me = await client.get("/v1/me", headers=bearer(someone))
    phone = me.json()["user"]["phone_number"]
    # The console sends no code to a number that is not staff (and says the same).
    done = await console_sign_in(client, phone)
    assert done.status_code == 401 and "momento_staff=" not in done.headers.get("set-cookie", "")
    # With a live code from the app's own sign-in, the number is still refused.
    assert (await client.post("/v1/auth/otp", json={"phone_number": phone})).status_code == 202
    done = await console_sign_in(client, phone)
    assert done.status_code == 403 and "not a Momento staff account" in done.text
    assert "momento_staff=" not in done.headers.get("set-cookie", "")
    assert (await client.get("/staff", follow_redirects=False)).status_code == 303


async def test_signed_out_browsers_are_sent_to_sign_in(client: Client, staff: StaffFactory) -> None:
    assert (await client.get("/staff", follow_redirects=False)).headers[
        "location"
    ] == "/staff/sign-in"
    member = await staff()
    await console_sign_in(client, member["phone"])
    home = await client.get("/staff")
    out = await client.post(
        "/staff/sign-out", data={"_csrf_token": csrf_token(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/staff/sign-in"
    assert (await client.get("/staff", follow_redirects=False)).status_code == 303


async def test_a_form_without_the_csrf_token_is_refused(
    client: Client, staff: StaffFactory
) -> None:
    member = await staff()
    await console_sign_in(client, member["phone"])
    refused = await client.post("/staff/sign-out", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert (await client.get("/staff")).status_code == 200  # still signed in
    forged = await client.post(
        "/staff/sign-out", data={"_csrf_token": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403


async def test_suspension_or_losing_the_staff_role_ends_the_session_at_once(
    client: Client, staff: StaffFactory, db_conn: asyncpg.Connection
) -> None:
    member = await staff()
    await console_sign_in(client, member["phone"])
    assert (await client.get("/staff")).status_code == 200
    await db_conn.execute(
        "DELETE FROM staff_accounts WHERE user_id = $1", uuid.UUID(member["user_id"])
    )
    assert (await client.get("/staff", follow_redirects=False)).status_code == 303

    other = await staff("admin")
    await console_sign_in(client, other["phone"])
    assert (await client.get("/staff")).status_code == 200
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(other["user_id"])
    )
    assert (await client.get("/staff", follow_redirects=False)).status_code == 303


async def test_an_idle_session_ends(
    client: Client, staff: StaffFactory, db_conn: asyncpg.Connection
) -> None:
    member = await staff()
    await console_sign_in(client, member["phone"])
    await db_conn.execute(
        "UPDATE staff_console_sessions SET last_seen_at = now() - interval '31 minutes'"
    )
    assert (await client.get("/staff", follow_redirects=False)).status_code == 303


async def test_a_support_agent_sees_no_private_details_and_cannot_moderate(
    client: Client, staff: StaffFactory, kit: Kit
) -> None:
    someone = await kit.person("Drew")
    await kit.client.patch(
        "/v1/me",
        headers=bearer(someone),
        json={"birth_date": "1990-04-02", "home_latitude": 40.71, "home_longitude": -74.0},
    )
    agent = await staff("support")
    await console_sign_in(client, agent["phone"])
    page = await client.get(f"/staff/people/{someone['user_id']}")
    assert page.status_code == 200 and "Phone" in page.text
    assert (
        "1990-04-02" not in page.text and "40.71" not in page.text and "Birth date" not in page.text
    )
    assert "Account action" not in page.text and "Safety history" not in page.text
    assert (await client.get("/staff/reports")).status_code == 403
    assert (await client.get("/staff/audit")).status_code == 403
    refused = await client.post(
        f"/staff/users/{someone['user_id']}/status",
        data={"_csrf_token": csrf_token(page.text), "status": "suspended", "reason": "no"},
    )
    assert refused.status_code == 403
    me = await kit.client.get("/v1/me", headers=bearer(someone))
    assert me.status_code == 200


async def test_an_admin_sees_everything_and_people_are_found_three_ways(
    client: Client, staff: StaffFactory, kit: Kit, db_conn: asyncpg.Connection
) -> None:
    someone = await kit.person("Drew")
    await kit.client.patch(
        "/v1/me", headers=bearer(someone), json={"home_latitude": 40.71, "home_longitude": -74.0}
    )
    admin = await staff("admin")
    await console_sign_in(client, admin["phone"])
    row = await db_conn.fetchrow(
        "SELECT phone_number, user_number FROM users WHERE id = $1", uuid.UUID(someone["user_id"])
    )
    assert row is not None
    for query in (row["phone_number"], str(row["user_number"]), someone["profile_id"]):
        found = await client.get("/staff/people", params={"q": query}, follow_redirects=False)
        assert found.headers["location"] == f"/staff/people/{someone['user_id']}", query
    page = await client.get(f"/staff/people/{someone['user_id']}")
    assert "40.71" in page.text and "Account action" in page.text
    missing = await client.get("/staff/people", params={"q": "+12025550000"})
    assert missing.status_code == 404 and "Nobody matches" in missing.text


async def test_what_people_write_is_shown_as_text(
    client: Client, staff: StaffFactory, kit: Kit
) -> None:
    """Report comments are the reporter's words: escaped, never markup."""
    reporter, reported = await kit.person("<b>Riley</b>"), await kit.person("Drew")
    filed = await file_report(kit, reporter, reported, "spam", '<script>alert("x")</script>')
    moderator = await staff("moderator")
    await console_sign_in(client, moderator["phone"])
    page = await client.get(f"/staff/reports/{filed['id']}")
    assert page.status_code == 200
    assert "<script>" not in page.text and "<b>Riley" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


async def test_every_page_sends_the_security_headers(client: Client, staff: StaffFactory) -> None:
    """Pages, redirects and error pages alike."""
    responses = [
        await client.get("/staff", follow_redirects=False),  # 303 to sign in
        await client.get("/staff/sign-in"),
    ]
    agent = await staff("support")
    await console_sign_in(client, agent["phone"])
    responses.append(await client.get("/staff/reports"))  # 403 page
    assert [r.status_code for r in responses] == [303, 200, 403]
    for r in responses:
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
