"""POST /v1/waitlist: any country, no sign-in."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from db.queries import waitlist as q
from server.auth.phone import normalize_phone, to_e164
from server.auth.routes import PhoneNumber, client_ip
from server.deps import AuthRules, DbConnection
from server.errors import problems


class WaitlistRequest(msgspec.Struct):
    phone_number: PhoneNumber


class WaitlistEntry(msgspec.Struct):
    phone_number: str


@post(
    "/v1/waitlist",
    tags=["auth"],
    summary="Ask to hear when Momento reaches my country",
    opt={"exclude_from_auth": True},
    status_code=201,
    description="201 when the number is new, 200 when it was already there.",
    responses={
        200: ResponseSpec(WaitlistEntry, description="Already there", generate_examples=False),
        **problems(s422="invalid_phone, validation_error, malformed_json", s429="rate_limited"),
    },
)
async def join_waitlist(
    request: Request[Any, Any, Any],
    data: JSONBody[WaitlistRequest],
    auth: AuthRules,
    conn: DbConnection,
) -> Response[WaitlistEntry]:
    await auth.limit("waitlist-ip", client_ip(request), auth.settings.waitlist_per_ip_per_hour)
    phone = to_e164(normalize_phone(data.phone_number))
    created = await q.join(conn, phone)
    return Response(WaitlistEntry(phone_number=phone), status_code=201 if created else 200)
