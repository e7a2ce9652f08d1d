"""The event gallery: who adds and sees photos, moderation, and what is stored."""

from __future__ import annotations

import io
import uuid
from typing import Any

from builders import Kit, client_with, happening, move_event
from helpers import bearer, block, gather
from PIL import Image

from server.settings import Settings
from tests.attendance.steps import check_in
from tests.photos.steps import GPS_IFD, fetch, jpeg_file, jpeg_with_gps, key_of, media_files


async def add(kit: Kit, person: dict[str, Any], event: dict[str, Any]) -> Any:
    return await kit.client.post(
        f"/v1/events/{event['id']}/photos", headers=bearer(person), files=jpeg_file(jpeg_with_gps())
    )


async def seen(kit: Kit, person: dict[str, Any], event: dict[str, Any]) -> list[str]:
    r = await kit.client.get(f"/v1/events/{event['id']}/photos", headers=bearer(person))
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["items"]]


async def test_who_may_add_photos(kit: Kit) -> None:
    host = await kit.host()
    came, confirmed, crew, away, declined, stranger, blocked = [
        await kit.person(n) for n in ("Ann", "Bob", "Cy", "Al", "Dee", "Sam", "Bo")
    ]
    event = await happening(kit, host, came, confirmed, away, blocked)
    await kit.collaborator(host, event, crew)
    await kit.invite(event, declined, "declined")
    await check_in(kit.client, came, event)
    await kit.db.execute(
        "INSERT INTO attendance (event_id, profile_id, status, source) "
        "VALUES ($1, $2, 'no_show', 'host')",
        uuid.UUID(event["id"]),
        uuid.UUID(away["profile_id"]),
    )
    await block(kit.db, host, blocked)
    for person in (host, came, confirmed, crew):
        r = await add(kit, person, event)
        assert r.status_code == 201, r.text
    for person, status in ((away, 403), (declined, 403), (stranger, 404), (blocked, 404)):
        assert (await add(kit, person, event)).status_code == status
    assert len(await seen(kit, came, event)) == 4


async def test_the_gallery_opens_at_the_start(kit: Kit) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann, start_hours=2)
    r = await add(kit, ann, event)
    assert (r.status_code, r.json()["code"]) == (409, "gallery_not_open")
    await move_event(kit.db, event["id"], start_hours=-0.1)
    assert (await add(kit, ann, event)).status_code == 201


async def test_a_stored_photo_has_no_location_and_has_a_thumbnail(
    kit: Kit, settings: Settings
) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)
    photo = (await add(kit, ann, event)).json()
    assert photo["uploader_profile_id"] == ann["profile_id"]
    stored = Image.open(io.BytesIO((await fetch(kit.client, photo["image_url"])).content))
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert (
        photo["thumbnail_url"]
        and (await fetch(kit.client, photo["thumbnail_url"])).status_code == 200
    )
    assert {key_of(photo["image_url"]), key_of(photo["thumbnail_url"])} <= {
        str(p.relative_to(settings.data_dir / "media")) for p in media_files(settings)
    }


async def test_the_per_person_cap_holds_under_concurrent_uploads(
    kit: Kit, settings: Settings
) -> None:
    host, ann = await kit.host(), await kit.person("Ann")
    event = await happening(kit, host, ann)
    async with client_with(settings, event_photos_per_person=2) as client:
        answers = await gather(
            *(
                client.post(
                    f"/v1/events/{event['id']}/photos",
                    headers=bearer(ann),
                    files=jpeg_file(jpeg_with_gps()),
                )
                for _ in range(4)
            )
        )
    assert sorted(a.status_code for a in answers) == [201, 201, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"too_many_photos"}
    # The refused uploads left no file behind: two photos, two files each.
    assert len(media_files(settings)) == 4


async def test_hidden_photos_and_blocks(kit: Kit) -> None:
    host = await kit.host()
    ann, bob, cal = [await kit.person(n) for n in ("Ann", "Bob", "Cal")]
    event = await happening(kit, host, ann, bob, cal)
    anns = (await add(kit, ann, event)).json()
    bobs = (await add(kit, bob, event)).json()
    url = f"/v1/events/{event['id']}/photos/{anns['id']}"
    # Only the host moderates.
    r = await kit.client.patch(url, headers=bearer(bob), json={"status": "hidden_by_host"})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await kit.client.patch(url, headers=bearer(host), json={"status": "pending_review"})
    assert r.status_code == 422
    r = await kit.client.patch(url, headers=bearer(host), json={"status": "hidden_by_host"})
    assert (r.status_code, r.json()["status"]) == (200, "hidden_by_host")
    assert anns["id"] in await seen(kit, host, event)
    assert anns["id"] in await seen(kit, ann, event)
    assert anns["id"] not in await seen(kit, cal, event)
    r = await kit.client.patch(url, headers=bearer(bob), json={"status": "visible"})
    assert r.status_code == 404  # Bob can't see it any more
    # Cal blocks Bob: Bob's photos vanish from Cal's gallery.
    await block(kit.db, cal, bob)
    assert bobs["id"] not in await seen(kit, cal, event)


async def test_uploader_or_host_deletes_and_the_files_go(kit: Kit, settings: Settings) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    event = await happening(kit, host, ann, bob)
    first, second = (await add(kit, ann, event)).json(), (await add(kit, ann, event)).json()
    base = f"/v1/events/{event['id']}/photos"
    r = await kit.client.delete(f"{base}/{first['id']}", headers=bearer(bob))
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert (
        await kit.client.delete(f"{base}/{first['id']}", headers=bearer(ann))
    ).status_code == 204
    assert (
        await kit.client.delete(f"{base}/{second['id']}", headers=bearer(host))
    ).status_code == 204
    assert media_files(settings) == []
    assert await seen(kit, ann, event) == []


async def test_deleting_an_account_deletes_its_gallery_files(kit: Kit, settings: Settings) -> None:
    host, ann, bob = await kit.host(), await kit.person("Ann"), await kit.person("Bob")
    event = await happening(kit, host, ann, bob)
    await add(kit, ann, event)
    assert len(media_files(settings)) == 2
    assert (await kit.client.delete("/v1/me", headers=bearer(ann))).status_code == 204
    assert media_files(settings) == []
    # A host's account takes their events, and every gallery file of them.
    await add(kit, bob, event)
    assert (await kit.client.delete("/v1/me", headers=bearer(host))).status_code == 204
    assert media_files(settings) == []
    assert await kit.db.fetchval("SELECT count(*) FROM event_photos") == 0
