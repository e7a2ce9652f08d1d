"""POST /v1/events/{id}/rating: attendees only, once, in its window; the host's
averages follow."""

from __future__ import annotations

from typing import Any

from builders import Kit, happening, move_event
from helpers import bearer, block, gather

from server.settings import Settings
from tests.attendance.steps import check_in

STARS = {"host_rating_value": 5, "event_rating_value": 4, "comment": "  Lovely night  "}


async def rate(kit: Kit, person: dict[str, Any], event: dict[str, Any], **body: Any) -> Any:
    return await kit.client.post(
        f"/v1/events/{event['id']}/rating", headers=bearer(person), json={**STARS, **body}
    )


async def test_attendees_rate_once_even_when_ten_posts_race(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)
    assert (await check_in(kit.client, ann, event)).status_code == 200
    answers = await gather(*(rate(kit, ann, event) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"already_rated"}
    [created] = [a.json() for a in answers if a.status_code == 201]
    assert created["rated_host_id"] == host["host_id"]
    assert created["comment"] == "Lovely night"


async def test_values_and_comments_are_checked(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)
    await check_in(kit.client, ann, event)
    for body in ({"host_rating_value": 0}, {"event_rating_value": 6}, {"comment": "x" * 2001}):
        assert (await rate(kit, ann, event, **body)).status_code == 422, body
    assert (await rate(kit, ann, event, comment="   ")).json()["comment"] is None


async def test_who_may_not_rate_and_when(kit: Kit, settings: Settings) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    stranger, blocked = await kit.person("Sam"), await kit.person("Bo")
    event = await happening(kit, host, ann, bob, blocked)
    await check_in(kit.client, ann, event)
    await check_in(kit.client, blocked, event)
    await block(kit.db, host, blocked)
    # Confirmed but not (yet) checked in; a stranger; someone blocked by the host.
    r = await rate(kit, bob, event)
    assert (r.status_code, r.json()["code"]) == (403, "not_attended")
    assert (await rate(kit, stranger, event)).status_code == 404
    assert (await rate(kit, blocked, event)).status_code == 404
    assert (await rate(kit, host, event)).status_code == 403
    # RATING_WINDOW_DAYS after the end it closes.
    await move_event(kit.db, event["id"], start_hours=-(settings.rating_window_days * 24 + 3))
    r = await rate(kit, ann, event)
    assert (r.status_code, r.json()["code"]) == (409, "rating_closed")


async def test_the_host_page_shows_the_averages(kit: Kit) -> None:
    host = await kit.host()
    people = [await kit.person(n) for n in ("Ann", "Bob")]
    event = await happening(kit, host, *people)
    for person, stars in zip(people, (5, 2), strict=True):
        await check_in(kit.client, person, event)
        r = await rate(kit, person, event, host_rating_value=stars, event_rating_value=stars - 1)
        assert r.status_code == 201
    await move_event(kit.db, event["id"], start_hours=-3)
    await kit.db.execute("UPDATE events SET status = 'completed' WHERE id = $1::uuid", event["id"])
    page = (await kit.client.get(f"/v1/hosts/{host['host_id']}", headers=bearer(people[0]))).json()
    assert page["average_rating"] == 3.5
    [past] = page["event_history"]
    assert (past["id"], past["average_event_rating"]) == (event["id"], 2.5)
    stored = await kit.db.fetchval(
        "SELECT average_rating FROM host_profiles WHERE id = $1::uuid", host["host_id"]
    )
    assert stored == 3.5


async def test_concurrent_ratings_of_one_host_all_count_in_its_average(kit: Kit) -> None:
    host = await kit.host()
    people = [await kit.person(f"P{n}") for n in range(4)]
    event = await happening(kit, host, *people)
    for person in people:
        await check_in(kit.client, person, event)
    answers = await gather(
        *(
            rate(kit, p, event, host_rating_value=s)
            for p, s in zip(people, (1, 2, 4, 5), strict=True)
        )
    )
    assert [a.status_code for a in answers] == [201] * 4
    stored = await kit.db.fetchval(
        "SELECT average_rating FROM host_profiles WHERE id = $1::uuid", host["host_id"]
    )
    assert stored == 3
