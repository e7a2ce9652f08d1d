"""/v1/me/social-links, POST /v1/social-shares, GET /v1/me/shared-with-me."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.deps import AppSettings, Caller, DbConnection, FileStorage, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.pagination import Page
from server.social import service
from server.social.schemas import (
    Share,
    SharedWithMe,
    ShareIn,
    SocialLink,
    SocialLinkIn,
    SocialLinkPatch,
)

_LINK_NOT_FOUND = problems(s404="not_found (not one of my links)")


class SocialController(Controller):
    path = "/v1"
    tags = ["social links"]

    @get("/me/social-links", summary="My social links", responses=AUTH_PROBLEMS)
    async def my_links(self, current_user: Caller, conn: DbConnection) -> list[SocialLink]:
        return await service.my_links(conn, current_user.id)

    @post(
        "/me/social-links",
        status_code=HTTP_201_CREATED,
        summary="Add a social link",
        description=(
            "`url` must be https; at most SOCIAL_LINKS_PER_PERSON links. "
            "`is_public_on_host_profile: true` (shown on my host page) needs a host profile."
        ),
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s409="too_many_links, host_profile_required",
                s422="invalid_url, validation_error",
            ),
        },
    )
    async def add_link(
        self,
        data: JSONBody[SocialLinkIn],
        current_user: Caller,
        conn: DbConnection,
        settings: AppSettings,
    ) -> SocialLink:
        return await service.add_link(conn, settings, current_user.id, data)

    @patch(
        "/me/social-links/{link_id:uuid}",
        summary="Change one of my social links",
        responses={
            **AUTH_PROBLEMS,
            **_LINK_NOT_FOUND,
            **problems(s409="host_profile_required", s422="invalid_url, validation_error"),
        },
    )
    async def update_link(
        self,
        link_id: FromPath[uuid.UUID],
        data: JSONBody[SocialLinkPatch],
        current_user: Caller,
        conn: DbConnection,
    ) -> SocialLink:
        return await service.update_link(conn, current_user.id, link_id, data)

    @delete(
        "/me/social-links/{link_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete one of my social links, and every share of it",
        responses={**AUTH_PROBLEMS, **_LINK_NOT_FOUND},
    )
    async def delete_link(
        self, link_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> None:
        await service.delete_link(conn, current_user.id, link_id)

    @post(
        "/social-shares",
        status_code=HTTP_201_CREATED,
        summary="Share one of my links with someone I met, silently",
        description=(
            "Only my own link, only with someone in my Memory Book, never across a block; "
            "no notification. Each link once per person: a repeat answers the first (200)."
        ),
        responses={
            **AUTH_PROBLEMS,
            HTTP_200_OK: ResponseSpec(
                Share, description="Shared before: the first share", generate_examples=False
            ),
            **problems(
                s404="not_found (not my link, or not someone in my Memory Book)",
                s409="social_profile_required",
            ),
        },
    )
    async def share(
        self, data: JSONBody[ShareIn], current_user: Caller, conn: DbConnection
    ) -> Response[Share]:
        shared, is_new = await service.share(conn, current_user.id, data)
        return Response(shared, status_code=HTTP_201_CREATED if is_new else HTTP_200_OK)

    @get(
        "/me/shared-with-me",
        summary="Links people I met shared with me, newest first",
        description="Each with the sharer's public profile; none across a block either way.",
        responses={**AUTH_PROBLEMS, **problems(s422="validation_error, invalid_cursor")},
    )
    async def shared_with_me(
        self,
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        page: PageRequest,
    ) -> Page[SharedWithMe]:
        return await service.shared_with_me(conn, storage, current_user.id, page)
