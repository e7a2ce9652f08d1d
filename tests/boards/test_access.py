"""Who may read, post on and delete from an event's board."""

from __future__ import annotations

import uuid
from typing import Any

from boards.steps import STORAGE, Cast, post
from helpers import bearer, block

from server.boards import service
from tests.photos.steps import jpeg_file, jpeg_with_gps

Kit = Any


async def test_anonymous_callers_are_refused(kit: Kit, cast: Cast) -> None:
    url = cast["url"]
    for r in (
        await kit.client.get(url),
        await kit.client.post(url, json={"content": "hi"}),
        await kit.client.delete(f"{url}/{uuid.uuid4()}"),
    ):
        assert r.status_code == 401
        assert r.json()["code"] == "unauthorized"


async def test_host_collaborators_and_confirmed_attendees_use_the_board(
    kit: Kit, cast: Cast
) -> None:
    for who in ("host", "collaborator", "attendee"):
        await post(kit.client, cast, who, f"from the {who}")
        r = await kit.client.get(cast["url"], headers=bearer(cast[who]))
        assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [p["content"] for p in items] == [
        "from the attendee",
        "from the collaborator",
        "from the host",
    ]
    assert [p["author_is_host"] for p in items] == [False, False, True]
    assert items[0]["author_profile_id"] == cast["attendee"]["profile_id"]


async def test_everyone_else_is_refused(kit: Kit, cast: Cast) -> None:
    url = cast["url"]
    # Sees the event but not its board.
    for method in ("get", "post"):
        r = await kit.client.request(
            method.upper(), url, headers=bearer(cast["invitee"]), json={"content": "hi"}
        )
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"
    # Must not learn the event exists.
    blocked_attendee = await kit.person("Blocked")
    await kit.invite(cast["event"], blocked_attendee, "confirmed")
    await block(kit.db, cast["host"], blocked_attendee)
    for who in (cast["stranger"], blocked_attendee):
        for method in ("get", "post"):
            r = await kit.client.request(
                method.upper(), url, headers=bearer(who), json={"content": "hi"}
            )
            assert r.status_code == 404, r.text
            assert r.json()["code"] == "not_found"
    r = await kit.client.get(f"/v1/events/{uuid.uuid4()}/posts", headers=bearer(cast["host"]))
    assert r.status_code == 404


async def test_a_cancelled_attendee_loses_the_board(kit: Kit, cast: Cast) -> None:
    await kit.db.execute(
        "UPDATE invitations SET status = 'cancelled' WHERE profile_id = $1",
        uuid.UUID(cast["attendee"]["profile_id"]),
    )
    r = await kit.client.get(cast["url"], headers=bearer(cast["attendee"]))
    assert r.status_code == 403


async def test_a_draft_has_no_board_yet(kit: Kit, cast: Cast) -> None:
    draft = await kit.draft(cast["host"])
    r = await kit.client.post(
        f"/v1/events/{draft['id']}/posts", headers=bearer(cast["host"]), json={"content": "x"}
    )
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


async def test_posting_needs_a_social_profile(kit: Kit, cast: Cast) -> None:
    no_profile = await kit.sign_in()
    await kit.collaborator(cast["host"], cast["event"], no_profile)
    r = await kit.client.post(cast["url"], headers=bearer(no_profile), json={"content": "x"})
    assert r.status_code == 409
    assert r.json()["code"] == "social_profile_required"


async def test_a_host_without_a_social_profile_reads_and_posts_as_the_host(
    kit: Kit, cast: Cast
) -> None:
    community = await kit.community_host("The Winslow")
    r = await kit.client.post(
        "/v1/me/host-profile/photos",
        headers=bearer(community),
        files=jpeg_file(jpeg_with_gps()),
        data={"photo_type": "logo"},
    )
    logo = r.json()["image_url"]
    event = await kit.published(community, stops=[kit.stop(community["location_id"], 48)])
    await kit.invite(event, cast["attendee"], "confirmed")
    url = f"/v1/events/{event['id']}/posts"
    hosts = await post(kit.client, {"url": url, "host": community}, "host", "Welcome all")
    assert (hosts["author_profile_id"], hosts["author_is_host"]) == (None, True)
    assert (hosts["author_host_id"], hosts["author_host_name"], hosts["author_host_logo_url"]) == (
        community["host_id"],
        "The Winslow",
        logo,
    )
    await post(kit.client, {"url": url, "attendee": cast["attendee"]}, "attendee", "Thanks!")
    for reader in (community, cast["attendee"]):
        r = await kit.client.get(url, headers=bearer(reader))
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [(p["content"], p["author_is_host"]) for p in items] == [
            ("Thanks!", False),
            ("Welcome all", True),
        ]
        # Only the host's posts name the host.
        assert (items[0]["author_host_id"], items[0]["author_host_name"]) == (None, None)
        assert (items[0]["author_host_logo_url"], items[1]["author_host_logo_url"]) == (None, logo)
    # The host deletes posts on their board, like any host.
    r = await kit.client.delete(f"{url}/{items[0]['id']}", headers=bearer(community))
    assert r.status_code == 204
    # Without a profile, only the host gets in: a stranger host is still 404.
    r = await kit.client.get(cast["url"], headers=bearer(community))
    assert r.status_code == 404


