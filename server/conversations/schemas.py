"""Request and response bodies of conversations and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from server.profiles.schemas import PublicProfile


class ConversationIn(msgspec.Struct, forbid_unknown_fields=True):
    profile_id: uuid.UUID


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    # 1..2000 characters once surrounding whitespace is trimmed.
    content: str
    # Idempotency key chosen by the app: a retry returns the first message.
    client_id: uuid.UUID | None = None


class ReadIn(msgspec.Struct, forbid_unknown_fields=True):
    # The seq of the newest message read; beyond the last message means all of
    # them. At most 2**53 - 1, JSON's safe integers: the document writes bounds
    # as floats, and the bigint limit 2**63 - 1 as a float is 2**63.
    seq: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]


class Message(msgspec.Struct):
    """A message, as the REST list returns it and the WebSocket delivers it."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    sender_profile_id: uuid.UUID
    content: str
    created_at: datetime


class Conversation(msgspec.Struct):
    id: uuid.UUID
    other_profile: PublicProfile
    last_message: Message | None
    # Messages after my read marker (my own messages move my marker).
    unread_count: int
    last_seq: int
    last_read_seq: int
    # The other person's read marker: my messages up to this seq were read.
    other_last_read_seq: int
    created_at: datetime
    last_activity_at: datetime
