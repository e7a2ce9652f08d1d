"""A fake OpenAI embeddings API (`POST /v1/embeddings`): deterministic unit
vectors of the requested size, a Bearer key check, and injectable failures."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np
from fakes.http import quiet, send_json

API_KEY = "sk-fake-openai-key"
MAX_INPUTS = 2048


def fake_vector(text: str, dimensions: int) -> np.ndarray:
    """The unit vector the fake returns for text: a function of text and size only."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32)
    return vector / np.linalg.norm(vector)


class FakeOpenAIState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Every request body that reached /v1/embeddings, failed ones included.
        self.requests: list[dict[str, Any]] = []
        # Statuses to answer, in order, before answering normally again.
        self.failures: list[int] = []


def make_handler(state: FakeOpenAIState) -> type[BaseHTTPRequestHandler]:
    @quiet
    class OpenAIHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                return self._error(401, "Incorrect API key provided", "invalid_api_key")
            if self.path != "/v1/embeddings":
                return self._error(404, "Unknown request URL", "unknown_url")
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            with state.lock:
                state.requests.append(body)
                failure = state.failures.pop(0) if state.failures else None
            if failure is not None:
                return self._error(failure, "Try again", "rate_limit_exceeded")
            inputs = body.get("input")
            if isinstance(inputs, str):
                inputs = [inputs]
            if (
                not isinstance(inputs, list)
                or not 0 < len(inputs) <= MAX_INPUTS
                or not all(isinstance(text, str) and text for text in inputs)
            ):
                return self._error(400, "'$.input' is invalid.", "invalid_request_error")
            dimensions = body.get("dimensions", 1536)
            data = []
            for index, text in enumerate(inputs):
                vector = fake_vector(text, dimensions)
                embedding: object = (
                    base64.b64encode(vector.astype("<f4").tobytes()).decode()
                    if body.get("encoding_format") == "base64"
                    else vector.tolist()
                )
                data.append({"object": "embedding", "index": index, "embedding": embedding})
            tokens = sum(len(text.split()) for text in inputs)
            return self._reply(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": body.get("model"),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        def _error(self, status: int, message: str, code: str) -> None:
            self._reply(
                status, {"error": {"message": message, "type": code, "param": None, "code": code}}
            )

        def _reply(self, status: int, body: dict[str, object]) -> None:
            # retry-after-ms lets the client's retry wait 10 ms instead of its backoff.
            send_json(self, status, json.dumps(body).encode(), {"retry-after-ms": "10"})

    return OpenAIHandler
