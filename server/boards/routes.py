"""Event boards: GET/POST /v1/events/{id}/posts, DELETE .../posts/{post_id}."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from realtime.channels import Channel
from server.boards import service
from server.boards.schemas import Post, PostIn
from server.deps import Caller, DbConnection, FileStorage, MessageWriter, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.messaging import service as messaging
from server.pagination import Page

_BOARD = {
    **AUTH_PROBLEMS,
    **problems(
        s403="forbidden (an invitee, or a draft), account_suspended",
        s404="not_found (no such event, not yours to see, or a block with the host)",
        s409="social_profile_required",
    ),
}


class BoardController(Controller):
    path = "/v1/events/{event_id:uuid}/posts"
    tags = ["event boards"]

    @get(
        "/",
        summary="The event's board, newest first",
        description=(
            "For the host, collaborators and confirmed attendees of a published event. "
            "Deleted posts and posts by people with a block either way with me are left out."
        ),
        responses={**_BOARD, **problems(s422="validation_error, invalid_cursor")},
    )
    async def list_posts(
        self,
        event_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        page: PageRequest,
    ) -> Page[Post]:
        return await service.list_posts(conn, storage, current_user.id, event_id, page)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Post on the event's board",
        description=(
            "Each post takes the event's next `seq`. A retry with the same client_id returns "
            "the first post (201) and creates nothing new."
        ),
        responses={
            **_BOARD,
            **problems(
                s409="social_profile_required, client_id_conflict",
                s422="validation_error, malformed_json, invalid_content",
            ),
        },
    )
    async def create_post(
        self,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[PostIn],
        current_user: Caller,
        conn: DbConnection,
        writer: MessageWriter,
    ) -> Post:
        channel = Channel("event", event_id)
        stored, _ = await messaging.send(
            conn, writer, current_user.id, channel, data.content, data.client_id
        )
        assert isinstance(stored, Post)  # an event channel holds posts
        return stored

    @delete(
        "/{post_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a post (its author or the host)",
        description="204 also when it was already deleted.",
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s403="forbidden (neither the author nor the host), account_suspended",
                s404="not_found (no such event or post, or not yours to see)",
            ),
        },
    )
    async def delete_post(
        self,
        event_id: FromPath[uuid.UUID],
        post_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
    ) -> None:
        await service.delete_post(conn, current_user.id, event_id, post_id)
