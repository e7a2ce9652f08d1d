"""What the attendance tests share: places at known distances, check-ins, reports."""

from __future__ import annotations

import math
from typing import Any

from builders import Client, Person
from helpers import bearer

# The kit's place (tests/builders.py Kit.location).
PLACE = (40.73, -74.0)
METERS_PER_DEGREE = math.pi / 180 * 6_371_008.8


def north_of(meters: float, place: tuple[float, float] = PLACE) -> dict[str, float]:
    """A position `meters` due north of the place."""
    return {"latitude": place[0] + meters / METERS_PER_DEGREE, "longitude": place[1]}


async def check_in(
    client: Client, person: Person, event: dict[str, Any], meters: float = 20, **extra: Any
) -> Any:
    return await client.post(
        f"/v1/events/{event['id']}/check-in",
        headers=bearer(person),
        json={**north_of(meters), **extra},
    )


async def report(
    client: Client, reporter: Person, event: dict[str, Any], subject: Person, status: str
) -> Any:
    return await client.post(
        f"/v1/events/{event['id']}/attendance-reports",
        headers=bearer(reporter),
        json={"profile_id": subject["profile_id"], "status": status},
    )
