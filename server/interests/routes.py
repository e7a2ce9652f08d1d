"""/v1/interests (catalog search) and /v1/me/interests (replace mine)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import JSONBody, Parameter

from server.deps import Caller, DbConnection, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.interests import service
from server.interests.schemas import Interest, InterestList, MyInterestsPut
from server.pagination import Page

MAX_QUERY_LENGTH = 50


class InterestsController(Controller):
    path = "/v1"
    tags = ["interests"]

    @get(
        "/interests",
        summary="Search the interest catalog",
        description=(
            "Without `q`, the whole catalog alphabetically. With `q` (trimmed, "
            "case-insensitive; blank means no filter), names starting with it first, "
            "then names containing it, each alphabetically."
        ),
        responses={**AUTH_PROBLEMS, **problems(s422="validation_error, invalid_cursor")},
    )
    async def search_interests(
        self,
        conn: DbConnection,
        page: PageRequest,
        q: Annotated[
            str | None,
            Parameter(max_length=MAX_QUERY_LENGTH, description="Text to look for in names"),
        ] = None,
    ) -> Page[Interest]:
        return await service.search_interests(conn, q, page)

    @put(
        "/me/interests",
        summary="Replace my interests",
        description="The complete new set: at most 30 ids, repeated ids count once, all or "
        "nothing. Returns my interests by name.",
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s409="social_profile_required",
                s404="unknown_interest",
                s422="validation_error, malformed_json",
            ),
        },
    )
    async def replace_my_interests(
        self, data: JSONBody[MyInterestsPut], current_user: Caller, conn: DbConnection
    ) -> InterestList:
        return await service.replace_my_interests(conn, current_user.id, data.interest_ids)
