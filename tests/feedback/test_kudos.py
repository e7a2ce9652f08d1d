"""POST /v1/events/{id}/kudos and GET /v1/me/kudos: between attendees, from a
fixed list, anonymous."""

from __future__ import annotations

from typing import Any

from builders import Kit, happening
from helpers import bearer, block

from tests.attendance.steps import check_in


async def kudo(
    kit: Kit,
    giver: dict[str, Any],
    event: dict[str, Any],
    receiver: dict[str, Any],
    name: str = "great_listener",
) -> Any:
    return await kit.client.post(
        f"/v1/events/{event['id']}/kudos",
        headers=bearer(giver),
        json={"receiver_profile_id": receiver["profile_id"], "kudo": name},
    )


async def test_kudos_go_between_attendees_once_and_never_name_the_giver(kit: Kit) -> None:
    host = await kit.host()
    ann, bob, cal = [await kit.person(n) for n in ("Annabel", "Bob", "Cal")]
    event = await happening(kit, host, ann, bob, cal)
    for person in (ann, bob, cal):
        await check_in(kit.client, person, event)

    first = await kudo(kit, ann, event, bob)
    assert first.status_code == 201, first.text
    again = await kudo(kit, ann, event, bob)
    assert (again.status_code, again.json()) == (200, first.json())
    assert (await kudo(kit, ann, event, bob, "welcoming_vibe")).status_code == 201
    assert (await kudo(kit, cal, event, bob, "great_listener")).status_code == 201

    mine = await kit.client.get("/v1/me/kudos", headers=bearer(bob))
    assert mine.json() == {
        "total": 3,
        "counts": [
            {"kudo": "great_listener", "count": 2},
            {"kudo": "welcoming_vibe", "count": 1},
        ],
    }
    inbox = await kit.client.get("/v1/me/notifications", headers=bearer(bob))
    told = [n for n in inbox.json()["items"] if n["kind"] == "kudos_received"]
    assert told
    for text in (mine.text, inbox.text):
        for giver in (ann, cal):
            assert giver["profile_id"] not in text and giver["user_id"] not in text
        assert "Annabel" not in text


async def test_kudos_refused_to_self_non_attendees_unknown_kudos_and_across_blocks(
    kit: Kit,
) -> None:
    host = await kit.host()
    ann, bob, cal, dee = [await kit.person(n) for n in ("Ann", "Bob", "Cal", "Dee")]
    event = await happening(kit, host, ann, bob, cal, dee)
    for person in (ann, bob, dee):
        await check_in(kit.client, person, event)
    await block(kit.db, dee, ann)
    r = await kudo(kit, ann, event, ann)
    assert (r.status_code, r.json()["code"]) == (422, "cannot_kudo_self")
    assert (await kudo(kit, ann, event, cal)).status_code == 404  # Cal never came
    assert (await kudo(kit, ann, event, dee)).status_code == 404  # a block
    assert (await kudo(kit, ann, event, bob, "best_dressed")).status_code == 422
    r = await kudo(kit, cal, event, ann)
    assert (r.status_code, r.json()["code"]) == (403, "not_attended")
    stranger = await kit.person("Sam")
    assert (await kudo(kit, stranger, event, ann)).status_code == 404
    assert await kit.db.fetchval("SELECT count(*) FROM attendee_kudos") == 0
