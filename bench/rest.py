"""REST benchmark: `GET /v1/me` of the real app against a bare Litestar + asyncpg ceiling.

    .venv/bin/python bench/rest.py [--duration 10] [--concurrency 32] [--workers 1]

It starts a throwaway embedded PostgreSQL in a temp dir, migrates it, runs the
real app and the bare app (bench/bare_app.py) as uvicorn processes on
127.0.0.1 with the same settings, signs test users in over HTTP, then drives
each server in turn from a separate load-generator process (keep-alive
HTTP/1.1 over raw asyncio sockets, fixed concurrency, warm-up then a measured
window) and prints one table. Everything it starts is stopped and deleted on
exit, Ctrl-C included. See bench/README.md for how to read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, cast

import msgspec

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
JWT_SECRET = "bench-secret-" + "x" * 40
TEST_PHONE_PREFIX = "+1202555"
TEST_OTP_CODE = "123456"
GOAL = 0.7
IDLE_WARNING = 15.0  # percent of the machine busy before we start


# --------------------------------------------------------------------------
# Load generator (runs in its own process: `rest.py _loadgen`, spec on stdin)
# --------------------------------------------------------------------------


class LoadSpec(msgspec.Struct, frozen=True):
    port: int
    requests: list[bytes]  # complete HTTP/1.1 requests, sent round-robin
    concurrency: int
    warmup: float
    duration: float
    server_pid: int
    postgres_pid: int | None


class LoadResult(msgspec.Struct, frozen=True):
    requests: int
    errors: int
    duration: float
    latencies_us: list[int]  # of every successful request in the window
    server_cpu: float  # percent of one core, over the measured window
    postgres_cpu: float
    loadgen_cpu: float
    machine_busy: float  # percent of all cores
    first_error: str | None


def _ticks(pid: int) -> tuple[int, int] | None:
    """(ppid, utime + stime in clock ticks) of a process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _tree(root: int) -> set[int]:
    """root and all its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = _ticks(int(entry.name))
            if info is not None:
                parents[int(entry.name)] = info[0]
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def _tree_ticks(pids: set[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for pid in pids:
        info = _ticks(pid)
        if info is not None:
            out[pid] = info[1]
    return out


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # guest time is already counted in user
    idle = values[3] + values[4]
    return total - idle, total


class CpuWatch:
    """CPU used by the server tree, the postgres tree, this process and the machine."""

    def __init__(self, server_pid: int, postgres_pid: int | None) -> None:
        self.server = _tree(server_pid)
        self.postgres = _tree(postgres_pid) if postgres_pid else set()
        self.start_server = _tree_ticks(self.server)
        self.start_pg = _tree_ticks(self.postgres)
        self.start_self = self._self_seconds()
        self.start_machine = _machine_ticks()
        self.start_time = time.perf_counter()

    @staticmethod
    def _self_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def percent(self) -> tuple[float, float, float, float]:
        elapsed = time.perf_counter() - self.start_time
        hz = os.sysconf("SC_CLK_TCK")

        def used(start: dict[int, int]) -> float:
            end = _tree_ticks(set(start))
            ticks = sum(end[p] - start[p] for p in start if p in end)
            return 100.0 * ticks / hz / elapsed

        busy, total = _machine_ticks()
        machine = 100.0 * (busy - self.start_machine[0]) / max(1, total - self.start_machine[1])
        own = 100.0 * (self._self_seconds() - self.start_self) / elapsed
        return used(self.start_server), used(self.start_pg), own, machine


class LoadGen:
    """Fixed-concurrency closed loop: each connection sends its next request as
    soon as the previous response is complete (keep-alive, no pipelining)."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.loop = asyncio.get_running_loop()
        self.next_index = 0
        self.measuring = False
        self.stopping = False
        self.window_start = 0.0
        self.window_end = 0.0
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error: str | None = None
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.conns: list[Conn] = []

    def next_request(self) -> bytes:
        request = self.spec.requests[self.next_index]
        self.next_index = (self.next_index + 1) % len(self.spec.requests)
        return request

    def finished(self, started: float, status: int | None, error: str | None) -> None:
        now = time.perf_counter()
        self.in_flight -= 1
        if self.measuring and self.window_start <= now:
            if status == 200:
                self.latencies.append(now - started)
            else:
                self.errors += 1
                if self.first_error is None:
                    self.first_error = error or f"HTTP {status}"
        if self.stopping and self.in_flight == 0:
            self.idle.set()

    async def connect(self) -> Conn:
        _, conn = await self.loop.create_connection(lambda: Conn(self), HOST, self.spec.port)
        return conn

    def on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors += 1
        self.first_error = self.first_error or str(context.get("exception") or context["message"])

    async def run(self) -> LoadResult:
        self.loop.set_exception_handler(self.on_loop_error)
        self.conns = [await self.connect() for _ in range(self.spec.concurrency)]
        for conn in self.conns:
            conn.send()
        await asyncio.sleep(self.spec.warmup)
        watch = CpuWatch(self.spec.server_pid, self.spec.postgres_pid)
        self.window_start = time.perf_counter()
        self.measuring = True
        await asyncio.sleep(self.spec.duration)
        self.stopping = True
        self.window_end = time.perf_counter()
        self.measuring = False
        server_cpu, pg_cpu, own_cpu, machine = watch.percent()
        if self.in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.idle.wait(), timeout=5)
        for conn in self.conns:
            conn.close()
        return LoadResult(
            requests=len(self.latencies),
            errors=self.errors,
            duration=self.window_end - self.window_start,
            latencies_us=[round(s * 1e6) for s in self.latencies],
            server_cpu=server_cpu,
            postgres_cpu=pg_cpu,
            loadgen_cpu=own_cpu,
            machine_busy=machine,
            first_error=self.first_error,
        )


