"""/v1/admin: staff only, each role to its own routes, and every change on the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from helpers import bearer, make_phone
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Any]
Tokens = dict[str, Any]


# ── Set-up helpers ───────────────────────────────────────────────────────────


def phones() -> Iterator[str]:
    while True:
        yield make_phone()


@dataclass
class People:
    sign_in: Any
    db: asyncpg.Connection
    numbers: Iterator[str]

    async def user(self, first_name: str | None = None) -> Tokens:
        tokens: Tokens = await self.sign_in(next(self.numbers))
        if first_name is not None:
            await self.db.execute(
                "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
                "VALUES ($1, $2, 'Woman', ARRAY['Man'])",
                uid(tokens),
                first_name,
            )
        return tokens

    async def staff(self, role: str) -> Tokens:
        tokens = await self.user()
        await self.db.execute(
            "INSERT INTO staff_accounts (user_id, role) VALUES ($1, $2)", uid(tokens), role
        )
        return tokens


@pytest.fixture
def people(sign_in: Any, db_conn: asyncpg.Connection) -> People:
    return People(sign_in, db_conn, phones())


def uid(tokens: Tokens) -> uuid.UUID:
    return uuid.UUID(tokens["user_id"])


async def insert_report(
    db: asyncpg.Connection,
    reporter: Tokens | None,
    reported: Tokens | None,
    *,
    status: str = "pending",
    category: str = "harassment",
    created_at: str = "now()",
) -> uuid.UUID:
    report_id: uuid.UUID = await db.fetchval(
        f"""
        INSERT INTO reports (reporter_user_id, reported_user_id, category, comments, status,
                             created_at, updated_at)
        VALUES ($1, $2, $3, 'rude at the event', $4, {created_at}, {created_at})
        RETURNING id
        """,
        uid(reporter) if reporter else None,
        uid(reported) if reported else None,
        category,
        status,
    )
    return report_id


async def insert_ticket(
    db: asyncpg.Connection, submitter: Tokens | None, *, status: str = "new"
) -> uuid.UUID:
    ticket_id: uuid.UUID = await db.fetchval(
        """
        INSERT INTO support_tickets (submitter_user_id, reply_to_email, category, body, status,
                                     metadata)
        VALUES ($1, 'ada@example.com', 'payment_question', 'I was charged twice', $2,
                '{"app_version": "1.2.3"}'::jsonb)
        RETURNING id
        """,
        uid(submitter) if submitter else None,
        status,
    )
    return ticket_id


async def audit_rows(db: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT staff_user_id, action, target_type, target_id, details, created_at "
        "FROM admin_actions ORDER BY created_at, id"
    )
    return rows


async def break_audit_trail(db: asyncpg.Connection) -> None:
    """Make every audit insert fail, as a full disk or a bug would."""
    await db.execute(
        """
        CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit trail unavailable'; END $$;
        CREATE TRIGGER test_refuse_audit BEFORE INSERT ON admin_actions
            FOR EACH ROW EXECUTE FUNCTION test_refuse_audit();
        """
    )


def assert_problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.text


# ── Who gets through: every route, every kind of caller ─────────────────────


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {report}, {ticket} and {user} are filled in per test
    roles: frozenset[str]
    body: dict[str, Any] | None = None


ROUTES = [
    Route("GET", "/v1/admin/reports", frozenset({"admin", "moderator"})),
    Route("GET", "/v1/admin/reports/{report}", frozenset({"admin", "moderator"})),
    Route(
        "PATCH",
        "/v1/admin/reports/{report}",
        frozenset({"admin", "moderator"}),
        {"status": "reviewing"},
    ),
    Route("GET", "/v1/admin/support-tickets", frozenset({"admin", "support"})),
    Route("GET", "/v1/admin/support-tickets/{ticket}", frozenset({"admin", "support"})),
    Route(
        "PATCH",
        "/v1/admin/support-tickets/{ticket}",
        frozenset({"admin", "support"}),
        {"status": "open"},
    ),
    Route("GET", "/v1/admin/users/{user}", frozenset({"admin", "moderator", "support"})),
    Route(
        "PATCH",
        "/v1/admin/users/{user}",
        frozenset({"admin", "moderator"}),
        {"is_verified": True},
    ),
    Route("GET", "/v1/admin/actions", frozenset({"admin"})),
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_only_the_right_staff_get_through(
    client: Client, people: People, db_conn: asyncpg.Connection, route: Route
) -> None:
    target = await people.user("Target")
    reporter = await people.user("Reporter")
    report_id = await insert_report(db_conn, reporter, target)
    ticket_id = await insert_ticket(db_conn, target)
    path = route.path.format(report=report_id, ticket=ticket_id, user=uid(target))

    async def call(headers: dict[str, str]) -> Any:
        return await client.request(route.method, path, headers=headers, json=route.body)

    # Nobody signed in.
    assert_problem(await call({}), 401, "unauthorized")
    # A signed-in person who is not staff (here the very user the route is about).
    assert_problem(await call(bearer(target)), 403, "staff_only")
    # Staff whose account is suspended or banned: the account check comes first.
    for status in ("suspended", "banned"):
        fallen = await people.staff("admin")
        await db_conn.execute("UPDATE users SET status = $2 WHERE id = $1", uid(fallen), status)
        assert_problem(await call(bearer(fallen)), 403, "account_suspended")
    # A staff account removed since the token was issued: the token alone proves nothing.
    former = await people.staff("admin")
    await db_conn.execute("DELETE FROM staff_accounts WHERE user_id = $1", uid(former))
    assert_problem(await call(bearer(former)), 403, "staff_only")

    audit_before = len(await audit_rows(db_conn))
    for role in ("admin", "moderator", "support"):
        staff = await people.staff(role)
        r = await call(bearer(staff))
        if role in route.roles:
            assert r.status_code == 200, (role, r.text)
        else:
            assert_problem(r, 403, "insufficient_role")
    # Refused calls change nothing; each accepted PATCH is one audit row.
    expected = len(route.roles) if route.method == "PATCH" else 0
    assert len(await audit_rows(db_conn)) == audit_before + expected


async def test_blocks_hide_nothing_from_staff(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    """Blocks are between members; a moderator blocked by (or blocking) someone still moderates."""
    moderator = await people.staff("moderator")
    blocker = await people.user("Blocker")
    blocked = await people.user("Blocked")
    await db_conn.execute(
        "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2), ($3, $4)",
        uid(blocker),
        uid(moderator),
        uid(moderator),
        uid(blocked),
    )
    report_id = await insert_report(db_conn, blocked, blocker)
    headers = bearer(moderator)
    for person in (blocker, blocked):
        r = await client.get(f"/v1/admin/users/{uid(person)}", headers=headers)
        assert r.status_code == 200, r.text
    r = await client.get(f"/v1/admin/reports/{report_id}", headers=headers)
    assert r.status_code == 200
    assert r.json()["reporter"]["first_name"] == "Blocked"
    assert r.json()["reported"]["first_name"] == "Blocker"


# ── Reports ──────────────────────────────────────────────────────────────────


async def test_report_list_shows_both_people_newest_first_and_pages(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    moderator = await people.staff("moderator")
    ada = await people.user("Ada")
    bob = await people.user()  # no social profile
    old = await insert_report(db_conn, ada, bob, created_at="now() - interval '2 days'")
    middle = await insert_report(
        db_conn, bob, ada, status="resolved", created_at="now() - interval '1 day'"
    )
    new = await insert_report(db_conn, ada, bob, category="spam")
    await db_conn.execute("UPDATE users SET status = 'suspended' WHERE id = $1", uid(bob))

    r = await client.get("/v1/admin/reports?limit=2", headers=bearer(moderator))
    assert r.status_code == 200, r.text
    first = r.json()
    assert [item["id"] for item in first["items"]] == [str(new), str(middle)]
    assert first["next_cursor"]
    item = first["items"][0]
    assert item["category"] == "spam"
    assert item["comments"] == "rude at the event"
    assert item["status"] == "pending"
    assert item["event_id"] is None
    assert item["resolved_at"] is None
    assert item["reporter"] == {
        "user_id": ada["user_id"],
        "profile_id": str(await db_conn.fetchval("SELECT id FROM social_profiles")),
        "first_name": "Ada",
    }
    # A suspended account is still shown to staff, with its status.
    assert item["reported"] == {
        "user_id": bob["user_id"],
        "profile_id": None,
        "first_name": None,
        "status": "suspended",
    }

    r = await client.get(
        "/v1/admin/reports",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=bearer(moderator),
    )
    assert [item["id"] for item in r.json()["items"]] == [str(old)]
    assert r.json()["next_cursor"] is None

    r = await client.get("/v1/admin/reports?status=resolved", headers=bearer(moderator))
    assert [item["id"] for item in r.json()["items"]] == [str(middle)]
    r = await client.get("/v1/admin/reports?status=dismissed", headers=bearer(moderator))
    assert r.json() == {"items": [], "next_cursor": None}


async def test_report_list_rejects_bad_filters_and_cursors(client: Client, people: People) -> None:
    moderator = await people.staff("moderator")
    headers = bearer(moderator)
    for query in ("status=closed", "status=", "limit=0", "limit=101"):
        r = await client.get(f"/v1/admin/reports?{query}", headers=headers)
        assert_problem(r, 422, "validation_error")
    assert_problem(
        await client.get("/v1/admin/reports?cursor=nonsense", headers=headers),
        422,
        "invalid_cursor",
    )
    # Ticket statuses are not report statuses, and the other way round.
    r = await client.get(
        "/v1/admin/support-tickets?status=pending", headers=bearer(await people.staff("support"))
    )
    assert_problem(r, 422, "validation_error")


async def test_a_deleted_reporter_leaves_the_report(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    moderator = await people.staff("moderator")
    reporter = await people.user("Gone")
    reported = await people.user("Here")
    report_id = await insert_report(db_conn, reporter, reported)
    deleted = await client.delete("/v1/me", headers=bearer(reporter))
    assert deleted.status_code == 204
    r = await client.get(f"/v1/admin/reports/{report_id}", headers=bearer(moderator))
    assert r.status_code == 200
    assert r.json()["reporter"] is None
    assert r.json()["reported"]["first_name"] == "Here"


async def test_resolving_a_report_stamps_who_and_when_and_is_audited(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    moderator = await people.staff("moderator")
    report_id = await insert_report(db_conn, await people.user("A"), await people.user("B"))
    started = await db_conn.fetchval("SELECT now()")

    r = await client.patch(
        f"/v1/admin/reports/{report_id}",
        headers=bearer(moderator),
        json={"status": "resolved", "note": "warned the member"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "resolved"
    assert body["resolved_by_user_id"] == moderator["user_id"]
    assert datetime.fromisoformat(body["resolved_at"]) >= started
    row = await db_conn.fetchrow(
        "SELECT status, resolved_at, resolved_by_user_id, updated_at FROM reports WHERE id = $1",
        report_id,
    )
    assert row["status"] == "resolved"
    assert row["resolved_by_user_id"] == uid(moderator)
    assert row["resolved_at"] >= started
    assert row["updated_at"] >= started

    [action] = await audit_rows(db_conn)
    assert action["staff_user_id"] == uid(moderator)
    assert action["action"] == "report.update"
    assert action["target_type"] == "report"
    assert action["target_id"] == str(report_id)
    assert action["details"] == {"from": "pending", "to": "resolved", "note": "warned the member"}
    assert action["created_at"] >= started

    # Reopening clears the decision.
    r = await client.patch(
        f"/v1/admin/reports/{report_id}", headers=bearer(moderator), json={"status": "reviewing"}
    )
    assert r.status_code == 200
    assert r.json()["resolved_at"] is None
    assert r.json()["resolved_by_user_id"] is None
    row = await db_conn.fetchrow(
        "SELECT resolved_at, resolved_by_user_id FROM reports WHERE id = $1", report_id
    )
    assert row["resolved_at"] is None and row["resolved_by_user_id"] is None
    actions = await audit_rows(db_conn)
    assert [a["details"] for a in actions][1] == {
        "from": "resolved",
        "to": "reviewing",
        "note": None,
    }


async def test_dismissing_again_keeps_the_first_decision(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    first, second = await people.staff("moderator"), await people.staff("admin")
    report_id = await insert_report(db_conn, await people.user(), await people.user())
    path = f"/v1/admin/reports/{report_id}"
    decided = (await client.patch(path, headers=bearer(first), json={"status": "dismissed"})).json()
    again = await client.patch(
        path, headers=bearer(second), json={"status": "dismissed", "note": "agree"}
    )
    assert again.status_code == 200
    assert again.json()["resolved_by_user_id"] == first["user_id"]
    assert again.json()["resolved_at"] == decided["resolved_at"]
    # Both are on the trail, by their own authors.
    assert [(a["staff_user_id"], a["details"]["note"]) for a in await audit_rows(db_conn)] == [
        (uid(first), None),
        (uid(second), "agree"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "closed"},
        {"status": None},
        {},
        {"status": "resolved", "note": ""},
        {"status": "resolved", "note": "x" * 2001},
        {"status": "resolved", "resolved_by_user_id": str(uuid.uuid4())},
    ],
)
async def test_bad_report_patches_change_nothing(
    client: Client, people: People, db_conn: asyncpg.Connection, body: dict[str, Any]
) -> None:
    moderator = await people.staff("moderator")
    report_id = await insert_report(db_conn, await people.user(), await people.user())
    r = await client.patch(f"/v1/admin/reports/{report_id}", headers=bearer(moderator), json=body)
    assert_problem(r, 422, "validation_error")
    assert await db_conn.fetchval("SELECT status FROM reports WHERE id = $1", report_id) == (
        "pending"
    )
    assert await audit_rows(db_conn) == []


async def test_unknown_ids_are_404_and_not_audited(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    admin = await people.staff("admin")
    headers = bearer(admin)
    missing = uuid.uuid4()
    for path, body in [
        (f"/v1/admin/reports/{missing}", {"status": "resolved"}),
        (f"/v1/admin/support-tickets/{missing}", {"status": "closed"}),
        (f"/v1/admin/users/{missing}", {"status": "banned"}),
    ]:
        assert_problem(await client.get(path, headers=headers), 404, "not_found")
        assert_problem(await client.patch(path, headers=headers, json=body), 404, "not_found")
    assert_problem(
        await client.get("/v1/admin/reports/not-a-uuid", headers=headers), 404, "not_found"
    )
    assert await audit_rows(db_conn) == []


async def test_report_change_and_audit_row_are_one_transaction(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    moderator = await people.staff("moderator")
    report_id = await insert_report(db_conn, await people.user(), await people.user())
    await break_audit_trail(db_conn)
    r = await client.patch(
        f"/v1/admin/reports/{report_id}", headers=bearer(moderator), json={"status": "resolved"}
    )
    assert_problem(r, 500, "server_error")
    row = await db_conn.fetchrow(
        "SELECT status, resolved_at, resolved_by_user_id FROM reports WHERE id = $1", report_id
    )
    assert tuple(row) == ("pending", None, None)


# ── Support tickets ──────────────────────────────────────────────────────────


async def test_support_reads_and_updates_tickets(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    support = await people.staff("support")
    submitter = await people.user()
    open_id = await insert_ticket(db_conn, submitter, status="open")
    new_id = await insert_ticket(db_conn, submitter)
    headers = bearer(support)

    r = await client.get("/v1/admin/support-tickets", headers=headers)
    assert r.status_code == 200
    assert [t["id"] for t in r.json()["items"]] == [str(new_id), str(open_id)]
    r = await client.get("/v1/admin/support-tickets?status=new", headers=headers)
    assert [t["id"] for t in r.json()["items"]] == [str(new_id)]

    r = await client.get(f"/v1/admin/support-tickets/{new_id}", headers=headers)
    assert r.status_code == 200
    ticket = r.json()
    assert ticket["submitter_user_id"] == submitter["user_id"]
    assert ticket["metadata"] == {"app_version": "1.2.3"}
    assert ticket["reply_to_email"] == "ada@example.com"
    assert ticket["body"] == "I was charged twice"
    assert ticket["category"] == "payment_question"
    assert ticket["status"] == "new"
    assert ticket["ticket_number"] >= 1001

    r = await client.patch(
        f"/v1/admin/support-tickets/{new_id}", headers=headers, json={"status": "resolved"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    assert r.json()["updated_at"] > ticket["updated_at"]
    assert (
        await db_conn.fetchval("SELECT status FROM support_tickets WHERE id = $1", new_id)
        == "resolved"
    )
    [action] = await audit_rows(db_conn)
    assert (action["staff_user_id"], action["action"], action["target_type"]) == (
        uid(support),
        "ticket.update",
        "support_ticket",
    )
    assert action["target_id"] == str(new_id)
    assert action["details"] == {"from": "new", "to": "resolved"}


@pytest.mark.parametrize("body", [{"status": "pending"}, {"status": "open", "note": "x"}, {}])
async def test_bad_ticket_patches_change_nothing(
    client: Client, people: People, db_conn: asyncpg.Connection, body: dict[str, Any]
) -> None:
    support = await people.staff("support")
    ticket_id = await insert_ticket(db_conn, await people.user())
    r = await client.patch(
        f"/v1/admin/support-tickets/{ticket_id}", headers=bearer(support), json=body
    )
    assert_problem(r, 422, "validation_error")
    assert (
        await db_conn.fetchval("SELECT status FROM support_tickets WHERE id = $1", ticket_id)
        == "new"
    )
    assert await audit_rows(db_conn) == []


async def test_malformed_json_is_422(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    support = await people.staff("support")
    ticket_id = await insert_ticket(db_conn, await people.user())
    r = await client.patch(
        f"/v1/admin/support-tickets/{ticket_id}",
        headers={**bearer(support), "Content-Type": "application/json"},
        content=b"{status",
    )
    assert_problem(r, 422, "malformed_json")


async def test_ticket_change_and_audit_row_are_one_transaction(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    support = await people.staff("support")
    ticket_id = await insert_ticket(db_conn, await people.user())
    await break_audit_trail(db_conn)
    r = await client.patch(
        f"/v1/admin/support-tickets/{ticket_id}", headers=bearer(support), json={"status": "open"}
    )
    assert r.status_code == 500
    assert (
        await db_conn.fetchval("SELECT status FROM support_tickets WHERE id = $1", ticket_id)
        == "new"
    )


# ── Users ────────────────────────────────────────────────────────────────────


async def test_staff_see_a_users_account_and_staff_role(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    support = await people.staff("support")
    member = await people.user()
    await db_conn.execute(
        "UPDATE users SET payment_customer_id = 'cus_secret', status = 'banned' WHERE id = $1",
        uid(member),
    )
    r = await client.get(f"/v1/admin/users/{uid(member)}", headers=bearer(support))
    assert r.status_code == 200, r.text
    user = r.json()
    assert user["id"] == member["user_id"]
    assert user["status"] == "banned"
    assert user["is_verified"] is False
    assert user["staff_role"] is None
    assert user["phone_number"].startswith("+1202555")
    assert "payment_customer_id" not in user
    assert "cus_secret" not in r.text

    r = await client.get(f"/v1/admin/users/{support['user_id']}", headers=bearer(support))
    assert r.json()["staff_role"] == "support"


async def test_each_staff_role_sees_what_it_needs_of_an_account(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    member = await people.user("Member")
    reporter = await people.user("Reporter")
    await db_conn.execute(
        "UPDATE users SET birth_date = '1990-05-01', home_latitude = 40.7, "
        "home_longitude = -73.9 WHERE id = $1",
        uid(member),
    )
    report_id = await insert_report(db_conn, reporter, member)
    await db_conn.execute(
        "INSERT INTO blocked_users (blocker_user_id, blocked_user_id) VALUES ($1, $2)",
        uid(reporter),
        uid(member),
    )
    admin = await people.staff("admin")
    r = await client.patch(
        f"/v1/admin/users/{uid(member)}", headers=bearer(admin), json={"is_verified": True}
    )
    assert r.status_code == 200, r.text
    private = ("birth_date", "home_latitude", "home_longitude", "availability_preferences")
    views = {}
    for role in ("support", "moderator", "admin"):
        staff = await people.staff(role)
        r = await client.get(f"/v1/admin/users/{uid(member)}", headers=bearer(staff))
        assert r.status_code == 200, r.text
        views[role] = r.json()
        assert views[role]["shown_to"] == role
        # Contact and account status, for every role.
        assert views[role]["phone_number"].startswith("+1202555")
        assert (views[role]["status"], views[role]["is_verified"]) == ("active", True)
        for name in private:
            assert name not in views[role]
    # Support: no safety history, nothing private (no birth date, no home).
    assert (views["support"]["safety"], views["support"]["private"]) == (None, None)
    assert "1990-05-01" not in str(views["support"]) and "40.7" not in str(views["support"])
    # A moderator: the safety history too, still nothing private.
    safety = views["moderator"]["safety"]
    assert (safety["reports_received"], safety["open_reports_received"]) == (1, 1)
    assert (safety["reports_made"], safety["blocked_by_count"]) == (0, 1)
    assert [r["id"] for r in safety["recent_reports_received"]] == [str(report_id)]
    assert [a["action"] for a in safety["moderation_actions"]] == ["user.update"]
    assert views["moderator"]["private"] is None
    assert "1990-05-01" not in str(views["moderator"])
    # An admin: everything but the payment customer id.
    assert views["admin"]["safety"] == safety
    assert views["admin"]["private"]["birth_date"] == "1990-05-01"
    assert views["admin"]["private"]["home_latitude"] == 40.7


async def test_suspending_signs_the_user_out_and_reinstating_lets_them_back(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    moderator = await people.staff("moderator")
    phone = next(people.numbers)
    member: Tokens = await people.sign_in(phone)
    second_device: Tokens = await people.sign_in(phone)
    assert (await client.get("/v1/me", headers=bearer(member))).status_code == 200

    r = await client.patch(
        f"/v1/admin/users/{uid(member)}", headers=bearer(moderator), json={"status": "suspended"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"
    # Every sign-in is over at once (the next call says why), and refreshing
    # does not bring it back.
    for tokens in (member, second_device):
        assert_problem(await client.get("/v1/me", headers=bearer(tokens)), 403, "account_suspended")
        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401
    assert (
        await db_conn.fetchval(
            "SELECT count(*) FROM auth_sessions WHERE user_id = $1 AND revoked_at IS NULL",
            uid(member),
        )
        == 0
    )
    # Signing in again gives a token that is refused as suspended.
    during = await people.sign_in(phone)
    assert_problem(await client.get("/v1/me", headers=bearer(during)), 403, "account_suspended")

    [action] = await audit_rows(db_conn)
    assert action["staff_user_id"] == uid(moderator)
    assert (action["action"], action["target_type"], action["target_id"]) == (
        "user.update",
        "user",
        member["user_id"],
    )
    assert action["details"]["before"] == {"status": "active", "is_verified": False}
    assert action["details"]["after"] == {"status": "suspended", "is_verified": False}
    assert action["details"]["sessions_revoked"] == 2

    r = await client.patch(
        f"/v1/admin/users/{uid(member)}",
        headers=bearer(moderator),
        json={"status": "active", "is_verified": True},
    )
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["is_verified"]) == ("active", True)
    back = await people.sign_in(phone)
    me = await client.get("/v1/me", headers=bearer(back))
    assert me.status_code == 200
    assert me.json()["user"]["is_verified"] is True
    # Old sign-ins stay over: they were revoked, not paused.
    assert_problem(await client.get("/v1/me", headers=bearer(member)), 401, "invalid_token")
    actions = await audit_rows(db_conn)
    assert actions[1]["details"]["after"] == {"status": "active", "is_verified": True}


async def test_banning_also_signs_out(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    admin = await people.staff("admin")
    member = await people.user()
    r = await client.patch(
        f"/v1/admin/users/{uid(member)}", headers=bearer(admin), json={"status": "banned"}
    )
    assert r.status_code == 200
    assert_problem(await client.get("/v1/me", headers=bearer(member)), 403, "account_suspended")
    assert (
        await db_conn.fetchval(
            "SELECT revoked_reason FROM auth_sessions WHERE user_id = $1", uid(member)
        )
        == "banned"
    )


async def test_verifying_does_not_sign_out(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    moderator = await people.staff("moderator")
    member = await people.user()
    r = await client.patch(
        f"/v1/admin/users/{uid(member)}", headers=bearer(moderator), json={"is_verified": True}
    )
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["is_verified"]) == ("active", True)
    me = await client.get("/v1/me", headers=bearer(member))
    assert me.status_code == 200
    assert me.json()["user"]["is_verified"] is True


async def test_staff_cannot_change_themselves(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    admin = await people.staff("admin")
    for body in ({"status": "banned"}, {"status": "active"}, {"is_verified": True}):
        r = await client.patch(f"/v1/admin/users/{uid(admin)}", headers=bearer(admin), json=body)
        assert_problem(r, 409, "cannot_change_self")
    row = await db_conn.fetchrow("SELECT status, is_verified FROM users WHERE id = $1", uid(admin))
    assert tuple(row) == ("active", False)
    assert await audit_rows(db_conn) == []


async def test_only_admins_change_other_staff(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    moderator = await people.staff("moderator")
    other_moderator = await people.staff("moderator")
    admin = await people.staff("admin")
    r = await client.patch(
        f"/v1/admin/users/{uid(admin)}", headers=bearer(moderator), json={"status": "suspended"}
    )
    assert_problem(r, 403, "insufficient_role")
    r = await client.patch(
        f"/v1/admin/users/{uid(other_moderator)}",
        headers=bearer(moderator),
        json={"is_verified": True},
    )
    assert_problem(r, 403, "insufficient_role")
    assert await db_conn.fetchval("SELECT status FROM users WHERE id = $1", uid(admin)) == "active"
    assert await audit_rows(db_conn) == []

    r = await client.patch(
        f"/v1/admin/users/{uid(moderator)}", headers=bearer(admin), json={"status": "suspended"}
    )
    assert r.status_code == 200
    assert r.json()["staff_role"] == "moderator"
    assert_problem(
        await client.get("/v1/admin/reports", headers=bearer(moderator)), 403, "account_suspended"
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "deleted"},
        {"status": None},
        {"is_verified": None},
        {"is_verified": "yes"},
        {"status": "active", "phone_number": "+12025550000"},
        {"payment_customer_id": "cus_x"},
    ],
)
async def test_bad_user_patches_change_nothing(
    client: Client, people: People, db_conn: asyncpg.Connection, body: dict[str, Any]
) -> None:
    admin = await people.staff("admin")
    member = await people.user()
    r = await client.patch(f"/v1/admin/users/{uid(member)}", headers=bearer(admin), json=body)
    assert_problem(r, 422, "validation_error")
    row = await db_conn.fetchrow(
        "SELECT status, is_verified, phone_number FROM users WHERE id = $1", uid(member)
    )
    assert (row["status"], row["is_verified"]) == ("active", False)
    assert row["phone_number"] != "+12025550000"
    assert await audit_rows(db_conn) == []


async def test_user_change_and_audit_row_are_one_transaction(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    admin = await people.staff("admin")
    member = await people.user()
    await break_audit_trail(db_conn)
    r = await client.patch(
        f"/v1/admin/users/{uid(member)}", headers=bearer(admin), json={"status": "suspended"}
    )
    assert r.status_code == 500
    assert await db_conn.fetchval("SELECT status FROM users WHERE id = $1", uid(member)) == (
        "active"
    )
    # Not signed out either.
    assert (await client.get("/v1/me", headers=bearer(member))).status_code == 200


# ── The audit trail ──────────────────────────────────────────────────────────


async def test_audit_trail_lists_filters_and_pages(
    client: Client, people: People, db_conn: asyncpg.Connection
) -> None:
    admin = await people.staff("admin")
    member = await people.user()
    report_id = await insert_report(db_conn, await people.user(), member)
    headers = bearer(admin)
    for body in ({"status": "reviewing"}, {"status": "resolved"}):
        r = await client.patch(f"/v1/admin/reports/{report_id}", headers=headers, json=body)
        assert r.status_code == 200
    r = await client.patch(
        f"/v1/admin/users/{uid(member)}", headers=headers, json={"status": "suspended"}
    )
    assert r.status_code == 200

    r = await client.get("/v1/admin/actions", headers=headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [a["action"] for a in items] == ["user.update", "report.update", "report.update"]
    assert all(a["staff_user_id"] == admin["user_id"] for a in items)
    assert items[1]["details"] == {"from": "reviewing", "to": "resolved", "note": None}
    assert items[0]["created_at"] >= items[1]["created_at"] >= items[2]["created_at"]

    r = await client.get(
        "/v1/admin/actions",
        params={"target_type": "report", "target_id": str(report_id), "limit": 1},
        headers=headers,
    )
    page = r.json()
    assert [a["details"]["to"] for a in page["items"]] == ["resolved"]
    r = await client.get(
        "/v1/admin/actions",
        params={
            "target_type": "report",
            "target_id": str(report_id),
            "cursor": page["next_cursor"],
        },
        headers=headers,
    )
    assert [a["details"]["to"] for a in r.json()["items"]] == ["reviewing"]
    assert r.json()["next_cursor"] is None

    r = await client.get(
        "/v1/admin/actions", params={"target_id": member["user_id"]}, headers=headers
    )
    assert [a["action"] for a in r.json()["items"]] == ["user.update"]
    r = await client.get("/v1/admin/actions?target_type=", headers=headers)
    assert_problem(r, 422, "validation_error")


async def test_openapi_documents_the_admin_problems(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/v1/admin/users/{user_id}"]["patch"]
    assert "staff_only" in operation["responses"]["403"]["description"]
    assert "insufficient_role" in operation["responses"]["403"]["description"]
    assert "cannot_change_self" in operation["responses"]["409"]["description"]
    assert "/v1/admin/actions" in schema["paths"]
