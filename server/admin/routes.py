"""/v1/admin/*: staff moderation of reports, support tickets and accounts, and the audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter

from server.admin import service
from server.admin.guards import provide_staff_role, roles, staff_guard
from server.admin.schemas import (
    AdminAction,
    AdminReport,
    AdminTicket,
    AdminUser,
    ReportPatch,
    StaffRole,
    TicketPatch,
    UserPatch,
)
from server.deps import Caller, DbConnection, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.pagination import Page
from server.safety.schemas import ReportStatus
from server.support.schemas import TicketStatus

# Every admin route: the auth problems, and 403 for non-staff or the wrong role.
STAFF_PROBLEMS = {
    **AUTH_PROBLEMS,
    **problems(s403="account_suspended, staff_only, insufficient_role"),
}
LIST_PROBLEMS = {**STAFF_PROBLEMS, **problems(s422="validation_error, invalid_cursor")}
GET_PROBLEMS = {**STAFF_PROBLEMS, **problems(s404="not_found")}
PATCH_PROBLEMS = {
    **STAFF_PROBLEMS,
    **problems(s404="not_found", s422="validation_error, malformed_json"),
}

# The caller's staff role, read by the guard.
CallerRole = NamedDependency[StaffRole]

MODERATION = roles("moderator")
SUPPORT = roles("support")
READ_USERS = roles("moderator", "support")
ADMIN_ONLY = roles()


class AdminController(Controller):
    path = "/v1/admin"
    tags = ["admin"]
    guards = [staff_guard]
    dependencies = {"staff_role": Provide(provide_staff_role, sync_to_thread=False)}

    # ── Reports: admin, moderator ──

    @get("/reports", summary="Reports, newest first", opt=MODERATION, responses=LIST_PROBLEMS)
    async def list_reports(
        self,
        conn: DbConnection,
        page: PageRequest,
        status: Annotated[ReportStatus | None, Parameter(description="Only this status")] = None,
    ) -> Page[AdminReport]:
        return await service.list_reports(conn, status, page)

    @get("/reports/{report_id:uuid}", summary="One report", opt=MODERATION, responses=GET_PROBLEMS)
    async def get_report(self, report_id: FromPath[uuid.UUID], conn: DbConnection) -> AdminReport:
        return await service.get_report(conn, report_id)

    @patch(
        "/reports/{report_id:uuid}",
        summary="Set a report's status (resolve, dismiss, reopen), with an optional note",
        opt=MODERATION,
        responses=PATCH_PROBLEMS,
    )
    async def update_report(
        self,
        report_id: FromPath[uuid.UUID],
        data: JSONBody[ReportPatch],
        current_user: Caller,
        conn: DbConnection,
    ) -> AdminReport:
        return await service.update_report(conn, current_user.id, report_id, data)

    # ── Support tickets: admin, support ──

    @get(
        "/support-tickets",
        summary="Support tickets, newest first",
        opt=SUPPORT,
        responses=LIST_PROBLEMS,
    )
    async def list_tickets(
        self,
        conn: DbConnection,
        page: PageRequest,
        status: Annotated[TicketStatus | None, Parameter(description="Only this status")] = None,
    ) -> Page[AdminTicket]:
        return await service.list_tickets(conn, status, page)

    @get(
        "/support-tickets/{ticket_id:uuid}",
        summary="One support ticket, with its metadata",
        opt=SUPPORT,
        responses=GET_PROBLEMS,
    )
    async def get_ticket(self, ticket_id: FromPath[uuid.UUID], conn: DbConnection) -> AdminTicket:
        return await service.get_ticket(conn, ticket_id)

    @patch(
        "/support-tickets/{ticket_id:uuid}",
        summary="Set a support ticket's status",
        opt=SUPPORT,
        responses=PATCH_PROBLEMS,
    )
    async def update_ticket(
        self,
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[TicketPatch],
        current_user: Caller,
        conn: DbConnection,
    ) -> AdminTicket:
        return await service.update_ticket(conn, current_user.id, ticket_id, data)

    # ── Users: read by every role, changed by admin and moderator ──

    @get(
        "/users/{user_id:uuid}",
        summary="A user's account and staff role",
        opt=READ_USERS,
        responses=GET_PROBLEMS,
    )
    async def get_user(
        self, user_id: FromPath[uuid.UUID], staff_role: CallerRole, conn: DbConnection
    ) -> AdminUser:
        return await service.get_user(conn, user_id, staff_role)

    @patch(
        "/users/{user_id:uuid}",
        summary="Set a user's status and/or verification; suspending signs them out",
        opt=MODERATION,
        responses={
            **PATCH_PROBLEMS,
            **problems(s409="cannot_change_self"),
        },
    )
    async def update_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserPatch],
        current_user: Caller,
        staff_role: CallerRole,
        conn: DbConnection,
    ) -> AdminUser:
        return await service.update_user(conn, current_user.id, staff_role, user_id, data)

    # ── Audit trail: admin only ──

    @get(
        "/actions",
        summary="The audit trail of staff actions, newest first",
        opt=ADMIN_ONLY,
        responses=LIST_PROBLEMS,
    )
    async def list_actions(
        self,
        conn: DbConnection,
        page: PageRequest,
        target_type: Annotated[
            str | None,
            Parameter(min_length=1, max_length=50, description="e.g. report, support_ticket, user"),
        ] = None,
        target_id: Annotated[
            str | None, Parameter(min_length=1, max_length=100, description="The target's id")
        ] = None,
    ) -> Page[AdminAction]:
        return await service.list_actions(conn, target_type, target_id, page)