class Conn(asyncio.Protocol):
    """One keep-alive connection; parses just enough HTTP/1.1 to find each response's end."""

    def __init__(self, gen: LoadGen) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.need: int | None = None  # total length of the response being read
        self.status = 0
        self.started = 0.0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self) -> None:
        if self.gen.stopping or self.transport is None or self.transport.is_closing():
            return
        self.busy = True
        self.gen.in_flight += 1
        self.started = time.perf_counter()
        self.transport.write(self.gen.next_request())

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            if self.need is None:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buf[:end]).lower()
                self.status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    self._fail("response without content-length")
                    return
                line_end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
                self.need = end + 4 + length
            if len(buf) < self.need:
                return
            del buf[: self.need]
            self.need = None
            self.busy = False
            self.gen.finished(self.started, self.status, None)
            self.send()

    def _fail(self, why: str) -> None:
        if self.busy:
            self.busy = False
            self.gen.finished(self.started, None, why)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            self.busy = False
            self.gen.finished(self.started, None, f"connection lost: {exc!r}")
        if not self.gen.stopping:
            self.gen.loop.create_task(self._replace())

    async def _replace(self) -> None:
        try:
            conn = await self.gen.connect()
        except OSError as exc:
            self.gen.errors += 1
            self.gen.first_error = self.gen.first_error or f"reconnect failed: {exc!r}"
            await asyncio.sleep(0.1)
            if not self.gen.stopping:
                self.gen.loop.create_task(self._replace())
            return
        self.gen.conns.append(conn)
        conn.send()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _loadgen_main() -> int:
    spec = msgspec.json.decode(sys.stdin.buffer.read(), type=LoadSpec)

    async def go() -> LoadResult:
        return await LoadGen(spec).run()

    try:
        import uvloop
    except ImportError:
        result = asyncio.run(go())
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(go())
    sys.stdout.buffer.write(msgspec.json.encode(result))
    return 0


# --------------------------------------------------------------------------
# The orchestrator
# --------------------------------------------------------------------------


