"""Blocks and reports: POST/DELETE/GET /v1/blocks, POST /v1/reports."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.deps import AuthRules, Caller, DbConnection, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.pagination import Page
from server.safety import service
from server.safety.schemas import Block, BlockedProfile, BlockIn, Report, ReportIn

_NO_PROFILE = problems(s404="not_found (no such profile)")


class SafetyController(Controller):
    path = "/v1"
    tags = ["safety"]

    @post(
        "/blocks",
        summary="Block someone: a hard stop between the two of us",
        description="201 when the block is new, 200 when it already existed.",
        status_code=HTTP_201_CREATED,
        responses={
            200: ResponseSpec(Block, description="Already blocked", generate_examples=False),
            **AUTH_PROBLEMS,
            **_NO_PROFILE,
            **problems(s422="validation_error, malformed_json, cannot_block_self"),
        },
    )
    async def block(
        self, data: JSONBody[BlockIn], current_user: Caller, conn: DbConnection
    ) -> Response[Block]:
        block, created = await service.block(conn, current_user.id, data.profile_id)
        return Response(block, status_code=201 if created else 200)

    @delete(
        "/blocks/{profile_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Unblock someone",
        description="204 also when there was no block.",
        responses={**AUTH_PROBLEMS, **_NO_PROFILE},
    )
    async def unblock(
        self, profile_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> None:
        await service.unblock(conn, current_user.id, profile_id)

    @get(
        "/blocks",
        summary="People I blocked, newest first",
        responses={**AUTH_PROBLEMS, **problems(s422="validation_error, invalid_cursor")},
    )
    async def list_blocks(
        self, current_user: Caller, conn: DbConnection, page: PageRequest
    ) -> Page[BlockedProfile]:
        return await service.list_blocks(conn, current_user.id, page)

    @post(
        "/reports",
        summary="Report someone to the Momento team",
        description=(
            "A retry with the same client_id returns the first report (201) and creates "
            f"nothing new. At most {service.REPORTS_PER_DAY} reports a day."
        ),
        status_code=HTTP_201_CREATED,
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s404="not_found (no such profile), unknown_event",
                s422="validation_error, malformed_json, cannot_report_self",
                s429="rate_limited",
            ),
        },
    )
    async def report(
        self, data: JSONBody[ReportIn], current_user: Caller, conn: DbConnection, auth: AuthRules
    ) -> Report:
        return await service.report(conn, auth, current_user.id, data)
