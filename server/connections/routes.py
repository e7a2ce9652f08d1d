"""GET /v1/me/connections and PATCH /v1/connections/{id}: the Memory Book."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch
from litestar.params import FromPath, JSONBody, Parameter

from server.connections import service
from server.connections.schemas import Connection, ConnectionPatch
from server.deps import Caller, DbConnection, FileStorage, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.pagination import Page


class ConnectionsController(Controller):
    path = "/v1"
    tags = ["memory book"]

    @get(
        "/me/connections",
        summary="My Memory Book, newest first",
        description=(
            "Everyone I attended an event with, as they were when we first met. "
            "`favorite=true` lists favourites only. People with a block either way are left out."
        ),
        responses={**AUTH_PROBLEMS, **problems(s422="validation_error, invalid_cursor")},
    )
    async def my_connections(
        self,
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        page: PageRequest,
        favorite: Annotated[bool | None, Parameter(description="true: favourites only")] = None,
    ) -> Page[Connection]:
        return await service.my_connections(conn, storage, current_user.id, favorite, page)

    @patch(
        "/connections/{connection_id:uuid}",
        summary="Annotate an entry of my Memory Book",
        description=(
            "Its owner only. `wants_to_connect_again` and `does_not_want_to_connect_again` "
            "can't both end up true; `private_notes` at most 2000 characters (null clears)."
        ),
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s404="not_found (not in my Memory Book)",
                s422="conflicting_wishes, invalid_notes, validation_error",
            ),
        },
    )
    async def update_connection(
        self,
        connection_id: FromPath[uuid.UUID],
        data: JSONBody[ConnectionPatch],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> Connection:
        return await service.update_connection(conn, storage, current_user.id, connection_id, data)
