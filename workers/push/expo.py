"""Expo's push service through the official SDK (`exponent-server-sdk`).

The SDK is synchronous (requests), so its calls run on a small thread pool of
the client's own, never on the event loop. A whole request that fails on the
network, with 429 or with 5xx is retried with exponential backoff and jitter
(honouring Retry-After); any other 4xx is never retried (`PushRejected`).
After `max_attempts` the caller gets `PushUnavailable` and reschedules.
Per-message problems (`DeviceNotRegistered`, `MessageTooBig`...) come back as
tickets with `ok=False`, never as exceptions: the rest of the batch was sent.
"""

from __future__ import annotations

import asyncio
import json
import random
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import msgspec
import requests
import structlog
from exponent_server_sdk import (  # type: ignore[import-untyped]
    PushClient,
    PushServerError,
    PushTicket,
)
from exponent_server_sdk import PushMessage as SdkMessage
from requests.adapters import HTTPAdapter

logger = structlog.get_logger(__name__)

T = TypeVar("T")

MAX_MESSAGES_PER_REQUEST = 100
MAX_RECEIPTS_PER_REQUEST = 1000
# Expo refuses a message whose payload is over 4096 bytes (MessageTooBig).
MAX_PAYLOAD_BYTES = 4096
# trim() aims lower: Expo wraps the message (aps keys, project ids) before the
# platform's own 4096-byte check, and our measure is of the message as sent.
TRIM_TARGET_BYTES = MAX_PAYLOAD_BYTES - 256
ELLIPSIS = "…"
# Connection refused/reset, timeouts, a body cut short: the request may be retried.
_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class PushMessage(msgspec.Struct, frozen=True):
    token: str
    title: str
    body: str
    data: dict[str, Any]
    badge: int | None = None
    sound: str | None = "default"
    channel_id: str | None = None  # Android notification channel


class Ticket(msgspec.Struct, frozen=True):
    token: str
    ok: bool
    ticket_id: str | None
    # Expo's details.error, e.g. "DeviceNotRegistered", "MessageTooBig",
    # "MessageRateExceeded", "InvalidCredentials"; None when Expo gave none.
    error: str | None
    message: str | None


class Receipt(msgspec.Struct, frozen=True):
    ok: bool
    error: str | None
    message: str | None


class PushRejected(Exception):
    """Expo refused the whole request (a 4xx other than 429): never retried."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"Expo refused the request ({status} {code or ''}): {message}")
        self.status = status
        self.code = code


class PushUnavailable(Exception):
    """Expo could not be reached or kept failing: try again later.

    `retry_after` is Expo's Retry-After (seconds) when it asked for a longer
    wait than the client's own backoff allows.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _SdkPayload(SdkMessage):  # type: ignore[misc]
    """The SDK refuses `ExpoPushToken[...]`, which Expo issues as well as
    `ExponentPushToken[...]` (tokens are checked when registered)."""

    def get_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = SdkMessage.get_payload(self._replace(to="ExponentPushToken[]"))
        payload["to"] = self.to
        return payload


def _sdk_message(message: PushMessage) -> _SdkPayload:
    return _SdkPayload(
        to=message.token,
        title=message.title,
        body=message.body,
        data=message.data,
        badge=message.badge,
        sound=message.sound,
        channel_id=message.channel_id,
    )


def payload_bytes(message: PushMessage) -> int:
    """The size of the message as Expo measures it: its JSON in UTF-8."""
    payload = _sdk_message(message).get_payload()
    return len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


def trim(message: PushMessage) -> PushMessage:
    """The message with its body shortened (whole characters, then "…") to fit.

    Only the body is cut: if the title and data alone are too big, the body
    becomes "…" and Expo will still answer MessageTooBig (send it once, no more).
    """
    if payload_bytes(message) <= TRIM_TARGET_BYTES:
        return message
    body = message.body

    def shortened(length: int) -> PushMessage:
        return msgspec.structs.replace(message, body=body[:length].rstrip() + ELLIPSIS)

    # The longest prefix that fits; payload size grows with the prefix length.
    low, high = 0, len(body) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if payload_bytes(shortened(middle)) <= TRIM_TARGET_BYTES:
            low = middle
        else:
            high = middle - 1
    # Never cut a character from its combining marks or a joined emoji sequence.
    while low > 0 and (
        unicodedata.combining(body[low]) or body[low] in "\u200d\ufe0f" or body[low - 1] == "\u200d"
    ):
        low -= 1
    return shortened(low)


