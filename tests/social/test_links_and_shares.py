"""Social links (https only, capped, public only for hosts) and silent shares
with people met."""

from __future__ import annotations

from typing import Any

from builders import Kit, client_with, met
from helpers import bearer, block, gather

from server.settings import Settings


async def add(
    kit: Kit, person: dict[str, Any], url: str = "https://instagram.com/ann", **extra: Any
) -> Any:
    return await kit.client.post(
        "/v1/me/social-links",
        headers=bearer(person),
        json={"platform": "instagram", "url": url, **extra},
    )


async def share(
    kit: Kit, sharer: dict[str, Any], receiver: dict[str, Any], link: dict[str, Any]
) -> Any:
    return await kit.client.post(
        "/v1/social-shares",
        headers=bearer(sharer),
        json={"receiver_profile_id": receiver["profile_id"], "social_link_id": link["id"]},
    )


async def test_only_https_links_on_the_list_are_taken(kit: Kit) -> None:
    ann = await kit.person("Ann")
    for url in (
        "http://instagram.com/ann",
        "javascript:alert(1)",
        "JavaScript://instagram.com/%0Aalert(1)",
        "data:text/html,hi",
        "https://",
        "https://insta gram.com/ann",
        "https://x.com/" + "a" * 2048,
    ):
        r = await add(kit, ann, url)
        assert (r.status_code, r.json()["code"]) == (422, "invalid_url"), url
    r = await kit.client.post(
        "/v1/me/social-links",
        headers=bearer(ann),
        json={"platform": "myspace", "url": "https://myspace.com/ann"},
    )
    assert r.status_code == 422
    assert (await add(kit, ann)).status_code == 201
    assert [
        link["url"]
        for link in (await kit.client.get("/v1/me/social-links", headers=bearer(ann))).json()
    ] == ["https://instagram.com/ann"]


async def test_the_cap_holds_under_concurrent_adds(kit: Kit, settings: Settings) -> None:
    async with client_with(settings, social_links_per_person=3) as client:
        ann = await kit.person("Ann")
        answers = await gather(
            *(
                client.post(
                    "/v1/me/social-links",
                    headers=bearer(ann),
                    json={"platform": "website", "url": f"https://ann.example/{n}"},
                )
                for n in range(6)
            )
        )
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"too_many_links"}


async def test_public_links_need_a_host_profile_and_show_on_the_host_page(kit: Kit) -> None:
    ann, host = await kit.person("Ann"), await kit.host()
    r = await add(kit, ann, is_public_on_host_profile=True)
    assert (r.status_code, r.json()["code"]) == (409, "host_profile_required")
    private = (await add(kit, ann)).json()
    r = await kit.client.patch(
        f"/v1/me/social-links/{private['id']}",
        headers=bearer(ann),
        json={"is_public_on_host_profile": True},
    )
    assert (r.status_code, r.json()["code"]) == (409, "host_profile_required")
    public = (
        await add(kit, host, "https://ada.example/walks", is_public_on_host_profile=True)
    ).json()
    hidden = (await add(kit, host, "https://ada.example/private")).json()
    page = (await kit.client.get(f"/v1/hosts/{host['host_id']}", headers=bearer(ann))).json()
    assert [link["url"] for link in page["social_links"]] == [public["url"]]
    assert hidden["url"] not in str(page)
    # Someone else's link is not there to change or delete.
    r = await kit.client.patch(
        f"/v1/me/social-links/{public['id']}",
        headers=bearer(ann),
        json={"url": "https://evil.example"},
    )
    assert r.status_code == 404
    assert (
        await kit.client.delete(f"/v1/me/social-links/{public['id']}", headers=bearer(ann))
    ).status_code == 404


async def test_shares_go_once_silently_to_people_met_and_vanish_with_blocks_and_links(
    kit: Kit,
) -> None:
    host = await kit.host()
    ann, bob, cal, stranger = [await kit.person(n) for n in ("Ann", "Bob", "Cal", "Sam")]
    await met(kit, host, ann, bob, cal)
    link = (await add(kit, ann)).json()
    other = (await add(kit, ann, "https://ann.example")).json()
    bobs_link = (await add(kit, bob, "https://bob.example")).json()
    before = await kit.db.fetchval("SELECT count(*) FROM notifications")

    first = await share(kit, ann, bob, link)
    assert first.status_code == 201, first.text
    again = await share(kit, ann, bob, link)
    assert (again.status_code, again.json()) == (200, first.json())
    assert (await share(kit, ann, cal, other)).status_code == 201
    assert await kit.db.fetchval("SELECT count(*) FROM notifications") == before  # silent
    # Not to strangers, not someone else's link.
    assert (await share(kit, ann, stranger, link)).status_code == 404
    assert (await share(kit, ann, cal, bobs_link)).status_code == 404

    shared = (await kit.client.get("/v1/me/shared-with-me", headers=bearer(bob))).json()
    [item] = shared["items"]
    assert (item["url"], item["sharer_profile"]["id"]) == (link["url"], ann["profile_id"])
    # Deleting the link removes its shares.
    assert (
        await kit.client.delete(f"/v1/me/social-links/{link['id']}", headers=bearer(ann))
    ).status_code == 204
    assert (await kit.client.get("/v1/me/shared-with-me", headers=bearer(bob))).json()[
        "items"
    ] == []
    # A block hides shares both ways, and stops new ones.
    await block(kit.db, cal, ann)
    assert (await kit.client.get("/v1/me/shared-with-me", headers=bearer(cal))).json()[
        "items"
    ] == []
    third = (await add(kit, ann, "https://ann.example/3")).json()
    assert (await share(kit, ann, cal, third)).status_code == 404
