"""Every WebSocket frame, both ways (docs/API.md "WebSocket: GET /v1/ws").

Client frames are a union tagged by `op`, server frames a union tagged by
`type`. Unknown fields in client frames are ignored, so an app may send more
than this server reads.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

# The app's own correlation id, echoed back as given.
Ref = str | int | None

# ── Client -> server ──


class Auth(msgspec.Struct, tag="auth", tag_field="op"):
    token: str


class Subscribe(msgspec.Struct, tag="subscribe", tag_field="op"):
    channel: str
    since: int | None = None
    ref: Ref = None


class Unsubscribe(msgspec.Struct, tag="unsubscribe", tag_field="op"):
    channel: str
    ref: Ref = None


class Send(msgspec.Struct, tag="send", tag_field="op"):
    channel: str
    content: str
    client_id: uuid.UUID | None = None
    ref: Ref = None


class Typing(msgspec.Struct, tag="typing", tag_field="op"):
    channel: str
    ref: Ref = None


class Read(msgspec.Struct, tag="read", tag_field="op"):
    channel: str
    seq: int
    ref: Ref = None


class Ping(msgspec.Struct, tag="ping", tag_field="op"):
    ref: Ref = None


ClientFrame = Auth | Subscribe | Unsubscribe | Send | Typing | Read | Ping


class _RefOnly(msgspec.Struct):
    ref: Ref = None


_client_decoder = msgspec.json.Decoder(ClientFrame)
_ref_decoder = msgspec.json.Decoder(_RefOnly)


class InvalidFrame(Exception):
    def __init__(self, detail: str, ref: Ref) -> None:
        super().__init__(detail)
        self.detail = detail
        self.ref = ref


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    """The frame, or InvalidFrame carrying the frame's `ref` when one could be read."""
    try:
        frame: ClientFrame = _client_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        try:
            ref = _ref_decoder.decode(raw).ref
        except msgspec.DecodeError:
            ref = None
        raise InvalidFrame(str(exc), ref) from None
    return frame


# ── Server -> client ──


class Ready(msgspec.Struct, tag="ready", tag_field="type"):
    user_id: uuid.UUID


class Subscribed(msgspec.Struct, tag="subscribed", tag_field="type"):
    channel: str
    ref: Ref
    last_seq: int
    recovered: bool


class Unsubscribed(msgspec.Struct, tag="unsubscribed", tag_field="type"):
    channel: str
    ref: Ref


class Message(msgspec.Struct, tag="message", tag_field="type"):
    channel: str
    seq: int
    # The post or message, exactly as the REST list returns it.
    data: Any


class Ack(msgspec.Struct, tag="ack", tag_field="type"):
    ref: Ref
    seq: int
    id: uuid.UUID


class TypingEvent(msgspec.Struct, tag="typing", tag_field="type", omit_defaults=True):
    channel: str
    # The typist's social profile; for a host without one, null and `host_id` set.
    profile_id: uuid.UUID | None
    host_id: uuid.UUID | None = None


class ReadEvent(msgspec.Struct, tag="read", tag_field="type"):
    channel: str
    profile_id: uuid.UUID
    seq: int


class Notification(msgspec.Struct, tag="notification", tag_field="type"):
    data: dict[str, Any]


class Error(msgspec.Struct, tag="error", tag_field="type"):
    code: str
    detail: str
    ref: Ref = None


class Pong(msgspec.Struct, tag="pong", tag_field="type", omit_defaults=True):
    ref: Ref = None


class ServerPing(msgspec.Struct, tag="ping", tag_field="type"):
    """The server's heartbeat on a quiet connection: answer with `{"op":"ping"}`."""


ServerFrame = (
    Ready
    | Subscribed
    | Unsubscribed
    | Message
    | Ack
    | TypingEvent
    | ReadEvent
    | Notification
    | Error
    | Pong
    | ServerPing
)

_encoder = msgspec.json.Encoder()


def encode(frame: msgspec.Struct) -> str:
    """A text frame. Encoded once per frame, however many connections get it."""
    return _encoder.encode(frame).decode()
