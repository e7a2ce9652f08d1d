"""Who sends sign-in codes by SMS.

- `ConsoleCodeSender` (dev and tests): makes the code, logs it loudly; the
  server stores its hash and checks it.
- `TwilioVerifyCodeSender` (production): Twilio Verify makes, sends and checks
  the code; the server still counts attempts and expiry on its side.
"""

from __future__ import annotations

import secrets
from typing import Protocol

import httpx
import structlog

from server.errors import ApiError
from server.settings import Settings

logger = structlog.get_logger(__name__)


def random_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


class CodeSender(Protocol):
    async def send_code(self, phone: str) -> str | None:
        """Send a code to phone; return it when the server must check it itself."""

    async def check_code(self, phone: str, code: str) -> bool:
        """Ask the provider whether code is right (only for providers returning None)."""


class ConsoleCodeSender:
    async def send_code(self, phone: str) -> str | None:
        code = random_code()
        logger.warning("DEV SMS (not sent): sign-in code", phone=phone, code=code)
        return code

    async def check_code(self, phone: str, code: str) -> bool:
        raise NotImplementedError("console codes are checked against their stored hash")


class TwilioVerifyCodeSender:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        assert settings.twilio_account_sid
        assert settings.twilio_auth_token
        self._service = settings.twilio_verify_service_sid
        self._client = client or httpx.AsyncClient(
            base_url=settings.twilio_api_base,
            auth=(settings.twilio_account_sid, settings.twilio_auth_token),
            timeout=10.0,
        )

    async def send_code(self, phone: str) -> str | None:
        response = await self._post("Verifications", {"To": phone, "Channel": "sms"})
        if response.status_code >= 400:
            logger.error("twilio verify refused to send", status=response.status_code)
            raise ApiError(503, "sms_unavailable", "Could not send the code, try again shortly")
        return None

    async def check_code(self, phone: str, code: str) -> bool:
        response = await self._post("VerificationCheck", {"To": phone, "Code": code})
        if response.status_code == 404:
            return False  # Twilio's answer for an expired or already approved verification
        if response.status_code >= 400:
            logger.error("twilio verify check failed", status=response.status_code)
            raise ApiError(503, "sms_unavailable", "Could not check the code, try again shortly")
        return bool(response.json().get("status") == "approved")

    async def _post(self, resource: str, form: dict[str, str]) -> httpx.Response:
        try:
            return await self._client.post(f"/v2/Services/{self._service}/{resource}", data=form)
        except httpx.HTTPError as exc:
            logger.error("twilio verify unreachable", error=str(exc))
            raise ApiError(503, "sms_unavailable", "SMS is unavailable, try again shortly") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
