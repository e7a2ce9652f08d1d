"""What a Momento app does, as a Locust user (bench/load.py runs it headless).

Each user is one seeded person (`LOAD_PEOPLE`, a JSON file bench/load.py
writes): they sign in with the test code, accept their invitation, then
browse invitations, their board and the inbox, post on the board, and chat
with their partner over one WebSocket. Web processes are taken in turn
(`LOAD_HOSTS`, comma-separated base URLs), as a load balancer would.

WebSocket timings are reported to Locust as requests of type "WS":
`send → ack` (stored and acknowledged) and `message delivered` (the time from
the sender's clock in the message to its arrival at the partner; one
machine, one clock).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from typing import Any

import gevent
import websocket
from locust import HttpUser, between, events, task

PEOPLE: list[dict[str, Any]] = json.loads(open(os.environ["LOAD_PEOPLE"]).read())  # noqa: SIM115
HOSTS = os.environ["LOAD_HOSTS"].split(",")
_next = itertools.count()
_lock = threading.Lock()


def _fire(name: str, started: float, error: Exception | None = None) -> None:
    events.request.fire(
        request_type="WS",
        name=name,
        response_time=(time.time() - started) * 1000,
        response_length=0,
        exception=error,
        context={},
    )


class AppUser(HttpUser):
    wait_time = between(0.5, 1.5)
    host = HOSTS[0]

    def on_start(self) -> None:
        with _lock:
            n = next(_next)
        self.person = PEOPLE[n % len(PEOPLE)]
        self.client.base_url = HOSTS[n % len(HOSTS)]
        phone = self.person["phone"]
        self.client.post("/v1/auth/otp", json={"phone_number": phone}, name="POST /v1/auth/otp")
        r = self.client.post(
            "/v1/auth/verify",
            json={"phone_number": phone, "code": self.person["code"]},
            name="POST /v1/auth/verify",
        )
        self.token = r.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.client.post(
            f"/v1/invitations/{self.person['invitation_id']}/accept",
            headers=self.headers,
            name="POST /v1/invitations/{id}/accept",
        )
        r = self.client.post(
            "/v1/conversations",
            headers=self.headers,
            json={"profile_id": self.person["partner_profile_id"]},
            name="POST /v1/conversations",
        )
        self.channel = f"conversation:{r.json()['id']}"
        self.board = self.person["board_event_id"]
        self.refs = itertools.count()
        self.acks: dict[str, float] = {}
        ws_url = self.client.base_url.replace("http://", "ws://") + "/v1/ws"
        self.ws = websocket.create_connection(
            ws_url, header=[f"Authorization: Bearer {self.token}"]
        )
        self.ws.send(json.dumps({"op": "subscribe", "channel": self.channel, "ref": "s"}))
        self.reader = gevent.spawn(self._read)

    def on_stop(self) -> None:
        self.reader.kill()
        self.ws.close()

    def _read(self) -> None:
        while True:
            try:
                frame = json.loads(self.ws.recv())
            except (websocket.WebSocketException, OSError, ValueError):
                return
            kind = frame.get("type")
            if kind == "ack" and (started := self.acks.pop(str(frame["ref"]), None)):
                _fire("send → ack", started)
            elif (
                kind == "message"
                and frame["data"].get("sender_profile_id") != self.person["profile_id"]
            ):
                content = frame["data"].get("content") or ""
                if content.startswith("t="):
                    _fire("message delivered", float(content[2:]))
            elif kind == "error":
                _fire("error frame", time.time(), RuntimeError(str(frame.get("code"))))

    @task(5)
    def invitations(self) -> None:
        self.client.get("/v1/me/invitations", headers=self.headers, name="GET /v1/me/invitations")

    @task(3)
    def event(self) -> None:
        self.client.get(
            f"/v1/events/{self.board}", headers=self.headers, name="GET /v1/events/{id}"
        )

    @task(3)
    def board_posts(self) -> None:
        self.client.get(
            f"/v1/events/{self.board}/posts", headers=self.headers, name="GET /v1/events/{id}/posts"
        )

    @task(1)
    def post(self) -> None:
        self.client.post(
            f"/v1/events/{self.board}/posts",
            headers=self.headers,
            json={"content": "See you there"},
            name="POST /v1/events/{id}/posts",
        )

    @task(2)
    def notifications(self) -> None:
        self.client.get(
            "/v1/me/notifications", headers=self.headers, name="GET /v1/me/notifications"
        )

    @task(1)
    def conversations(self) -> None:
        self.client.get("/v1/conversations", headers=self.headers, name="GET /v1/conversations")

    @task(3)
    def chat(self) -> None:
        ref = str(next(self.refs))
        now = time.time()
        self.acks[ref] = now
        frame = {"op": "send", "channel": self.channel, "content": f"t={now}", "ref": ref}
        try:
            self.ws.send(json.dumps(frame))
        except (websocket.WebSocketException, OSError) as exc:
            self.acks.pop(ref, None)
            _fire("send → ack", now, exc)
