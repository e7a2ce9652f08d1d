"""Host profiles: mine (become/stay a host) and anyone's public host page."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, patch, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from server.deps import Caller, DbConnection, FileStorage
from server.errors import AUTH_PROBLEMS, problems
from server.hosts import service
from server.hosts.schemas import HostPage, HostProfileIn, HostProfilePatch
from server.profiles.schemas import OwnHostProfile

_BAD_LOCATION = problems(
    s404="not_found (no such location of yours)",
    s422="validation_error, malformed_json, location_required, invalid_location",
)


class HostController(Controller):
    path = "/v1"
    tags = ["hosts"]

    @put(
        "/me/host-profile",
        summary="Become a host, or replace my host profile",
        description="201 when created, 200 when replaced.",
        status_code=201,
        responses={
            200: ResponseSpec(OwnHostProfile, description="Replaced", generate_examples=False),
            **AUTH_PROBLEMS,
            **_BAD_LOCATION,
        },
    )
    async def put_host(
        self, data: JSONBody[HostProfileIn], current_user: Caller, conn: DbConnection
    ) -> Response[OwnHostProfile]:
        profile, created = await service.put_host(conn, current_user.id, data)
        return Response(profile, status_code=201 if created else 200)

    @patch(
        "/me/host-profile",
        summary="Update my host profile",
        responses={**AUTH_PROBLEMS, **_BAD_LOCATION, **problems(s409="host_profile_required")},
    )
    async def patch_host(
        self, data: JSONBody[HostProfilePatch], current_user: Caller, conn: DbConnection
    ) -> OwnHostProfile:
        return await service.patch_host(conn, current_user.id, data)

    @get(
        "/hosts/{host_id:uuid}",
        summary="A public host page: profile, ratings, event history, links, photos",
        responses={**AUTH_PROBLEMS, **problems(s404="not_found (no such host, or a block)")},
    )
    async def host_page(
        self,
        host_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> HostPage:
        return await service.host_page(conn, storage, current_user.id, host_id)
