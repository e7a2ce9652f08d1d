"""Support tickets: POST /v1/support-tickets, GET /v1/me/support-tickets."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from server.deps import AuthRules, Caller, DbConnection, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.pagination import Page
from server.support import service
from server.support.schemas import Ticket, TicketIn


class SupportController(Controller):
    path = "/v1"
    tags = ["support"]

    @post(
        "/support-tickets",
        summary="Write to the Momento team",
        description=(
            "ticket_number counts from 1001. A retry with the same client_id returns the "
            f"first ticket (201) and creates nothing new. At most {service.TICKETS_PER_DAY} "
            "tickets a day."
        ),
        status_code=HTTP_201_CREATED,
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s404="unknown_event, unknown_payment",
                s422="validation_error, malformed_json",
                s429="rate_limited",
            ),
        },
    )
    async def create_ticket(
        self, data: JSONBody[TicketIn], current_user: Caller, conn: DbConnection, auth: AuthRules
    ) -> Ticket:
        return await service.create_ticket(conn, auth, current_user.id, data)

    @get(
        "/me/support-tickets",
        summary="My support tickets, newest first",
        responses={**AUTH_PROBLEMS, **problems(s422="validation_error, invalid_cursor")},
    )
    async def list_tickets(
        self, current_user: Caller, conn: DbConnection, page: PageRequest
    ) -> Page[Ticket]:
        return await service.list_tickets(conn, current_user.id, page)
