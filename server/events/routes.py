"""Events, host side: drafts, itinerary, collaborators, publish/cancel, dashboards."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.params import Body, FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from db.queries.events import EventStatus
from db.queries.invitations import InvitationStatus
from server.deps import Caller, DbConnection, FileStorage, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.events import service
from server.events.schemas import (
    MAX_STOPS,
    Collaborator,
    CollaboratorIn,
    Event,
    EventCreate,
    EventPatch,
    HostedEvent,
    InvitationList,
    StopIn,
)
from server.pagination import Page
from server.profiles.schemas import PublicProfile

_NOT_FOUND = problems(s404="not_found (no such event, not yours to see, or a block)")
# Stops and collaborators name places and people the host may not know of.
_NOT_FOUND_WITH_PARTS = problems(
    s404="not_found (no such event, location or person for the caller, or a block)"
)
_HOST_ONLY = {
    **AUTH_PROBLEMS,
    **_NOT_FOUND,
    **problems(s403="forbidden (not the host), account_suspended"),
}
_HOST_ONLY_WITH_PARTS = {**_HOST_ONLY, **_NOT_FOUND_WITH_PARTS}
_LOCKED = problems(s409="event_locked")


class EventController(Controller):
    path = "/v1"
    tags = ["events"]

    @post(
        "/events",
        status_code=HTTP_201_CREATED,
        summary="Create a draft event, optionally with its stops and collaborators",
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s404="not_found (no such location or person for the caller, or a block)",
                s409="host_profile_required, already_collaborator",
                s422="validation_error, malformed_json, invalid_timezone, invalid_attendees, "
                "invalid_ages, invalid_stops, collaborator_name_required, invalid_user "
                "(yourself), invalid_phone",
            ),
        },
    )
    async def create_event(
        self, data: JSONBody[EventCreate], current_user: Caller, conn: DbConnection
    ) -> Event:
        return await service.create_event(conn, current_user.id, data)

    @get(
        "/events/{event_id:uuid}",
        summary="An event, as its host, a collaborator, an attendee or an invitee sees it",
        description=(
            "Stop locations and `arrival_signpost` are null for invitees who have not "
            "confirmed; collaborators' `user_id` and `phone_number` are the host's only."
        ),
        responses={**AUTH_PROBLEMS, **_NOT_FOUND},
    )
    async def get_event(
        self, event_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> Event:
        return await service.get_event(conn, current_user.id, event_id)

    @patch(
        "/events/{event_id:uuid}",
        summary="Change an event (drafts: anything; published: what invitees did not accept)",
        responses={
            **_HOST_ONLY,
            **_LOCKED,
            **problems(s422="validation_error, invalid_timezone, invalid_attendees, invalid_ages"),
        },
    )
    async def patch_event(
        self,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[EventPatch],
        current_user: Caller,
        conn: DbConnection,
    ) -> Event:
        return await service.patch_event(conn, current_user.id, event_id, data)

    @put(
        "/events/{event_id:uuid}/stops",
        summary="Replace a draft's itinerary: a JSON array of stops in order",
        responses={
            **_HOST_ONLY_WITH_PARTS,
            **_LOCKED,
            **problems(s422="validation_error, malformed_json, invalid_stops"),
        },
    )
    async def put_stops(
        self,
        event_id: FromPath[uuid.UUID],
        data: Annotated[
            list[StopIn],
            Body(min_items=1, max_items=MAX_STOPS, description="The stops, in order"),
        ],
        current_user: Caller,
        conn: DbConnection,
    ) -> Event:
        return await service.put_stops(conn, current_user.id, event_id, data)

    @post(
        "/events/{event_id:uuid}/collaborators",
        status_code=HTTP_201_CREATED,
        summary="Add a collaborator: a Momento user or a named outsider",
        responses={
            **_HOST_ONLY_WITH_PARTS,
            **problems(
                s409="event_locked, already_collaborator, too_many_collaborators",
                s422="validation_error, malformed_json, collaborator_name_required, "
                "invalid_user (yourself), invalid_phone",
            ),
        },
    )
    async def add_collaborator(
        self,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[CollaboratorIn],
        current_user: Caller,
        conn: DbConnection,
    ) -> Collaborator:
        return await service.add_collaborator(conn, current_user.id, event_id, data)

    @delete(
        "/events/{event_id:uuid}/collaborators/{collaborator_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a collaborator",
        responses={**_HOST_ONLY, **_LOCKED},
    )
    async def remove_collaborator(
        self,
        event_id: FromPath[uuid.UUID],
        collaborator_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
    ) -> None:
        await service.remove_collaborator(conn, current_user.id, event_id, collaborator_id)

    @post(
        "/events/{event_id:uuid}/publish",
        status_code=HTTP_200_OK,
        summary="Publish a draft: matching starts",
        description=(
            "422 `not_publishable` lists every failing check in `errors` (`key`: "
            "stops_required, start_in_future, attendees_required, ages_required)."
        ),
        responses={
            **_HOST_ONLY,
            **problems(s409="invalid_transition", s422="not_publishable"),
        },
    )
    async def publish(
        self, event_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> Event:
        return await service.publish(conn, current_user.id, event_id)

    @post(
        "/events/{event_id:uuid}/cancel",
        status_code=HTTP_200_OK,
        summary="Cancel a published event: every open invitation is cancelled",
        responses={**_HOST_ONLY, **problems(s409="invalid_transition")},
    )
    async def cancel(
        self, event_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> Event:
        return await service.cancel(conn, current_user.id, event_id)

    @get(
        "/me/hosted-events",
        summary="My events as a host, newest first, with invitations counted by status",
        responses={**AUTH_PROBLEMS, **problems(s409="host_profile_required")},
    )
    async def hosted_events(
        self,
        current_user: Caller,
        conn: DbConnection,
        page: PageRequest,
        status: Annotated[EventStatus | None, Parameter(description="Only this status")] = None,
    ) -> Page[HostedEvent]:
        return await service.hosted_events(conn, current_user.id, status, page)

    @get(
        "/events/{event_id:uuid}/invitations",
        summary="The host's view of an event's invitations, newest first, and counts by status",
        responses=_HOST_ONLY,
    )
    async def invitations(
        self,
        event_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        page: PageRequest,
        status: Annotated[
            InvitationStatus | None, Parameter(description="Only this status")
        ] = None,
    ) -> InvitationList:
        return await service.list_invitations(
            conn, storage, current_user.id, event_id, status, page
        )

    @get(
        "/events/{event_id:uuid}/attendees",
        summary="Public profiles of the confirmed attendees",
        description="For the host, collaborators and confirmed attendees.",
        responses={
            **AUTH_PROBLEMS,
            **_NOT_FOUND,
            **problems(s403="forbidden (an invitee who has not confirmed), account_suspended"),
        },
    )
    async def attendees(
        self,
        event_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        page: PageRequest,
    ) -> Page[PublicProfile]:
        return await service.list_attendees(conn, storage, current_user.id, event_id, page)
