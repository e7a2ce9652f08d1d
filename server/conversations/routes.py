"""Direct conversations: /v1/conversations, their messages and read markers."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from realtime import frames
from realtime.channels import Channel
from server.conversations import service
from server.conversations.schemas import Conversation, ConversationIn, Message, MessageIn, ReadIn
from server.deps import (
    Caller,
    DbConnection,
    FileStorage,
    MessageWriter,
    PageRequest,
    RealtimeFanout,
)
from server.errors import AUTH_PROBLEMS, problems
from server.messaging import service as messaging
from server.pagination import Page

_NOT_FOUND = problems(s404="not_found (not a conversation of mine, or a block between us)")


class ConversationController(Controller):
    path = "/v1/conversations"
    tags = ["conversations"]

    @get(
        "/",
        summary="My conversations, most recent activity first",
        description=(
            "Conversations with someone I may not see (a block either way, a suspended "
            "account) are left out."
        ),
        responses={
            **AUTH_PROBLEMS,
            **problems(s409="social_profile_required", s422="validation_error, invalid_cursor"),
        },
    )
    async def list_conversations(
        self, current_user: Caller, conn: DbConnection, storage: FileStorage, page: PageRequest
    ) -> Page[Conversation]:
        return await service.list_conversations(conn, storage, current_user.id, page)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Start (or find) my conversation with someone I attended an event with",
        description="201 when new, 200 when the two of us already have one.",
        responses={
            200: ResponseSpec(
                Conversation, description="The existing conversation", generate_examples=False
            ),
            **AUTH_PROBLEMS,
            **problems(
                s403="not_attended_together, account_suspended",
                s404="not_found (no such profile, or a block between us)",
                s409="social_profile_required",
                s422="validation_error, malformed_json, cannot_message_self",
            ),
        },
    )
    async def start_conversation(
        self,
        data: JSONBody[ConversationIn],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> Response[Conversation]:
        conversation, created = await service.start_conversation(
            conn, storage, current_user.id, data.profile_id
        )
        return Response(conversation, status_code=201 if created else 200)

    @get(
        "/{conversation_id:uuid}/messages",
        summary="A conversation's messages, newest first",
        responses={
            **AUTH_PROBLEMS,
            **_NOT_FOUND,
            **problems(s422="validation_error, invalid_cursor"),
        },
    )
    async def list_messages(
        self,
        conversation_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        page: PageRequest,
    ) -> Page[Message]:
        return await service.list_messages(conn, current_user.id, conversation_id, page)

    @post(
        "/{conversation_id:uuid}/messages",
        status_code=HTTP_201_CREATED,
        summary="Send a message",
        description=(
            "Each message takes the conversation's next `seq`. A retry with the same "
            "client_id returns the first message (201) and creates nothing new."
        ),
        responses={
            **AUTH_PROBLEMS,
            **_NOT_FOUND,
            **problems(
                s409="client_id_conflict",
                s422="validation_error, malformed_json, invalid_content",
            ),
        },
    )
    async def create_message(
        self,
        conversation_id: FromPath[uuid.UUID],
        data: JSONBody[MessageIn],
        current_user: Caller,
        conn: DbConnection,
        writer: MessageWriter,
    ) -> Message:
        channel = Channel("conversation", conversation_id)
        message, _ = await messaging.send(
            conn, writer, current_user.id, channel, data.content, data.client_id
        )
        assert isinstance(message, Message)  # a conversation channel holds messages
        return message

    @post(
        "/{conversation_id:uuid}/read",
        status_code=HTTP_204_NO_CONTENT,
        summary="Mark messages up to `seq` as read",
        description=(
            "The marker never moves backwards; a seq beyond the last message marks them all. "
            "The other participant sees it as `other_last_read_seq`, and live as a `read` "
            "event on the conversation's WebSocket channel."
        ),
        responses={
            **AUTH_PROBLEMS,
            **_NOT_FOUND,
            **problems(s422="validation_error, malformed_json"),
        },
    )
    async def mark_read(
        self,
        conversation_id: FromPath[uuid.UUID],
        data: JSONBody[ReadIn],
        current_user: Caller,
        conn: DbConnection,
        fanout: RealtimeFanout,
    ) -> None:
        profile_id, stored = await service.read_up_to(
            conn, current_user.id, conversation_id, data.seq
        )
        channel = Channel("conversation", conversation_id).name
        await fanout.ephemeral(
            channel, frames.ReadEvent(channel=channel, profile_id=profile_id, seq=stored)
        )
