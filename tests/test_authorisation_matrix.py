"""Who gets through where: every route of the OpenAPI document, for every kind of caller.

One world (tests/authorisation/world.py) holds an owner for every route: the
host of the events, their guests, people who met, a conversation, a Memory
Book, photos, links, a report and a ticket. Each row of MATRIX names a route,
whose call it is (the owner: the person the route exists for) and what each
caller gets, in this order:

    anon  no one signed in
    nop   signed in, no social profile yet
    oth   another user, with a profile
    bby   a user the owner blocked
    bng   a user who blocked the owner
    sus   a suspended user          ban  a banned user
    sup   support staff   mod  a moderator   adm  an admin
    own   the owner

Staff have their own social profiles: outside /v1/admin they are users like
any other. Rows run in order, the owner last in each row, so a row that
changes the world (a block, a new profile, leaving) comes where it harms no
later row. A route of the document missing from TABLE fails the test, as
does a row for a route the document does not have.
"""

# ruff: noqa: E501 (TABLE is one route per line)
from __future__ import annotations

import re
from typing import Any

import msgspec
from authorisation.world import World, build_world
from builders import Client, Kit
from helpers import bearer, make_phone

COLUMNS = ("anon", "nop", "oth", "bby", "bng", "sus", "ban", "sup", "mod", "adm", "own")


class Row(msgspec.Struct, frozen=True):
    method: str
    path: str
    owner: str
    expected: dict[str, int]
    body: Any = None
    # The world's names for the path's parameters where they differ from
    # world.DEFAULT_IDS (e.g. `{"event_id": "past"}`).
    ids: dict[str, str] = {}
    # A multipart upload of a small PNG, `body` as its other fields.
    files: bool = False


PHOTO = {"files": True}

STOPS = [
    {
        "location_id": "{location}",
        "start_time": "2031-05-01T18:00:00Z",
        "end_time": "2031-05-01T20:00:00Z",
    }
]
REPORT = {"profile_id": "{mate}", "status": "attended"}
KUDO = {"receiver_profile_id": "{mate}", "kudo": "great_listener"}
MATE = {"profile_id": "{mate}"}
SHARE = {"receiver_profile_id": "{mate}", "social_link_id": "{shared_link}"}
PROFILE = {"gender": "Woman", "interested_in": ["Man"], "first_name": "Renamed"}
GALLERY = {"event_id": "past", "photo_id": "gallery_photo"}

