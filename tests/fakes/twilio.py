"""A fake Twilio: Verify (one code per number, checked) and Messaging (texts recorded)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from fakes.http import quiet, send_json

ACCOUNT_SID = "ACfake00000000000000000000000000"
AUTH_TOKEN = "fake-auth-token"
SERVICE_SID = "VAfake00000000000000000000000000"
MESSAGING_SID = "MGfake00000000000000000000000000"
CODE = "654321"


class FakeTwilioState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[str] = []
        self.pending: dict[str, str] = {}
        self.fail_sends = False
        # Texts sent through the Messages API: (to, body).
        self.texts: list[tuple[str, str]] = []
        self.fail_texts = False


def make_handler(state: FakeTwilioState) -> type[BaseHTTPRequestHandler]:
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    @quiet
    class TwilioHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.headers.get("Authorization") != expected_auth:
                return self._reply(401, {"code": 20003, "message": "Authenticate"})
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                if state.fail_texts:
                    return self._reply(503, {"message": "unavailable"})
                if form.get("MessagingServiceSid") != MESSAGING_SID or not form.get("Body"):
                    return self._reply(400, {"code": 21602, "message": "Body is required"})
                with state.lock:
                    state.texts.append((form["To"], form["Body"]))
                return self._reply(201, {"sid": f"SM{len(state.texts):032d}", "status": "queued"})
            base = f"/v2/Services/{SERVICE_SID}/"
            if self.path == base + "Verifications":
                if state.fail_sends:
                    return self._reply(500, {"message": "boom"})
                with state.lock:
                    state.sent.append(form["To"])
                    state.pending[form["To"]] = CODE
                return self._reply(201, {"status": "pending", "to": form["To"]})
            if self.path == base + "VerificationCheck":
                with state.lock:
                    expected = state.pending.get(form["To"])
                    if expected is None:
                        return self._reply(404, {"code": 20404})
                    approved = form.get("Code") == expected
                    if approved:
                        del state.pending[form["To"]]
                return self._reply(200, {"status": "approved" if approved else "pending"})
            return self._reply(404, {"code": 20404})

        def _reply(self, status: int, body: dict[str, object]) -> None:
            send_json(self, status, json.dumps(body).encode())

    return TwilioHandler
