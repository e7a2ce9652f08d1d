"""What every route shares: problem details, request ids, probes, metrics, OpenAPI."""

from __future__ import annotations

import uuid
from typing import Any

from builders import client_with
from helpers import make_phone
from litestar.testing import AsyncTestClient

from server.settings import Settings

Client = AsyncTestClient[Any]


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]


async def test_unknown_route_and_wrong_method(client: Client) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(await client.put("/v1/auth/otp", json={}), 405, "method_not_allowed")


async def test_malformed_json_and_wrong_types(client: Client) -> None:
    r = await client.post(
        "/v1/auth/otp", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(r, 422, "malformed_json")
    r = await client.post("/v1/auth/otp", json={"phone_number": 12})
    assert_problem(r, 422, "validation_error")
    assert "phone_number" in r.json()["detail"]
    # A number JSON can write but a float cannot hold is bad input, not a bad request.
    r = await client.post(
        "/v1/auth/otp",
        content=b'{"phone_number": 1e999}',
        headers={"content-type": "application/json"},
    )
    assert_problem(r, 422, "validation_error")


async def test_oversized_body_is_413(settings: Settings) -> None:
    async with client_with(settings, max_request_body_bytes=1024) as client:
        r = await client.post("/v1/auth/otp", json={"phone_number": "1" * 4096})
        assert_problem(r, 413, "payload_too_large")


async def test_request_id_is_echoed_or_made(client: Client) -> None:
    mine = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert mine.headers["x-request-id"] == "abc-123"
    made = await client.get("/health", headers={"X-Request-ID": "bad id with spaces\n"})
    assert made.headers["x-request-id"] != "bad id with spaces\n"
    assert len(made.headers["x-request-id"]) == 32
    # Error responses carry it too.
    error = await client.get("/v1/me", headers={"X-Request-ID": "err-1"})
    assert error.status_code == 401
    assert error.headers["x-request-id"] == "err-1"


async def test_health_and_ready(client: Client) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_ready_is_503_when_redis_is_unreachable(settings: Settings) -> None:
    async with client_with(settings, redis_url="redis://127.0.0.1:9/0") as client:
        assert (await client.get("/health")).status_code == 200
        r = await client.get("/ready")
        assert_problem(r, 503, "not_ready")
        assert "redis: unavailable" in r.json()["detail"]


async def test_sign_in_survives_a_redis_outage(settings: Settings) -> None:
    """Rate limits fail open: losing the broker must not lock everyone out."""
    async with client_with(settings, redis_url="redis://127.0.0.1:9/0") as client:
        phone = make_phone()
        assert (await client.post("/v1/auth/otp", json={"phone_number": phone})).status_code == 202
        r = await client.post("/v1/auth/verify", json={"phone_number": phone, "code": "123456"})
        assert r.status_code == 200


async def test_rate_limits_hold_across_processes(settings: Settings) -> None:
    """Two app instances sharing Redis share one budget per phone number."""
    phone = make_phone()
    limit = settings.otp_sends_per_phone_per_hour
    async with client_with(settings) as a, client_with(settings) as b:
        codes = []
        for i in range(limit + 2):
            client = a if i % 2 == 0 else b
            codes.append(
                (await client.post("/v1/auth/otp", json={"phone_number": phone})).status_code
            )
    assert codes == [202] * limit + [429, 429]


async def test_metrics_are_prometheus_text(client: Client, sign_in: Any) -> None:
    await sign_in()
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "momento_requests_total" in r.text


async def test_openapi_documents_every_route(client: Client) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path, method in [
        ("/v1/auth/otp", "post"),
        ("/v1/auth/verify", "post"),
        ("/v1/auth/refresh", "post"),
        ("/v1/auth/logout", "post"),
        ("/v1/waitlist", "post"),
        ("/v1/me", "get"),
        ("/v1/me", "patch"),
        ("/v1/me", "delete"),
        ("/v1/me/export", "get"),
        ("/health", "get"),
        ("/ready", "get"),
    ]:
        assert method in paths[path], (path, method)
    verify = paths["/v1/auth/verify"]["post"]["responses"]
    assert verify["200"]["content"]["application/json"]["schema"]["$ref"].endswith("TokenPair")
    # Errors are documented as the problem details the server really sends.
    assert "application/problem+json" in verify["401"]["content"]
    assert "invalid_code" in verify["401"]["description"]
    assert "400" not in verify
    # Public routes need no token; the others inherit the bearer requirement.
    assert paths["/v1/auth/verify"]["post"]["security"] == []
    assert "security" not in paths["/v1/me"]["get"]
    # A create links to the routes of what it created, with the id it returns.
    links = paths["/v1/events"]["post"]["responses"]["201"]["links"]
    get_event = paths["/v1/events/{event_id}"]["get"]["operationId"]
    assert links[f"get_{get_event}"]["parameters"] == {"event_id": "$response.body#/id"}
    unblock = paths["/v1/blocks"]["post"]["responses"]["201"]["links"]
    assert [link["parameters"] for link in unblock.values()] == [
        {"profile_id": "$response.body#/profile_id"}
    ]


async def test_options_lists_every_method_of_the_path(client: Client) -> None:
    """Without a token too (OPTIONS is how a client asks), and on staff routes."""
    for path, allow in [
        ("/v1/me", "DELETE, GET, OPTIONS, PATCH"),
        ("/v1/admin/reports", "GET, OPTIONS"),
        (f"/v1/admin/users/{uuid.uuid4()}", "GET, OPTIONS, PATCH"),
        ("/v1/auth/otp", "OPTIONS, POST"),
    ]:
        r = await client.options(path)
        assert r.status_code == 204, (path, r.text)
        assert r.headers["allow"] == allow, path


async def test_json_bodies_are_held_to_their_types_strictly(client: Client, sign_in: Any) -> None:
    """A string is not a number, 0 is not false: what the document says is what passes."""
    tokens = await sign_in()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    place = {"name": "The Winslow", "address": "243 E 14th St", "latitude": 40.7, "longitude": -74}
    for field, value in [("latitude", "40.7"), ("longitude", True)]:
        r = await client.post("/v1/locations", headers=headers, json={**place, field: value})
        assert_problem(r, 422, "validation_error")
        assert r.json()["errors"][0]["key"] == field
    r = await client.patch(
        "/v1/me/notification-settings",
        headers=headers,
        json={"categories": {"invitations": {"push_enabled": 0}}},
    )
    assert_problem(r, 422, "validation_error")
    assert r.json()["errors"][0]["key"] == "categories[...].push_enabled"
    r = await client.post("/v1/locations", headers=headers, json=place)
    assert r.status_code == 201, r.text
