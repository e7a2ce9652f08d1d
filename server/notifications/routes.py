"""Push tokens, notification settings and the inbox: /v1/me/push-tokens,
/v1/me/notification-settings, /v1/me/notifications."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from server.deps import Caller, DbConnection, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.notifications import inbox, service
from server.notifications.schemas import (
    MarkRead,
    NotificationPage,
    NotificationSettings,
    NotificationSettingsPatch,
    PushToken,
    PushTokenIn,
)


class NotificationsController(Controller):
    path = "/v1/me"
    tags = ["notifications"]

    @put(
        "/push-tokens",
        summary="Register this device's Expo push token",
        description=(
            "Upsert by token: 201 when the token is new to me (including one moving from "
            "another account, e.g. a phone that changed hands), 200 when I had it already. "
            "Registering re-activates it; the other tokens of the same device_id are removed."
        ),
        status_code=201,
        responses={
            200: ResponseSpec(PushToken, description="Already mine", generate_examples=False),
            **AUTH_PROBLEMS,
            **problems(s422="validation_error, malformed_json, invalid_push_token"),
        },
    )
    async def put_push_token(
        self, data: JSONBody[PushTokenIn], current_user: Caller, conn: DbConnection
    ) -> Response[PushToken]:
        token, created = await service.register_push_token(conn, current_user.id, data)
        return Response(token, status_code=201 if created else 200)

    @delete(
        "/push-tokens/{token:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Forget a push token of mine (sign-out on that device)",
        responses={**AUTH_PROBLEMS, **problems(s404="not_found (not a token of mine)")},
    )
    async def delete_push_token(
        self, token: FromPath[str], current_user: Caller, conn: DbConnection
    ) -> None:
        await service.delete_push_token(conn, current_user.id, token)

    @get(
        "/notification-settings",
        summary="My push/SMS switches for every notification category",
        responses=AUTH_PROBLEMS,
    )
    async def get_settings(self, current_user: Caller, conn: DbConnection) -> NotificationSettings:
        return await service.get_settings(conn, current_user.id)

    @patch(
        "/notification-settings",
        summary="Change some push/SMS switches",
        description="Only the categories and switches sent change; returns every category.",
        responses={**AUTH_PROBLEMS, **problems(s422="validation_error, malformed_json")},
    )
    async def patch_settings(
        self,
        data: JSONBody[NotificationSettingsPatch],
        current_user: Caller,
        conn: DbConnection,
    ) -> NotificationSettings:
        return await service.update_settings(conn, current_user.id, data)

    @get(
        "/notifications",
        summary="My inbox: what was pushed to me, latest first",
        description=(
            "Collapsed entries (new posts on one event, messages of one conversation) stand "
            "for `count` notifications. `unread_count` counts every unread entry."
        ),
        responses={**AUTH_PROBLEMS, **problems(s422="invalid_cursor")},
    )
    async def list_notifications(
        self, current_user: Caller, conn: DbConnection, page: PageRequest
    ) -> NotificationPage:
        return await inbox.list_notifications(conn, current_user.id, page)

    @post(
        "/notifications/read",
        status_code=HTTP_204_NO_CONTENT,
        summary="Mark notifications read",
        description='`{"ids": [...]}` (1 to 100; ids not mine are ignored) marks those; no '
        'body, `{}` or `{"all": true}` marks every one.',
        responses={**AUTH_PROBLEMS, **problems(s422="validation_error, malformed_json")},
    )
    async def mark_read(
        self, current_user: Caller, conn: DbConnection, data: JSONBody[MarkRead | None] = None
    ) -> None:
        await inbox.mark_read(conn, current_user.id, data.chosen() if data else None)
