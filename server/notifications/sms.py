"""Who sends notification texts (the SMS fallback for invitations).

- `ConsoleTextSender` (dev and tests without Twilio Messaging): logs the text.
- `TwilioTextSender` (production): Twilio's Messages API through a Messaging
  Service, with the same account as the sign-in codes (server/auth/sms.py).
"""

from __future__ import annotations

from typing import Protocol

import httpx
import structlog

from server.settings import Settings

logger = structlog.get_logger(__name__)

# Two SMS segments at most: the title and the start of the body.
MAX_TEXT_CHARS = 300


class SmsUnavailable(Exception):
    """The text was not sent; the caller tries again later."""


class TextSender(Protocol):
    async def send_text(self, phone: str, body: str) -> None: ...

    async def aclose(self) -> None: ...


def sms_text(title: str, body: str) -> str:
    text = f"Momento: {title}. {body}"
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


class ConsoleTextSender:
    async def send_text(self, phone: str, body: str) -> None:
        logger.warning("DEV SMS (not sent): notification", phone=phone, body=body)

    async def aclose(self) -> None:
        """Nothing to close."""


class TwilioTextSender:
    def __init__(self, settings: Settings) -> None:
        assert settings.twilio_account_sid
        assert settings.twilio_auth_token
        assert settings.twilio_messaging_service_sid
        self._path = f"/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
        self._service = settings.twilio_messaging_service_sid
        self._client = httpx.AsyncClient(
            base_url=settings.twilio_messages_api_base,
            auth=(settings.twilio_account_sid, settings.twilio_auth_token),
            timeout=10.0,
        )

    async def send_text(self, phone: str, body: str) -> None:
        form = {"To": phone, "MessagingServiceSid": self._service, "Body": body}
        try:
            response = await self._client.post(self._path, data=form)
        except httpx.HTTPError as exc:
            raise SmsUnavailable(f"twilio unreachable: {exc}") from exc
        if response.status_code >= 400:
            logger.error("twilio refused a notification text", status=response.status_code)
            raise SmsUnavailable(f"twilio answered {response.status_code}")

    async def aclose(self) -> None:
        await self._client.aclose()


def build_text_sender(settings: Settings) -> TextSender:
    if settings.twilio_messaging_service_sid:
        return TwilioTextSender(settings)
    return ConsoleTextSender()