TABLE = """
method  path                                                      owner     anon nop oth bby bng sus ban sup mod adm own
GET     /health                                                   oth       200 200 200 200 200 200 200 200 200 200 200
GET     /ready                                                    oth       200 200 200 200 200 200 200 200 200 200 200
POST    /v1/auth/otp                                              oth       202 202 202 202 202 202 202 202 202 202 202
POST    /v1/auth/verify                                           oth       401 401 401 401 401 401 401 401 401 401 401
POST    /v1/auth/refresh                                          oth       401 401 401 401 401 401 401 401 401 401 401
POST    /v1/waitlist                                              oth       201 200 200 200 200 200 200 200 200 200 200
POST    /v1/webhooks/stripe                                       oth       503 503 503 503 503 503 503 503 503 503 503
GET     /v1/me                                                    attendee  401 200 200 200 200 403 403 200 200 200 200
PATCH   /v1/me                                                    attendee  401 200 200 200 200 403 403 200 200 200 200
GET     /v1/me/export                                             attendee  401 200 200 200 200 403 403 200 200 200 200
GET     /v1/me/photos                                             attendee  401 409 200 200 200 403 403 200 200 200 200
POST    /v1/me/photos                                             attendee  401 409 201 201 201 403 403 201 201 201 201
DELETE  /v1/me/photos/{photo_id}                                  attendee  401 409 404 404 404 403 403 404 404 404 204
POST    /v1/me/host-profile/photos                                host      401 409 409 409 409 403 403 409 409 409 201
DELETE  /v1/me/host-profile/photos/{photo_id}                     host      401 409 409 409 409 403 403 409 409 409 204
GET     /v1/discover                                              attendee  401 409 200 200 200 403 403 200 200 200 200
GET     /v1/profiles/{profile_id}                                 attendee  401 200 200 404 404 403 403 200 200 200 200
PUT     /v1/profiles/{profile_id}/like                            mate      401 409 204 404 404 403 403 204 204 204 204
DELETE  /v1/profiles/{profile_id}/like                            mate      401 409 204 404 404 403 403 204 204 204 204
PATCH   /v1/me/social-profile                                     attendee  401 409 200 200 200 403 403 200 200 200 200
GET     /v1/hosts/{host_id}                                       host      401 200 200 404 404 403 403 200 200 200 200
PATCH   /v1/me/host-profile                                       host      401 409 409 409 409 403 403 409 409 409 200
GET     /v1/interests                                             attendee  401 200 200 200 200 403 403 200 200 200 200
PUT     /v1/me/interests                                          attendee  401 409 200 200 200 403 403 200 200 200 200
POST    /v1/locations                                             host      401 201 201 201 201 403 403 201 201 201 201
GET     /v1/locations/{location_id}                               host      401 404 404 404 404 403 403 404 404 404 200
POST    /v1/events                                                host      401 409 409 409 409 403 403 409 409 409 201
GET     /v1/events/{event_id}                                     host      401 404 404 404 404 403 403 404 404 404 200
PATCH   /v1/events/{event_id}                                     host      401 404 404 404 404 403 403 404 404 404 200
PUT     /v1/events/{event_id}/stops                               host      401 404 404 404 404 403 403 404 404 404 200
POST    /v1/events/{event_id}/publish                             host      401 404 404 404 404 403 403 404 404 404 200
POST    /v1/events/{event_id}/collaborators                       host      401 404 404 404 404 403 403 404 404 404 201
DELETE  /v1/events/{event_id}/collaborators/{collaborator_id}     host      401 404 404 404 404 403 403 404 404 404 204
GET     /v1/events/{event_id}/invitations                         host      401 404 404 404 404 403 403 404 404 404 200
GET     /v1/events/{event_id}/attendees                           host      401 404 404 404 404 403 403 404 404 404 200
GET     /v1/me/hosted-events                                      host      401 409 409 409 409 403 403 409 409 409 200
POST    /v1/events/{event_id}/cancel                              host      401 404 404 404 404 403 403 404 404 404 200
GET     /v1/me/invitations                                        invitee   401 200 200 200 200 403 403 200 200 200 200
POST    /v1/invitations/{invitation_id}/accept                    invitee   401 404 404 404 404 403 403 404 404 404 200
POST    /v1/invitations/{invitation_id}/decline                   decliner  401 404 404 404 404 403 403 404 404 404 200
POST    /v1/invitations/{invitation_id}/cancel                    goer      401 404 404 404 404 403 403 404 404 404 200
GET     /v1/me/events                                             goer      401 200 200 200 200 403 403 200 200 200 200
GET     /v1/me/payments                                           goer      401 200 200 200 200 403 403 200 200 200 200
POST    /v1/events/{event_id}/check-in                            checker   401 404 404 404 404 403 403 404 404 404 200
POST    /v1/events/{event_id}/attendance-reports                  host      401 404 404 404 404 403 403 404 404 404 200
POST    /v1/events/{event_id}/rating                              attendee  401 404 404 404 404 403 403 404 404 404 201
POST    /v1/events/{event_id}/kudos                               attendee  401 404 404 404 404 403 403 404 404 404 201
GET     /v1/me/kudos                                              mate      401 409 200 200 200 403 403 200 200 200 200
GET     /v1/events/{event_id}/photos                              attendee  401 404 404 404 404 403 403 404 404 404 200
POST    /v1/events/{event_id}/photos                              attendee  401 404 404 404 404 403 403 404 404 404 201
PATCH   /v1/events/{event_id}/photos/{photo_id}                   host      401 404 404 404 404 403 403 404 404 404 200
DELETE  /v1/events/{event_id}/photos/{photo_id}                   attendee  401 404 404 404 404 403 403 404 404 404 204
GET     /v1/events/{event_id}/posts                               attendee  401 404 404 404 404 403 403 404 404 404 200
POST    /v1/events/{event_id}/posts                               attendee  401 404 404 404 404 403 403 404 404 404 201
DELETE  /v1/events/{event_id}/posts/{post_id}                     attendee  401 404 404 404 404 403 403 404 404 404 204
GET     /v1/me/connections                                        attendee  401 200 200 200 200 403 403 200 200 200 200
PATCH   /v1/connections/{connection_id}                           attendee  401 404 404 404 404 403 403 404 404 404 200
GET     /v1/conversations                                         attendee  401 409 200 200 200 403 403 200 200 200 200
POST    /v1/conversations                                         attendee  401 409 403 404 404 403 403 403 403 403 200
GET     /v1/conversations/{conversation_id}/messages              attendee  401 404 404 404 404 403 403 404 404 404 200
POST    /v1/conversations/{conversation_id}/messages              attendee  401 404 404 404 404 403 403 404 404 404 201
POST    /v1/conversations/{conversation_id}/read                  attendee  401 404 404 404 404 403 403 404 404 404 204
GET     /v1/me/social-links                                       attendee  401 200 200 200 200 403 403 200 200 200 200
POST    /v1/me/social-links                                       attendee  401 201 201 201 201 403 403 201 201 201 201
PATCH   /v1/me/social-links/{link_id}                             attendee  401 404 404 404 404 403 403 404 404 404 200
POST    /v1/social-shares                                         attendee  401 409 404 404 404 403 403 404 404 404 201
GET     /v1/me/shared-with-me                                     mate      401 200 200 200 200 403 403 200 200 200 200
DELETE  /v1/me/social-links/{link_id}                             attendee  401 404 404 404 404 403 403 404 404 404 204
GET     /v1/me/notification-settings                              attendee  401 200 200 200 200 403 403 200 200 200 200
PATCH   /v1/me/notification-settings                              attendee  401 200 200 200 200 403 403 200 200 200 200
GET     /v1/me/notifications                                      attendee  401 200 200 200 200 403 403 200 200 200 200
POST    /v1/me/notifications/read                                 attendee  401 204 204 204 204 403 403 204 204 204 204
PUT     /v1/me/push-tokens                                        attendee  401 201 201 201 201 403 403 201 201 201 201
DELETE  /v1/me/push-tokens/{token}                                attendee  401 404 404 404 404 403 403 404 404 404 204
POST    /v1/reports                                               attendee  401 201 201 201 201 403 403 201 201 201 201
POST    /v1/support-tickets                                       attendee  401 201 201 201 201 403 403 201 201 201 201
GET     /v1/me/support-tickets                                    attendee  401 200 200 200 200 403 403 200 200 200 200
GET     /v1/admin/reports                                         adm       401 403 403 403 403 403 403 403 200 200 200
GET     /v1/admin/reports/{report_id}                             adm       401 403 403 403 403 403 403 403 200 200 200
PATCH   /v1/admin/reports/{report_id}                             adm       401 403 403 403 403 403 403 403 200 200 200
GET     /v1/admin/support-tickets                                 adm       401 403 403 403 403 403 403 200 403 200 200
GET     /v1/admin/support-tickets/{ticket_id}                     adm       401 403 403 403 403 403 403 200 403 200 200
PATCH   /v1/admin/support-tickets/{ticket_id}                     adm       401 403 403 403 403 403 403 200 403 200 200
GET     /v1/admin/users/{user_id}                                 adm       401 403 403 403 403 403 403 200 200 200 200
PATCH   /v1/admin/users/{user_id}                                 adm       401 403 403 403 403 403 403 403 200 200 200
GET     /v1/admin/actions                                         adm       401 403 403 403 403 403 403 403 403 200 200
GET     /v1/blocks                                                attendee  401 200 200 200 200 403 403 200 200 200 200
POST    /v1/blocks                                                attendee  401 201 201 201 201 403 403 201 201 201 201
DELETE  /v1/blocks/{profile_id}                                   attendee  401 204 204 204 204 403 403 204 204 204 204
PUT     /v1/me/host-profile                                       host      401 201 201 201 201 403 403 201 201 201 200
PUT     /v1/me/social-profile                                     attendee  401 201 200 200 200 403 403 200 200 200 200
DELETE  /v1/me                                                    attendee  401 204 204 204 204 403 403 204 204 204 204
POST    /v1/auth/logout                                           oth       204 204 204 204 204 204 204 204 204 204 204
"""

