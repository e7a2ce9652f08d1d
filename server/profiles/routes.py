"""Social profiles: my own (create/replace/update), anyone's public view, discover, likes."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, patch, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from server.deps import Caller, DbConnection, FileStorage, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.pagination import Page
from server.profiles import service
from server.profiles.schemas import (
    OwnSocialProfile,
    PublicProfile,
    SocialProfileIn,
    SocialProfilePatch,
)

_NOT_FOUND = {**AUTH_PROBLEMS, **problems(s404="not_found (no such profile, or a block)")}
_NEEDS_PROFILE = problems(s409="social_profile_required")


class SocialProfileController(Controller):
    path = "/v1"
    tags = ["profiles"]

    @put(
        "/me/social-profile",
        summary="Create or replace my social profile",
        description="201 when created, 200 when replaced.",
        status_code=201,
        responses={
            200: ResponseSpec(OwnSocialProfile, description="Replaced", generate_examples=False),
            **AUTH_PROBLEMS,
            **problems(s404="invalid_photo", s422="validation_error, malformed_json"),
        },
    )
    async def put_profile(
        self, data: JSONBody[SocialProfileIn], current_user: Caller, conn: DbConnection
    ) -> Response[OwnSocialProfile]:
        profile, created = await service.put_profile(conn, current_user.id, data)
        return Response(profile, status_code=201 if created else 200)

    @patch(
        "/me/social-profile",
        summary="Update my social profile",
        responses={
            **AUTH_PROBLEMS,
            **_NEEDS_PROFILE,
            **problems(s404="invalid_photo", s422="validation_error, malformed_json"),
        },
    )
    async def patch_profile(
        self, data: JSONBody[SocialProfilePatch], current_user: Caller, conn: DbConnection
    ) -> OwnSocialProfile:
        return await service.patch_profile(conn, current_user.id, data)

    @get("/profiles/{profile_id:uuid}", summary="A public profile", responses=_NOT_FOUND)
    async def get_profile(
        self,
        profile_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> PublicProfile:
        return await service.get_public_profile(conn, storage, current_user.id, profile_id)

    @get(
        "/discover",
        summary="Discover Your Type: profiles whose gender is in my interested_in",
        responses={**AUTH_PROBLEMS, **_NEEDS_PROFILE},
    )
    async def discover(
        self, current_user: Caller, conn: DbConnection, storage: FileStorage, page: PageRequest
    ) -> Page[PublicProfile]:
        return await service.discover(conn, storage, current_user.id, page)

    @put(
        "/profiles/{profile_id:uuid}/like",
        status_code=HTTP_204_NO_CONTENT,
        summary="Like a profile",
        responses={
            **_NOT_FOUND,
            **problems(s409="social_profile_required, too_many_likes", s422="cannot_like_self"),
        },
    )
    async def like(
        self, profile_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> None:
        await service.like(conn, current_user.id, profile_id)

    @delete(
        "/profiles/{profile_id:uuid}/like",
        status_code=HTTP_204_NO_CONTENT,
        summary="Take a like back",
        responses={**_NOT_FOUND, **_NEEDS_PROFILE},
    )
    async def unlike(
        self, profile_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> None:
        await service.unlike(conn, current_user.id, profile_id)