async def test_board_access_for_the_gateway(kit: Kit, cast: Cast) -> None:
    event_id = cast["event_id"]

    def user(who: str) -> uuid.UUID:
        return uuid.UUID(cast[who]["user_id"])

    for who in ("host", "collaborator", "attendee"):
        member = await service.board_access(kit.db, user(who), event_id)
        assert member is not None
        assert member.author == uuid.UUID(cast[who]["profile_id"])
    community = await kit.community_host()
    event = await kit.published(community, stops=[kit.stop(community["location_id"], 48)])
    member = await service.board_access(
        kit.db, uuid.UUID(community["user_id"]), uuid.UUID(event["id"])
    )
    assert member is not None
    assert (member.profile_id, member.host_id) == (None, uuid.UUID(community["host_id"]))
    for who in ("invitee", "stranger"):
        assert await service.board_access(kit.db, user(who), event_id) is None
    assert await service.board_access(kit.db, user("host"), uuid.uuid4()) is None


async def test_deleting_posts(kit: Kit, cast: Cast) -> None:
    url = cast["url"]
    mine = await post(kit.client, cast, "attendee", "mine")
    theirs = await post(kit.client, cast, "other_attendee", "theirs")
    hosts = await post(kit.client, cast, "host", "the host's")

    # Neither the author nor the host: 403; can't see the event: 404.
    for who in ("collaborator", "other_attendee"):
        r = await kit.client.delete(f"{url}/{mine['id']}", headers=bearer(cast[who]))
        assert r.status_code == 403, who
        assert r.json()["code"] == "forbidden"
    r = await kit.client.delete(f"{url}/{hosts['id']}", headers=bearer(cast["invitee"]))
    assert r.status_code == 403
    r = await kit.client.delete(f"{url}/{mine['id']}", headers=bearer(cast["stranger"]))
    assert r.status_code == 404
    # Unknown post, or one of another event.
    r = await kit.client.delete(f"{url}/{uuid.uuid4()}", headers=bearer(cast["host"]))
    assert r.status_code == 404
    other_event = await kit.published(cast["host"])
    r = await kit.client.delete(
        f"/v1/events/{other_event['id']}/posts/{mine['id']}", headers=bearer(cast["host"])
    )
    assert r.status_code == 404

    # The author, the host (anyone's post); again is a no-op.
    r = await kit.client.delete(f"{url}/{mine['id']}", headers=bearer(cast["attendee"]))
    assert r.status_code == 204
    r = await kit.client.delete(f"{url}/{theirs['id']}", headers=bearer(cast["host"]))
    assert r.status_code == 204
    r = await kit.client.delete(f"{url}/{mine['id']}", headers=bearer(cast["attendee"]))
    assert r.status_code == 204

    r = await kit.client.get(url, headers=bearer(cast["collaborator"]))
    assert [p["id"] for p in r.json()["items"]] == [hosts["id"]]
    # A seq is never reused; replay shows deleted posts as tombstones.
    after = await post(kit.client, cast, "attendee", "after")
    assert after["seq"] == 4
    replay = await service.posts_since(kit.db, STORAGE, cast["event_id"], 0, 10)
    assert [(p.seq, p.deleted, p.content) for p in replay] == [
        (1, True, None),
        (2, True, None),
        (3, False, "the host's"),
        (4, False, "after"),
    ]


async def test_a_block_hides_posts_both_ways(kit: Kit, cast: Cast) -> None:
    a, b = cast["attendee"], cast["other_attendee"]
    await post(kit.client, cast, "attendee", "from a")
    await post(kit.client, cast, "other_attendee", "from b")
    await post(kit.client, cast, "host", "from the host")
    await block(kit.db, a, b)

    async def seen_live(who: dict[str, Any]) -> list[str]:
        r = await kit.client.get(cast["url"], headers=bearer(who))
        assert r.status_code == 200
        return [p["content"] for p in r.json()["items"]]

    assert await seen_live(a) == ["from the host", "from a"]
    assert await seen_live(b) == ["from the host", "from b"]
    assert await seen_live(cast["host"]) == ["from the host", "from b", "from a"]
    # A's post stays out of B's sight after the block too, and B may not delete it.
    r = await kit.client.get(cast["url"], headers=bearer(a))
    own = r.json()["items"][1]
    r = await kit.client.delete(f"{cast['url']}/{own['id']}", headers=bearer(b))
    assert r.status_code == 404