# What a row sends, where it sends more than the bare route.
EXTRA: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/auth/otp"): {"body": {"phone_number": "{phone}"}},
    ("POST", "/v1/auth/verify"): {"body": {"phone_number": "{phone}", "code": "000000"}},
    ("POST", "/v1/auth/refresh"): {"body": {"refresh_token": "not-a-token"}},
    ("POST", "/v1/waitlist"): {"body": {"phone_number": "+442071838750"}},
    ("POST", "/v1/webhooks/stripe"): {"body": {}},
    ("PATCH", "/v1/me"): {"body": {"last_name": "Lee"}},
    ("POST", "/v1/me/photos"): dict(**PHOTO),
    ("POST", "/v1/me/host-profile/photos"): dict(**PHOTO),
    ("DELETE", "/v1/me/host-profile/photos/{photo_id}"): {"ids": {"photo_id": "host_photo"}},
    ("PATCH", "/v1/me/social-profile"): {"body": {"bio": "Hello"}},
    ("PATCH", "/v1/me/host-profile"): {"body": {"host_bio": "Walks"}},
    ("PUT", "/v1/me/interests"): {"body": {"interest_ids": []}},
    ("POST", "/v1/locations"): {
        "body": {"name": "Park", "address": "1 Main St", "latitude": 40.7, "longitude": -74.0}
    },
    ("POST", "/v1/events"): {"body": {"title": "Walk"}},
    ("PATCH", "/v1/events/{event_id}"): {
        "body": {"title": "Long walk"},
        "ids": {"event_id": "draft"},
    },
    ("PUT", "/v1/events/{event_id}/stops"): {"body": STOPS, "ids": {"event_id": "draft"}},
    ("POST", "/v1/events/{event_id}/publish"): {"ids": {"event_id": "draft"}},
    ("POST", "/v1/events/{event_id}/collaborators"): {"body": {"first_name": "Kim"}},
    ("POST", "/v1/events/{event_id}/cancel"): {"ids": {"event_id": "cancel"}},
    ("POST", "/v1/invitations/{invitation_id}/decline"): {
        "body": {"decline_reason": "busy"},
        "ids": {"invitation_id": "decliner"},
    },
    ("POST", "/v1/invitations/{invitation_id}/cancel"): {"ids": {"invitation_id": "goer"}},
    ("POST", "/v1/events/{event_id}/check-in"): {
        "body": {"latitude": 40.73, "longitude": -74.0},
        "ids": {"event_id": "now"},
    },
    ("POST", "/v1/events/{event_id}/attendance-reports"): {
        "body": REPORT,
        "ids": {"event_id": "past"},
    },
    ("POST", "/v1/events/{event_id}/rating"): {
        "body": {"host_rating_value": 5, "event_rating_value": 4},
        "ids": {"event_id": "past"},
    },
    ("POST", "/v1/events/{event_id}/kudos"): {"body": KUDO, "ids": {"event_id": "past"}},
    ("GET", "/v1/events/{event_id}/photos"): {"ids": {"event_id": "past"}},
    ("POST", "/v1/events/{event_id}/photos"): dict(ids={"event_id": "past"}, **PHOTO),
    ("PATCH", "/v1/events/{event_id}/photos/{photo_id}"): {
        "body": {"status": "hidden_by_host"},
        "ids": GALLERY,
    },
    ("DELETE", "/v1/events/{event_id}/photos/{photo_id}"): {"ids": GALLERY},
    ("GET", "/v1/events/{event_id}/posts"): {"ids": {"event_id": "past"}},
    ("POST", "/v1/events/{event_id}/posts"): {
        "body": {"content": "Hi"},
        "ids": {"event_id": "past"},
    },
    ("DELETE", "/v1/events/{event_id}/posts/{post_id}"): {"ids": {"event_id": "past"}},
    ("PATCH", "/v1/connections/{connection_id}"): {"body": {"is_favorite": True}},
    ("POST", "/v1/conversations"): {"body": MATE},
    ("POST", "/v1/conversations/{conversation_id}/messages"): {"body": {"content": "Hi"}},
    ("POST", "/v1/conversations/{conversation_id}/read"): {"body": {"seq": 1}},
    ("POST", "/v1/me/social-links"): {
        "body": {"platform": "website", "url": "https://example.com/new"}
    },
    ("PATCH", "/v1/me/social-links/{link_id}"): {"body": {"url": "https://example.com/moved"}},
    ("POST", "/v1/social-shares"): {"body": SHARE},
    ("PATCH", "/v1/me/notification-settings"): {
        "body": {"categories": {"kudos": {"push_enabled": False}}}
    },
    ("POST", "/v1/me/notifications/read"): {"body": {"all": True}},
    ("PUT", "/v1/me/push-tokens"): {
        "body": {"token": "ExponentPushToken[matrix-new]", "platform": "ios"}
    },
    ("POST", "/v1/reports"): {"body": {"reported_profile_id": "{target}", "category": "spam"}},
    ("POST", "/v1/support-tickets"): {"body": {"category": "other", "body": "Help"}},
    ("PATCH", "/v1/admin/reports/{report_id}"): {"body": {"status": "reviewing"}},
    ("PATCH", "/v1/admin/support-tickets/{ticket_id}"): {"body": {"status": "open"}},
    ("PATCH", "/v1/admin/users/{user_id}"): {"body": {"is_verified": True}},
    ("POST", "/v1/blocks"): {"body": {"profile_id": "{nobody}"}},
    ("DELETE", "/v1/blocks/{profile_id}"): {"ids": {"profile_id": "profile_of:nobody"}},
    ("PUT", "/v1/me/host-profile"): {"body": {"host_name": "New Walks"}},
    ("PUT", "/v1/me/social-profile"): {"body": PROFILE},
    ("POST", "/v1/auth/logout"): {"body": {"refresh_token": "{refresh}"}},
}