def _retry_after(response: requests.Response | None) -> float | None:
    value = None if response is None else response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _expo_error(exc: Exception) -> tuple[str | None, str]:
    """Expo's (code, message) from `errors[0]` of a refused request, when it sent one."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        return (None if code is None else str(code)), str(errors[0].get("message", exc))
    return None, str(exc)


class ExpoClient:
    """Send batches and read receipts; `aclose()` when done.

    `host` is Expo's scheme, host and port, no path (None: the SDK's default,
    Expo itself; a local fake in tests). `access_token` is the project's push
    security token (EXPO_ACCESS_TOKEN). At most `concurrency` requests are in
    flight at once.
    """

    def __init__(
        self,
        *,
        access_token: str | None,
        host: str | None,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        timeout: float = 10.0,
        concurrency: int = 4,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="expo")
        self._session = requests.Session()
        # The headers the SDK sets on a session of its own, plus the token.
        self._session.headers.update(
            {
                "accept": "application/json",
                "accept-encoding": "gzip, deflate",
                "content-type": "application/json",
            }
        )
        if access_token:
            self._session.headers["Authorization"] = f"Bearer {access_token}"
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=concurrency)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        # The SDK appends "/--/api/v2/..." to the host as a plain string.
        self._sdk = PushClient(
            host=host.rstrip("/") if host else None, session=self._session, timeout=timeout
        )

    async def send(self, messages: Sequence[PushMessage]) -> list[Ticket]:
        """One request; a ticket per message, in order."""
        if len(messages) > MAX_MESSAGES_PER_REQUEST:
            raise ValueError(f"at most {MAX_MESSAGES_PER_REQUEST} messages per request")
        if not messages:
            return []
        batch = [_sdk_message(message) for message in messages]
        answers: list[PushTicket] = await self._call(
            "send", lambda: self._sdk.publish_multiple(batch)
        )
        tickets = [
            Ticket(
                token=answer.push_message.to,
                ok=answer.is_success(),
                ticket_id=answer.id or None,
                error=None if answer.is_success() else (answer.details or {}).get("error"),
                message=answer.message or None,
            )
            for answer in answers
        ]
        if any(ticket.error == "InvalidCredentials" for ticket in tickets):
            # Expo holds the app's APNs/FCM credentials; nothing reaches phones until fixed.
            logger.error(
                "Expo reports InvalidCredentials: the app's push credentials (APNs key or "
                "FCM server key) uploaded to Expo are invalid or revoked",
            )
        return tickets

    async def receipts(self, ticket_ids: Sequence[str]) -> dict[str, Receipt]:
        """Receipts by ticket id; ids Expo has no receipt for (yet) are absent."""
        if len(ticket_ids) > MAX_RECEIPTS_PER_REQUEST:
            raise ValueError(f"at most {MAX_RECEIPTS_PER_REQUEST} ticket ids per request")
        if not ticket_ids:
            return {}
        refs = [PushTicket(None, "ok", "", None, ticket_id) for ticket_id in ticket_ids]
        answers = await self._call("receipts", lambda: self._sdk.check_receipts_multiple(refs))
        return {
            answer.id: Receipt(
                ok=answer.is_success(),
                error=None if answer.is_success() else (answer.details or {}).get("error"),
                message=answer.message or None,
            )
            for answer in answers
        }

    async def aclose(self) -> None:
        await asyncio.to_thread(self._executor.shutdown)
        self._session.close()

    async def _call(self, what: str, request: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                return await loop.run_in_executor(self._executor, request)
            except (PushServerError, requests.HTTPError) as exc:
                response = exc.response
                status = response.status_code if response is not None else 0
                if 400 <= status < 500 and status != 429:
                    raise self._rejected(status, exc) from exc
                # 429, 5xx, or a 2xx whose body was not Expo's (a proxy's page).
                code, message = _expo_error(exc)
                failure = f"HTTP {status} {code or ''}: {message}"
                retry_after = _retry_after(response)
            except _NETWORK_ERRORS as exc:
                failure = f"{type(exc).__name__}: {exc}"
            if attempt == self._max_attempts:
                raise PushUnavailable(f"Expo {what} failed {attempt} times, last: {failure}")
            if retry_after is not None and retry_after > self._max_delay:
                raise PushUnavailable(
                    f"Expo {what} asked to wait {retry_after:.0f}s: {failure}", retry_after
                )
            delay = max(self._backoff(attempt), retry_after or 0.0)
            logger.warning(
                "Expo request failed, retrying",
                request=what,
                attempt=attempt,
                delay=round(delay, 3),
                error=failure,
            )
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """base_delay doubling up to max_delay, half of it random (callers spread out)."""
        ceiling = min(self._max_delay, self._base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _rejected(self, status: int, exc: Exception) -> PushRejected:
        code, message = _expo_error(exc)
        if status in (401, 403):
            logger.error(
                "Expo refused our credentials: EXPO_ACCESS_TOKEN is missing or wrong "
                "(the project has push security enabled); no push can be sent",
                status=status,
                code=code,
            )
        return PushRejected(status, code, message)
