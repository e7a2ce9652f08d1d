"""The invitee's routes: my invitations, accept/decline/cancel, my events, my payments."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, Parameter

from db.queries.invitations import InvitationStatus
from server.deps import AppSettings, Caller, DbConnection, PageRequest, PaymentGateway
from server.errors import AUTH_PROBLEMS, problems
from server.invitations import service
from server.invitations.schemas import (
    AcceptResult,
    DeclineIn,
    Invitation,
    MyEvent,
)
from server.pagination import Page
from server.payments.schemas import Payment

_NOT_FOUND = problems(s404="not_found (not yours, or its host and you are blocked)")


class InvitationController(Controller):
    path = "/v1"
    tags = ["invitations"]

    @get(
        "/me/invitations",
        summary="My invitations, newest first, each with an event summary and match_reason",
        responses=AUTH_PROBLEMS,
    )
    async def my_invitations(
        self,
        current_user: Caller,
        conn: DbConnection,
        page: PageRequest,
        status: Annotated[
            InvitationStatus | None, Parameter(description="Only this status")
        ] = None,
    ) -> Page[Invitation]:
        return await service.my_invitations(conn, current_user.id, status, page)

    @post(
        "/invitations/{invitation_id:uuid}/accept",
        status_code=200,
        summary="Accept: confirmed at once when free, else a held seat and a PaymentSheet",
        description=(
            "Fee 0: `confirmed`, `payment: null`. Fee > 0: `pending_payment` with the seat "
            "held for SEAT_HOLD_MINUTES and `payment` for the Stripe PaymentSheet; the "
            "webhook confirms. Repeating the call resumes the same hold and PaymentIntent."
        ),
        responses={
            **AUTH_PROBLEMS,
            **_NOT_FOUND,
            **problems(
                s409="event_full, event_closed, invalid_transition",
                s410="invitation_expired",
                s502="payment_provider_error",
                s503="payments_unavailable, payment_provider_unavailable",
            ),
        },
    )
    async def accept(
        self,
        invitation_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        payments: PaymentGateway,
        settings: AppSettings,
    ) -> AcceptResult:
        return await service.accept(conn, payments, settings, current_user.id, invitation_id)

    @post(
        "/invitations/{invitation_id:uuid}/decline",
        status_code=200,
        summary="Decline, optionally saying why",
        responses={
            **AUTH_PROBLEMS,
            **_NOT_FOUND,
            **problems(s409="invalid_transition", s410="invitation_expired"),
        },
    )
    async def decline(
        self,
        invitation_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        data: JSONBody[DeclineIn | None] = None,
    ) -> Invitation:
        reason = data.decline_reason if data is not None else None
        return await service.decline(conn, current_user.id, invitation_id, reason)

    @post(
        "/invitations/{invitation_id:uuid}/cancel",
        status_code=200,
        summary="Give up my place; a late cancellation counts against reliability",
        responses={
            **AUTH_PROBLEMS,
            **_NOT_FOUND,
            **problems(s409="invalid_transition, event_closed"),
        },
    )
    async def cancel(
        self,
        invitation_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        settings: AppSettings,
    ) -> Invitation:
        return await service.cancel(conn, settings, current_user.id, invitation_id)

    @get(
        "/me/events",
        summary="Events I'm confirmed for (upcoming, soonest first) or attended (past)",
        responses=AUTH_PROBLEMS,
    )
    async def my_events(
        self,
        current_user: Caller,
        conn: DbConnection,
        page: PageRequest,
        when: Annotated[
            Literal["upcoming", "past"], Parameter(description="upcoming (default) or past")
        ] = "upcoming",
    ) -> Page[MyEvent]:
        return await service.my_events(conn, current_user.id, when == "upcoming", page)

    @get("/me/payments", summary="My payments, newest first", responses=AUTH_PROBLEMS)
    async def my_payments(
        self, current_user: Caller, conn: DbConnection, page: PageRequest
    ) -> Page[Payment]:
        return await service.my_payments(conn, current_user.id, page)
