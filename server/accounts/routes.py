"""/v1/me: the caller's own account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, delete, get, patch
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from server.accounts import service
from server.accounts.schemas import Me, MePatch
from server.deps import Caller, DbConnection, FileStorage
from server.errors import AUTH_PROBLEMS, problems


class MeController(Controller):
    path = "/v1/me"
    tags = ["me"]

    @get("/", summary="My account, profiles and roles", responses=AUTH_PROBLEMS)
    async def get_me(self, current_user: Caller, conn: DbConnection) -> Me:
        return await service.get_me(conn, current_user.id)

    @patch(
        "/",
        summary="Change my account settings",
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s409="host_profile_required",
                s422="validation_error, invalid_birth_date, invalid_location, malformed_json",
            ),
        },
    )
    async def update_me(
        self, data: JSONBody[MePatch], current_user: Caller, conn: DbConnection
    ) -> Me:
        return await service.update_me(conn, current_user.id, data, datetime.now(UTC).date())

    @delete(
        "/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete my account and personal data",
        responses=AUTH_PROBLEMS,
    )
    async def delete_me(
        self, current_user: Caller, conn: DbConnection, storage: FileStorage
    ) -> None:
        await service.delete_me(conn, storage, current_user.id)

    @get("/export", summary="Everything Momento holds about me, as JSON", responses=AUTH_PROBLEMS)
    async def export_me(self, current_user: Caller, conn: DbConnection) -> dict[str, Any]:
        return await service.export_me(conn, current_user.id)