class Interrupted(Exception):
    pass


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"signal {signum}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_options() -> list[str]:
    options = ["--log-level", "warning", "--no-access-log"]
    for module, flag in (("uvloop", "--loop"), ("httptools", "--http")):
        with contextlib.suppress(ImportError):
            __import__(module)
            options += [flag, module]
    return options


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*argv, "--host", HOST, "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop it
            )

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{self.port}{path}", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@contextlib.contextmanager
def started(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


def start_postgres(tmp: Path) -> tuple[Any, str, int | None]:
    from db.embedded import start_embedded_postgres
    from db.migrate import migrate

    handle, url = start_embedded_postgres(tmp / "pg", cleanup_mode="delete")
    asyncio.run(migrate(url))
    pid: int | None = None
    with contextlib.suppress(Exception):
        pid = int(handle.get_pid())
    return handle, url, pid


async def sign_in_users(port: int, count: int) -> list[tuple[str, str]]:
    """Sign `count` test phones in over HTTP; (user id, access token) of each."""
    import httpx

    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
        gate = asyncio.Semaphore(8)

        async def one(n: int) -> tuple[str, str]:
            phone = f"{TEST_PHONE_PREFIX}{n:04d}"
            async with gate:
                sent = await client.post("/v1/auth/otp", json={"phone_number": phone})
                if sent.status_code != 202:
                    raise RuntimeError(f"POST /v1/auth/otp: {sent.status_code} {sent.text}")
                verified = await client.post(
                    "/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE}
                )
                if verified.status_code != 200:
                    raise RuntimeError(f"POST /v1/auth/verify: {verified.status_code}")
                body = verified.json()
                return str(body["user_id"]), str(body["access_token"])

        return list(await asyncio.gather(*(one(n) for n in range(count))))


def build_requests(port: int, path: str, headers: Sequence[str]) -> list[bytes]:
    return [
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n"
        f"{header}\r\n\r\n".encode()
        for header in headers
    ]


def check_once(port: int, request: bytes) -> tuple[int, int]:
    """Send one request the way the load generator will; (status, body bytes)."""
    import httpx

    line, *rest = request.decode().split("\r\n")
    headers = dict(h.split(": ", 1) for h in rest if ": " in h)
    response = httpx.get(f"http://{HOST}:{port}{line.split()[1]}", headers=headers, timeout=10)
    return response.status_code, len(response.content)


def run_load(spec: LoadSpec) -> LoadResult:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_loadgen"],
        input=msgspec.json.encode(spec),
        capture_output=True,
        timeout=spec.warmup + spec.duration + 60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{proc.stderr.decode()[-3000:]}")
    return msgspec.json.decode(proc.stdout, type=LoadResult)


class Row(msgspec.Struct):
    name: str
    results: list[LoadResult]

    def mean(self, pick: Callable[[LoadResult], float]) -> float:
        return sum(pick(r) for r in self.results) / len(self.results)

    def percentile_ms(self, q: float) -> str:
        latencies = sorted(us for r in self.results for us in r.latencies_us)
        if not latencies:
            return "n/a"
        return f"{latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000:.2f}"

    @property
    def rps(self) -> float:
        return sum(r.requests for r in self.results) / sum(r.duration for r in self.results)

    @property
    def server_us_per_request(self) -> float:
        """Server CPU time per answered request: less sensitive to other load than requests/s."""
        return (
            self.mean(lambda r: r.server_cpu) / 100 / self.rps * 1e6 if self.rps else float("nan")
        )

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.results)


