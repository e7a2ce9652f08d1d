"""/v1/auth/*: phone sign-in, refresh and logout (no bearer token needed)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from server.auth import service
from server.auth.service import TokenPair
from server.deps import AuthRules, DbConnection
from server.errors import problems

PhoneNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class OtpRequest(msgspec.Struct):
    phone_number: PhoneNumber


class OtpSent(msgspec.Struct):
    expires_in: int


class VerifyRequest(msgspec.Struct):
    phone_number: PhoneNumber
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=12)]


class RefreshRequest(msgspec.Struct):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


def client_ip(request: Request[Any, Any, Any]) -> str:
    # Behind a load balancer run uvicorn with --proxy-headers so this is the phone's IP.
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]
    opt = {"exclude_from_auth": True}

    @post(
        "/otp",
        status_code=HTTP_202_ACCEPTED,
        summary="Send a sign-in code by SMS",
        responses=problems(
            s403="waitlist_required (valid number outside the US)",
            s422="invalid_phone, validation_error, malformed_json",
            s429="rate_limited",
            s503="sms_unavailable",
        ),
    )
    async def send_code(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[OtpRequest],
        auth: AuthRules,
        conn: DbConnection,
    ) -> OtpSent:
        ttl = await service.request_code(auth, conn, data.phone_number, client_ip(request))
        return OtpSent(expires_in=ttl)

    @post(
        "/verify",
        status_code=HTTP_200_OK,
        summary="Exchange a code for tokens",
        responses=problems(
            s401="invalid_code (wrong, expired, used or never sent)",
            s403="waitlist_required",
            s422="invalid_phone, validation_error",
            s429="too_many_attempts (request a new code), rate_limited",
        ),
    )
    async def verify(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[VerifyRequest],
        auth: AuthRules,
        conn: DbConnection,
    ) -> TokenPair:
        return await service.verify_code(
            auth,
            conn,
            data.phone_number,
            data.code,
            client_ip(request),
            request.headers.get("user-agent"),
        )

    @post(
        "/refresh",
        status_code=HTTP_200_OK,
        summary="Rotate the refresh token",
        responses=problems(
            s401="invalid_refresh_token, refresh_token_reused (the session is now revoked)"
        ),
    )
    async def refresh(
        self, data: JSONBody[RefreshRequest], auth: AuthRules, conn: DbConnection
    ) -> TokenPair:
        return await service.refresh(auth, conn, data.refresh_token)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End this sign-in session")
    async def logout(
        self, data: JSONBody[RefreshRequest], auth: AuthRules, conn: DbConnection
    ) -> None:
        await service.logout(auth, conn, data.refresh_token)
