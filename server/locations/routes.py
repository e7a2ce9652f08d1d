"""/v1/locations: create a place, read one you may see."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from server.deps import Caller, DbConnection
from server.errors import AUTH_PROBLEMS, problems
from server.locations import service
from server.locations.schemas import Location, LocationCreate


class LocationsController(Controller):
    path = "/v1/locations"
    tags = ["locations"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a location",
        responses={
            **AUTH_PROBLEMS,
            **problems(s409="too_many_locations", s422="validation_error, malformed_json"),
        },
    )
    async def create_location(
        self, data: JSONBody[LocationCreate], current_user: Caller, conn: DbConnection
    ) -> Location:
        return await service.create_location(conn, current_user.id, data)

    @get(
        "/{location_id:uuid}",
        summary="A location with its exact coordinates",
        description=(
            "Visible to its creator, to everyone for the location of a community "
            "host they may see, and to the host, collaborators and confirmed attendees "
            "of an event that stops there. Otherwise 404."
        ),
        responses={**AUTH_PROBLEMS, **problems(s404="not_found")},
    )
    async def get_location(
        self, location_id: FromPath[uuid.UUID], current_user: Caller, conn: DbConnection
    ) -> Location:
        return await service.get_location(conn, current_user.id, location_id)
