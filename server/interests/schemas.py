"""Request and response bodies of /v1/interests and /v1/me/interests."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_INTERESTS = 30

# interests.id is a PostgreSQL integer: anything outside it cannot exist.
InterestId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class Interest(msgspec.Struct):
    """A catalog entry as the app sees it (never its vector)."""

    id: int
    name: str


class MyInterestsPut(msgspec.Struct, forbid_unknown_fields=True):
    """The complete new set of my interests; repeated ids count once."""

    interest_ids: Annotated[list[InterestId], msgspec.Meta(max_length=MAX_INTERESTS)]


class InterestList(msgspec.Struct):
    items: list[Interest]
