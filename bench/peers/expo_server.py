"""Peer for bench/push.py: the tests' fake Expo push service in a process of its own.

    python bench/peers/expo_server.py

Serves `tests/fakes/expo.py`'s FakeExpo (Expo's send and receipt endpoints,
every message accepted) on a free port of 127.0.0.1 and prints its base URL
as the first line on stdout. Its own process, so the bench does not count
its CPU as the workers'. Adds two bench-only reads:

- `GET /bench/count`: `{"accepted": n}`, messages accepted so far;
- `GET /bench/messages`: `{"arrivals": [[notification_id, at], ...]}`, one
  pair per accepted message (`at`: time.time() when its request arrived).

It stops when its stdin closes (the bench ends or dies).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from fakes.expo import FakeExpo
from fakes.http import serve


def bench_handler(fake: FakeExpo) -> type:
    class BenchExpoHandler(fake.handler()):  # type: ignore[misc]
        def do_GET(self) -> None:
            with fake.lock:
                if self.path == "/bench/count":
                    answer: dict[str, object] = {"accepted": len(fake.messages)}
                elif self.path == "/bench/messages":
                    answer = {
                        "arrivals": [
                            [(m.message.get("data") or {}).get("notification_id"), m.at]
                            for m in fake.messages
                        ]
                    }
                else:
                    self.send_error(404)
                    return
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return BenchExpoHandler


def main() -> int:
    fake = FakeExpo()
    with serve(bench_handler(fake)) as url:
        print(url, flush=True)
        sys.stdin.read()  # until the bench closes our stdin or exits
    return 0


if __name__ == "__main__":
    sys.exit(main())
