"""The world of the authorisation matrix: an owner for every route and every
kind of caller, made through the API where the API can make it."""

from __future__ import annotations

import io
import uuid
from typing import Any

import msgspec
from builders import Kit, Person, happening, met
from helpers import bearer, block
from PIL import Image

# The world's name for each path parameter, unless a row says otherwise.
DEFAULT_IDS = {
    "event_id": "up",
    "invitation_id": "invitee",
    "collaborator_id": "collaborator",
    "photo_id": "profile_photo",
    "report_id": "report",
    "ticket_id": "ticket",
    "user_id": "target",
    "profile_id": "profile_of:attendee",
    "host_id": "host",
    "location_id": "location",
    "connection_id": "connection",
    "link_id": "link",
    "conversation_id": "conversation",
    "post_id": "post",
    "token": "push_token",
}
# Who owns the routes (the owner column), and the callers of the other columns.
OWNERS = ("host", "invitee", "decliner", "goer", "checker", "attendee", "mate")
STAFF = {"sup": "support", "mod": "moderator", "adm": "admin"}


class World(msgspec.Struct):
    people: dict[str, Person]
    ids: dict[str, str]

    def id_for(self, param: str, name: str | None) -> str:
        key = name or DEFAULT_IDS[param]
        if key.startswith("profile_of:"):
            return str(self.people[key.removeprefix("profile_of:")]["profile_id"])
        return self.ids[key]

    @staticmethod
    def picture() -> tuple[str, bytes, str]:
        out = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 120, 40)).save(out, "PNG")
        return ("photo.png", out.getvalue(), "image/png")


async def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def build_world(kit: Kit) -> World:
    client, db = kit.client, kit.db
    people: dict[str, Person] = {"host": await kit.host("Host")}
    for name in (*OWNERS[1:], "oth", "bby", "bng", "sus", "ban", "target", "nobody"):
        people[name] = await kit.person(name.title())
    people["nop"] = await kit.sign_in()
    for column, role in STAFF.items():
        people[column] = await kit.person(role.title())
        await db.execute(
            "INSERT INTO staff_accounts (user_id, role) VALUES ($1, $2)",
            uuid.UUID(people[column]["user_id"]),
            role,
        )
    host = people["host"]
    ids: dict[str, str] = {"host": host["host_id"]}

    # The host's events: upcoming (invitations), a draft, one to cancel, one
    # happening now (check-in), one past with two people who met.
    ids["location"] = await kit.location(host)
    stop = kit.stop(ids["location"], 48, title="Dinner")
    up = await kit.published(host, stops=[stop], max_attendees=10)
    ids["up"] = up["id"]
    for name, status in (("invitee", "sent"), ("decliner", "sent"), ("goer", "confirmed")):
        ids[name] = str(await kit.invite(up, people[name], status))
    r = await client.post(
        f"/v1/events/{up['id']}/collaborators", headers=bearer(host), json={"first_name": "Sam"}
    )
    ids["collaborator"] = (await _ok(r))["id"]
    ids["draft"] = (await kit.draft(host, stops=[kit.stop(ids["location"], 50)]))["id"]
    ids["cancel"] = (await kit.published(host, stops=[kit.stop(ids["location"], 52)]))["id"]
    ids["now"] = (await happening(kit, host, people["checker"]))["id"]
    past = await met(kit, host, people["attendee"], people["mate"])
    ids["past"] = past["id"]

    attendee, mate = people["attendee"], people["mate"]
    # What the people who met made: a post, a gallery photo, a conversation.
    r = await client.post(
        f"/v1/events/{past['id']}/posts", headers=bearer(attendee), json={"content": "Thanks!"}
    )
    ids["post"] = (await _ok(r))["id"]
    r = await client.post(
        f"/v1/events/{past['id']}/photos", headers=bearer(attendee), files={"file": World.picture()}
    )
    ids["gallery_photo"] = (await _ok(r))["id"]
    r = await client.post(
        "/v1/conversations", headers=bearer(attendee), json={"profile_id": mate["profile_id"]}
    )
    ids["conversation"] = (await _ok(r))["id"]
    r = await client.get("/v1/me/connections", headers=bearer(attendee))
    ids["connection"] = (await _ok(r, 200))["items"][0]["id"]

    # The attendee's own things: a photo, links, a push token.
    r = await client.post(
        "/v1/me/photos", headers=bearer(attendee), files={"file": World.picture()}
    )
    ids["profile_photo"] = (await _ok(r))["id"]
    for key in ("link", "shared_link"):
        r = await client.post(
            "/v1/me/social-links",
            headers=bearer(attendee),
            json={"platform": "website", "url": f"https://example.com/{key}"},
        )
        ids[key] = (await _ok(r))["id"]
    ids["push_token"] = "ExponentPushToken[matrix-attendee]"
    r = await client.put(
        "/v1/me/push-tokens",
        headers=bearer(attendee),
        json={"token": ids["push_token"], "platform": "ios"},
    )
    await _ok(r)
    r = await client.post(
        "/v1/me/host-profile/photos", headers=bearer(host), files={"file": World.picture()}
    )
    ids["host_photo"] = (await _ok(r))["id"]

    # For staff: a report about the target, and a ticket.
    ids["target"] = people["target"]["user_id"]
    r = await client.post(
        "/v1/reports",
        headers=bearer(attendee),
        json={"reported_profile_id": people["target"]["profile_id"], "category": "spam"},
    )
    ids["report"] = (await _ok(r))["id"]
    r = await client.post(
        "/v1/support-tickets", headers=bearer(attendee), json={"category": "other", "body": "Hi"}
    )
    ids["ticket"] = (await _ok(r))["id"]

    # Blocks with every owner, either way; suspended and banned accounts.
    for owner in OWNERS:
        await block(kit.db, people[owner], people["bby"])
        await block(kit.db, people["bng"], people[owner])
    for name, status in (("sus", "suspended"), ("ban", "banned")):
        await db.execute(
            "UPDATE users SET status = $2 WHERE id = $1", uuid.UUID(people[name]["user_id"]), status
        )
    return World(people=people, ids=ids)
