"""Checks shared by boards and conversations, on REST and on the WebSocket."""

from __future__ import annotations

import uuid

import msgspec

from server.errors import ApiError

MAX_CONTENT = 2000
# seq columns are bigint; a client's number beyond that range means "everything".
_BIGINT = (-(2**63), 2**63 - 1)


class Member(msgspec.Struct, frozen=True):
    """Who the caller is on a channel they may use: their social profile, or, for
    an event's host who has none (a community host), their host profile
    (`host_id` is set only then)."""

    profile_id: uuid.UUID | None
    host_id: uuid.UUID | None = None

    @property
    def author(self) -> uuid.UUID:
        """The id their items and typing are signed with (profile, else host)."""
        author = self.profile_id or self.host_id
        assert author is not None
        return author


def clean_content(content: str) -> str:
    """The content without surrounding whitespace: 1..MAX_CONTENT characters, no NUL
    (PostgreSQL text cannot hold it); else 422 `invalid_content`."""
    text = content.strip()
    if not 1 <= len(text) <= MAX_CONTENT or "\x00" in text:
        raise ApiError(
            422,
            "invalid_content",
            f"content must be 1 to {MAX_CONTENT} characters once trimmed, without NUL",
        )
    return text


def clamp_seq(seq: int) -> int:
    """A client's seq, kept inside what the database can compare."""
    return min(max(seq, _BIGINT[0]), _BIGINT[1])


def client_id_conflict() -> ApiError:
    return ApiError(409, "client_id_conflict", "This client_id was already used for something else")
