"""POST /v1/events/{id}/check-in and POST /v1/events/{id}/attendance-reports."""

from __future__ import annotations

import uuid

from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from server.attendance import service
from server.attendance.schemas import Attendance, AttendanceReportIn, CheckInIn
from server.deps import AppSettings, Caller, DbConnection
from server.errors import AUTH_PROBLEMS, problems


class AttendanceController(Controller):
    path = "/v1/events/{event_id:uuid}"
    tags = ["attendance"]

    @post(
        "/check-in",
        status_code=HTTP_200_OK,
        summary="Check in at the current stop",
        description=(
            "A confirmed invitee within CHECK_IN_RADIUS_METERS of the current stop becomes "
            "`attended`. Each stop's window opens CHECK_IN_OPENS_MINUTES before its start and "
            "closes at its end. A repeat answers the first check-in and changes nothing."
        ),
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s403="not_confirmed (invited but not confirmed; the host), account_suspended",
                s404="not_found (no such event, or not yours to know)",
                s409="outside_window",
                s422="too_far (the detail says how far), validation_error",
            ),
        },
    )
    async def check_in(
        self,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[CheckInIn],
        current_user: Caller,
        conn: DbConnection,
        settings: AppSettings,
    ) -> Attendance:
        return await service.check_in(conn, settings, current_user.id, event_id, data)

    @post(
        "/attendance-reports",
        status_code=HTTP_200_OK,
        summary="Report whether another confirmed invitee came",
        description=(
            "By the host, a collaborator, or someone who attended, about another confirmed "
            "invitee, from the event's start until ATTENDANCE_REPORT_DAYS after its end. The "
            "host's word replaces a check-in or an attendee's report; an attendee's never "
            "replaces a check-in or the host's; nothing replaces a late cancellation. Answers "
            "the person's attendance as it now stands."
        ),
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s403="not_attended (an invitee who did not attend), account_suspended",
                s404="not_found (no such event or confirmed invitee, or a block)",
                s409="event_not_started, report_window_closed, attendance_decided",
                s422="cannot_report_self, validation_error",
            ),
        },
    )
    async def report(
        self,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[AttendanceReportIn],
        current_user: Caller,
        conn: DbConnection,
        settings: AppSettings,
    ) -> Attendance:
        return await service.report(conn, settings, current_user.id, event_id, data)