def _resolve(value: Any, world: World, caller: str | None) -> Any:
    """A body with its "{name}" strings filled in: a person's profile id, an id of
    the world, or ("{refresh}") the caller's refresh token."""
    if isinstance(value, dict):
        return {k: _resolve(v, world, caller) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, world, caller) for v in value]
    if isinstance(value, str) and (found := re.fullmatch(r"\{(\w+)\}", value)):
        name = found.group(1)
        if name == "phone":
            return make_phone()  # a new number each call: the per-number limits stay out
        if name == "refresh":
            return world.people[caller]["refresh_token"] if caller else "none"
        if name in world.people:
            return world.people[name]["profile_id"]
        return world.ids[name]
    return value


async def _call(client: Client, world: World, r: Row, caller: str | None) -> int:
    url = r.path
    for name in re.findall(r"\{(\w+)\}", r.path):
        url = url.replace("{" + name + "}", world.id_for(name, r.ids.get(name)))
    headers = bearer(world.people[caller]) if caller else {}
    body = _resolve(r.body, world, caller)
    if r.files:
        response = await client.request(
            r.method, url, headers=headers, files={"file": world.picture()}, data=body or {}
        )
    else:
        response = await client.request(r.method, url, headers=headers, json=body)
    return response.status_code


def _rows() -> list[Row]:
    lines = TABLE.strip().splitlines()
    header = lines[0].split()
    assert tuple(header[3:]) == COLUMNS, header
    rows = []
    for line in lines[1:]:
        method, path, owner, *statuses = line.split()
        expected = dict(zip(COLUMNS, map(int, statuses), strict=True))
        rows.append(Row(method, path, owner, expected, **EXTRA.get((method, path), {})))
    assert set(EXTRA) <= {(r.method, r.path) for r in rows}, "EXTRA for a route not in TABLE"
    return rows


async def test_every_route_refuses_who_must_not_get_through(kit: Kit) -> None:
    world = await build_world(kit)
    paths = (await kit.client.get("/schema/openapi.json")).json()["paths"]
    documented = {
        (method.upper(), path)
        for path, item in paths.items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    matrix = _rows()
    listed = [(r.method, r.path) for r in matrix]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    assert documented - set(listed) == set(), "routes without a row"
    assert set(listed) - documented == set(), "rows for routes the document lacks"
    wrong = []
    for r in matrix:
        for column in COLUMNS:
            caller = None if column == "anon" else (r.owner if column == "own" else column)
            status = await _call(kit.client, world, r, caller)
            if status != r.expected[column]:
                wrong.append(f"{r.method} {r.path} as {column}: {status}, not {r.expected[column]}")
    assert not wrong, "\n".join(wrong)
