"""POST /v1/events/{id}/rating, POST /v1/events/{id}/kudos, GET /v1/me/kudos."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.deps import AppSettings, Caller, DbConnection
from server.errors import AUTH_PROBLEMS, problems
from server.feedback import service
from server.feedback.schemas import KudoGiven, KudoIn, MyKudos, Rating, RatingIn

_AFTER = problems(
    s403="not_attended, account_suspended",
    s404="not_found (no such event, or not yours to know)",
)


class FeedbackController(Controller):
    path = "/v1"
    tags = ["after the event"]

    @post(
        "/events/{event_id:uuid}/rating",
        status_code=HTTP_201_CREATED,
        summary="Rate the event and its host, once",
        description=(
            "For people who attended, from their check-in until RATING_WINDOW_DAYS after the "
            "event's end. Values 1..5; `comment` optional, at most 2000 characters."
        ),
        responses={
            **AUTH_PROBLEMS,
            **_AFTER,
            **problems(
                s409="already_rated, rating_closed", s422="invalid_comment, validation_error"
            ),
        },
    )
    async def rate(
        self,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[RatingIn],
        current_user: Caller,
        conn: DbConnection,
        settings: AppSettings,
    ) -> Rating:
        return await service.rate(conn, settings, current_user.id, event_id, data)

    @post(
        "/events/{event_id:uuid}/kudos",
        status_code=HTTP_201_CREATED,
        summary="Give kudos to another attendee",
        description=(
            "Between people who attended, from a fixed list, never to oneself; each kudo once "
            "per giver, receiver and event (a repeat answers the first with 200). The receiver "
            "is told, never by whom."
        ),
        responses={
            **AUTH_PROBLEMS,
            **_AFTER,
            HTTP_200_OK: ResponseSpec(
                KudoGiven, description="Given before: the first kudo", generate_examples=False
            ),
            **problems(
                s404="not_found (no such event or attendee, or a block)",
                s409="rating_closed",
                s422="cannot_kudo_self, validation_error",
            ),
        },
    )
    async def give_kudo(
        self,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[KudoIn],
        current_user: Caller,
        conn: DbConnection,
        settings: AppSettings,
    ) -> Response[KudoGiven]:
        given, is_new = await service.give_kudo(conn, settings, current_user.id, event_id, data)
        return Response(given, status_code=HTTP_201_CREATED if is_new else HTTP_200_OK)

    @get(
        "/me/kudos",
        summary="Kudos I received, counted by kudo",
        description="Counts only, most first: who gave a kudo is never shown.",
        responses={**AUTH_PROBLEMS, **problems(s409="social_profile_required")},
    )
    async def my_kudos(self, current_user: Caller, conn: DbConnection) -> MyKudos:
        return await service.my_kudos(conn, current_user.id)
