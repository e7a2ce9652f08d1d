"""A fake Expo push service for the real `exponent-server-sdk` to talk to.

    fake = FakeExpo()
    with serve(fake.handler()) as url:   # url is PushClient's `host`
        ...

Endpoints as Expo's: `POST /--/api/v2/push/send` (a JSON list of messages,
at most 100; answers `{"data": [ticket, ...]}` in order) and
`POST /--/api/v2/push/getReceipts` (`{"ids": [...]}`; answers
`{"data": {id: receipt}}`, leaving out ids it has no receipt for). A refused
request is answered like Expo does: `{"errors": [{"code", "message"}]}`.

Like Expo, a message whose JSON is over 4096 bytes gets a `MessageTooBig`
ticket, and with `access_token` set, a request without that Bearer token is
refused with 401. What the test scripts, through thread-safe methods:
`fail_next` (whole-request HTTP failures or dropped connections),
`device_not_registered` (that token's tickets fail), `fail_receipts`
(receipts of that token's tickets carry an error). Every request is recorded
in `requests`, every accepted message in `messages` (with its arrival time);
`accepted_per_second` counts accepted messages per wall-clock second. Read
them once the requests under test are done, or under `lock`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from fakes.http import FailureStatus, quiet, send_json

SEND_PATH = "/--/api/v2/push/send"
RECEIPTS_PATH = "/--/api/v2/push/getReceipts"
MAX_MESSAGES = 100
MAX_PAYLOAD_BYTES = 4096

Json = dict[str, Any]
# The codes this fake puts in `errors` for a scripted failure.
ERROR_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    429: "TOO_MANY_REQUESTS",
}


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    authorization: str | None
    # The HTTP status answered, or "disconnect" when the connection was dropped.
    status: FailureStatus
    at: float


@dataclass(frozen=True)
class AcceptedMessage:
    message: Json
    ticket_id: str
    at: float  # time.time() when the request arrived


@dataclass
class _Failure:
    status: FailureStatus
    retry_after: str | None


def message_bytes(message: Json) -> int:
    """A message's size as Expo counts it against 4096: its JSON in UTF-8."""
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())


class FakeExpo:
    def __init__(self, *, access_token: str | None = None) -> None:
        self.access_token = access_token
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.messages: list[AcceptedMessage] = []
        self._failures: deque[_Failure] = deque()
        self._unregistered: set[str] = set()
        self._receipt_errors: dict[str, str] = {}
        self._ticket_tokens: dict[str, str] = {}

    # ── scripting ──

    def fail_next(
        self, status: FailureStatus, count: int = 1, retry_after: float | str | None = None
    ) -> None:
        """Answer the next `count` requests with `status` (or drop them), with
        a Retry-After header when given."""
        header = None if retry_after is None else str(retry_after)
        with self.lock:
            self._failures.extend(_Failure(status, header) for _ in range(count))

    def device_not_registered(self, token: str) -> None:
        """From now on, messages to token get a DeviceNotRegistered ticket."""
        with self.lock:
            self._unregistered.add(token)

    def fail_receipts(self, token: str, error: str = "DeviceNotRegistered") -> None:
        """Receipts of token's tickets (already issued or later) carry error."""
        with self.lock:
            self._receipt_errors[token] = error

    # ── reading ──

    def accepted_per_second(self) -> dict[int, int]:
        with self.lock:
            return dict(Counter(int(accepted.at) for accepted in self.messages))

    def sent_to(self, token: str) -> list[Json]:
        with self.lock:
            return [a.message for a in self.messages if a.message.get("to") == token]

    # ── serving ──

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        @quiet
        class ExpoHandler(BaseHTTPRequestHandler):
            # Keep-alive, as the SDK's session expects from Expo.
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                answer = fake._answer(self.path, self.headers.get("Authorization"), raw)
                if answer is None:
                    self.close_connection = True
                    return
                status, body, headers = answer
                send_json(self, status, body, headers)

        return ExpoHandler

    def _answer(
        self, path: str, authorization: str | None, raw: bytes
    ) -> tuple[int, bytes, dict[str, str]] | None:
        now = time.time()
        with self.lock:
            failure = self._failures.popleft() if self._failures else None
            if failure is not None:
                self.requests.append(RecordedRequest(path, authorization, failure.status, now))
                if failure.status == "disconnect":
                    return None
                headers = (
                    {} if failure.retry_after is None else {"Retry-After": failure.retry_after}
                )
                code = ERROR_CODES.get(failure.status, "INTERNAL_SERVER_ERROR")
                return failure.status, _errors(code, "scripted failure"), headers
            status, body = self._route(path, authorization, raw, now)
            self.requests.append(RecordedRequest(path, authorization, status, now))
            return status, body, {}

    def _route(
        self, path: str, authorization: str | None, raw: bytes, now: float
    ) -> tuple[int, bytes]:
        if self.access_token is not None and authorization != f"Bearer {self.access_token}":
            return 401, _errors("UNAUTHORIZED", "The bearer token is invalid")
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, _errors("VALIDATION_ERROR", "The request body is not JSON")
        if path == SEND_PATH:
            return self._send(body if isinstance(body, list) else [body], now)
        if path == RECEIPTS_PATH:
            return self._receipts(body.get("ids", []) if isinstance(body, dict) else [])
        return 404, _errors("NOT_FOUND", f"No route {path}")

    def _send(self, messages: list[Json], now: float) -> tuple[int, bytes]:
        if len(messages) > MAX_MESSAGES:
            return 400, _errors(
                "PUSH_TOO_MANY_NOTIFICATIONS", f"at most {MAX_MESSAGES} messages per request"
            )
        tickets: list[Json] = []
        for message in messages:
            token = message.get("to")
            if token in self._unregistered:
                tickets.append(
                    _ticket_error(
                        "DeviceNotRegistered",
                        f'"{token}" is not a registered push notification recipient',
                        token,
                    )
                )
            elif message_bytes(message) > MAX_PAYLOAD_BYTES:
                tickets.append(
                    _ticket_error("MessageTooBig", "Message too big (over 4096 bytes)", token)
                )
            else:
                ticket_id = str(uuid.uuid4())
                self._ticket_tokens[ticket_id] = str(token)
                self.messages.append(AcceptedMessage(message, ticket_id, now))
                tickets.append({"status": "ok", "id": ticket_id})
        return 200, json.dumps({"data": tickets}).encode()

    def _receipts(self, ids: list[str]) -> tuple[int, bytes]:
        receipts: Json = {}
        for ticket_id in ids:
            token = self._ticket_tokens.get(ticket_id)
            if token is None:
                continue
            error = self._receipt_errors.get(token)
            receipts[ticket_id] = (
                {"status": "ok"}
                if error is None
                else _ticket_error(error, f"Receipt error: {error}", token)
            )
        return 200, json.dumps({"data": receipts}).encode()


def _errors(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


def _ticket_error(error: str, message: str, token: object) -> Json:
    return {
        "status": "error",
        "message": message,
        "details": {"error": error, "expoPushToken": token},
    }