def render(rows: list[Row]) -> str:
    header = (
        "| server | requests/s | p50 ms | p99 ms | errors | server CPU µs/req "
        "| server CPU | postgres CPU | loadgen CPU | machine busy |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.rps:,.0f} | {row.percentile_ms(0.50)} "
            f"| {row.percentile_ms(0.99)} | {row.errors} | {row.server_us_per_request:.0f} "
            f"| {row.mean(lambda r: r.server_cpu):.0f}% "
            f"| {row.mean(lambda r: r.postgres_cpu):.0f}% "
            f"| {row.mean(lambda r: r.loadgen_cpu):.0f}% "
            f"| {row.mean(lambda r: r.machine_busy):.0f}% |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/rest.py", description="GET /v1/me: the real app against a bare ceiling."
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--users", type=int, default=200, help="signed-in users to rotate")
    parser.add_argument("--pool-min", type=int, default=2, help="asyncpg pool min size")
    parser.add_argument("--pool-max", type=int, default=10, help="asyncpg pool max size")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the runs, pooled")
    parser.add_argument(
        "--no-ping", action="store_true", help="skip the load-generator check (bare, no query)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 10_000:
        parser.error("--users must be between 1 and 10000 (four digits of test phone)")
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--duration, --concurrency and --rounds must be positive")
    return args


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_revision() -> str:
    """The commit measured, with "+changes" when the working tree differs from it."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return rev.strip() + ("+changes" if dirty.strip() else "")


def machine_busy(seconds: float = 1.0) -> float:
    """Percent of all cores in use over `seconds`: other load skews the numbers."""
    busy0, total0 = _machine_ticks()
    time.sleep(seconds)
    busy1, total1 = _machine_ticks()
    return 100.0 * (busy1 - busy0) / max(1, total1 - total0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    busy_before = machine_busy()
    if busy_before > IDLE_WARNING:
        print(
            f"warning: the machine is already {busy_before:.0f}% busy: expect low, noisy numbers",
            file=sys.stderr,
        )
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.path.insert(0, str(ROOT))
    uvicorn = [sys.executable, "-m", "uvicorn", "--workers", str(args.workers)]
    uvicorn += uvicorn_options()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="momento-bench-")))
        print(f"starting embedded PostgreSQL in {tmp} ...", file=sys.stderr)
        handle, url, pg_pid = start_postgres(tmp)
        stack.callback(handle.cleanup)

        base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        real_env = base_env | {
            "DATABASE_URL": url,
            "DATABASE_POOL_MIN": str(args.pool_min),
            "DATABASE_POOL_MAX": str(args.pool_max),
            "JWT_SECRET": JWT_SECRET,
            "MOMENTO_ENV": "test",
            "AUTH_TEST_PHONE_PREFIX": TEST_PHONE_PREFIX,
            "AUTH_TEST_OTP_CODE": TEST_OTP_CODE,
            "LOG_LEVEL": "WARNING",
            "RUN_WORKERS_IN_WEB": "false",
            "ACCESS_TOKEN_TTL_SECONDS": "86400",
            # Every sign-in comes from 127.0.0.1.
            "OTP_SENDS_PER_IP_PER_HOUR": "1000000",
            "OTP_VERIFIES_PER_IP_PER_HOUR": "1000000",
        }
        bare_env = base_env | {
            "BENCH_DATABASE_URL": url,
            "BENCH_POOL_MIN": str(args.pool_min),
            "BENCH_POOL_MAX": str(args.pool_max),
        }
        real = stack.enter_context(
            started(
                Server(
                    "real",
                    [*uvicorn, "--factory", "server.app:create_app"],
                    real_env,
                    tmp / "real.log",
                )
            )
        )
        bare = stack.enter_context(
            started(
                Server(
                    "bare",
                    [*uvicorn, "--factory", "--app-dir", "bench", "bare_app:create_app"],
                    bare_env,
                    tmp / "bare.log",
                )
            )
        )
        real.wait_ready("/health")
        bare.wait_ready("/ping")

        print(f"signing in {args.users} test users ...", file=sys.stderr)
        users = asyncio.run(sign_in_users(real.port, args.users))
        targets: list[tuple[str, Server, list[bytes]]] = []
        if not args.no_ping:
            ping = build_requests(bare.port, "/ping", ["X-Bench: ping"])
            targets.append(("bare, no query (loadgen check)", bare, ping))
        bare_me = build_requests(bare.port, "/v1/me", [f"X-User-Id: {uid}" for uid, _ in users])
        real_me = build_requests(
            real.port, "/v1/me", [f"Authorization: Bearer {token}" for _, token in users]
        )
        targets += [("bare /v1/me (ceiling)", bare, bare_me), ("real /v1/me", real, real_me)]
        for name, server, requests in targets:
            status, size = check_once(server.port, requests[0])
            if status != 200:
                raise RuntimeError(f"{name}: first request answered {status}")
            print(f"{name}: HTTP {status}, {size} bytes of JSON", file=sys.stderr)

        rows = [Row(name=name, results=[]) for name, _, _ in targets]
        for round_no in range(args.rounds):
            for row, (name, server, requests) in zip(rows, targets, strict=True):
                print(
                    f"round {round_no + 1}/{args.rounds}: {name}, "
                    f"{args.warmup:g}s warm-up + {args.duration:g}s ...",
                    file=sys.stderr,
                )
                spec = LoadSpec(
                    port=server.port,
                    requests=requests,
                    concurrency=args.concurrency,
                    warmup=args.warmup,
                    duration=args.duration,
                    server_pid=server.proc.pid,
                    postgres_pid=pg_pid,
                )
                result = run_load(spec)
                if result.first_error:
                    print(f"  first error: {result.first_error}", file=sys.stderr)
                row.results.append(result)

        print()
        print(
            f"GET /v1/me, {datetime.date.today()}, {git_revision()}, {os.cpu_count()} cores "
            f"({cpu_model()}), python {platform.python_version()}, "
            f"concurrency {args.concurrency}, {args.workers} uvicorn worker(s), "
            f"pool {args.pool_min}-{args.pool_max}, {args.users} users, "
            f"{args.warmup:g}s warm-up + {args.duration:g}s x {args.rounds}"
        )
        print()
        print(render(rows))
        real_row, bare_row = rows[-1], rows[-2]
        ratio = real_row.rps / bare_row.rps if bare_row.rps else float("nan")
        verdict = "meets" if ratio >= GOAL else "BELOW"
        print()
        print(f"real / bare requests/s: {ratio:.2f}x ({verdict} the {GOAL:.1f}x goal)")
        print(
            f"server CPU per request, real / bare: "
            f"{real_row.server_us_per_request / bare_row.server_us_per_request:.2f}x"
        )
        if busy_before > IDLE_WARNING:
            print(f"note: the machine was {busy_before:.0f}% busy before the bench started")
        ping_row = rows[0] if not args.no_ping else None
        if ping_row is not None and ping_row.rps < rows[-2].rps * 1.2:
            print("warning: the load generator barely outruns the bare handler", file=sys.stderr)
        return 1 if any(row.errors for row in rows) else 0


def run_main(main: Callable[[], int], started: str) -> int:
    """A bench's exit status: Ctrl-C or SIGTERM (`Interrupted`) stops what it
    `started` and cleans up (the bench's own finally blocks); a RuntimeError
    is reported in one line."""
    try:
        return main()
    except (KeyboardInterrupt, Interrupted):
        print(f"interrupted: stopped {started} and deleted the temp dir", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1


def _entry() -> int:
    if sys.argv[1:2] == ["_loadgen"]:
        return _loadgen_main()
    return run_main(main, "the servers")


if __name__ == "__main__":
    sys.exit(_entry())
