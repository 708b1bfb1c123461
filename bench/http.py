"""Load against a real gunicorn: sessions, the server, wrk for page throughput, the sign-up burst.

Requests go to plain HTTP on 127.0.0.1 with `X-Forwarded-Proto: https`, as from the TLS load
balancer in front of production (so the production settings' SSL redirect stays on).
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import env

PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
CSRF_SECRET = "benchcsrfsecretbenchcsrfsecret00"  # 32 characters, sent as cookie and header


def sessions_for(emails: list[str]) -> dict[str, str]:
    """A signed-in session key per email, written straight into the session store (no password round trip)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    backend = settings.AUTHENTICATION_BACKENDS[0]
    keys = {}
    for user in User.objects.filter(email__in=emails):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        if store.session_key is None:  # create() saved the session under a new key
            raise RuntimeError(f"no session key for {user.email}")
        keys[user.email] = store.session_key
    return keys


def cookie_header(session_key: str) -> str:
    from django.conf import settings

    return f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={CSRF_SECRET}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, workers: int = 2, threads: int = 4):
    """gunicorn as in production (README: `--threads 4`), with 2 workers; yields its base URL."""
    port = free_port()
    log = env.VAR / "gunicorn.log"
    process = subprocess.Popen(  # noqa: S603
        [
            str(env.ROOT / ".venv" / "bin" / "gunicorn"),
            "mahome.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=env.ROOT,
        env={**os.environ, **env.django_env()},
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = request(port, "GET", "/healthz")
                if status in (200, 503):
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(port: int, method: str, path: str, *, session: str = "", body: str = "", conn=None):
    """One request; returns (status, location or body)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = dict(PROXY_HEADERS)
    if session:
        headers["Cookie"] = cookie_header(session)
    if method == "POST":
        headers.update(
            {
                "X-CSRFToken": CSRF_SECRET,
                "Referer": f"https://127.0.0.1:{port}/",
                "Content-Type": "application/x-www-form-urlencoded",
            }
        )
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        return response.status, response.getheader("Location") or payload.decode("utf-8", "replace")
    finally:
        if own:
            conn.close()


WRK_SCRIPT = """
wrk.headers["Cookie"] = "%(cookie)s"
wrk.headers["X-Forwarded-Proto"] = "https"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, '
    .. '"not_200": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    b, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class PageLoad:
    path: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int


def wrk_page(port: int, path: str, *, session: str, seconds: int, connections: int = 20) -> PageLoad:
    """Closed-loop load: `connections` clients, each sending its next request when the last answered."""
    status, detail = request(port, "GET", path, session=session)
    if status != 200:
        raise RuntimeError(f"{path} answered {status} ({detail[:200]}) before the load; is the session valid?")
    script = env.VAR / "wrk-session.lua"
    script.write_text(WRK_SCRIPT % {"cookie": cookie_header(session)})
    done = subprocess.run(  # noqa: S603
        [  # noqa: S607 - wrk from the system (scripts/bench installs it)
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    return PageLoad(
        path=path,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=data["not_200"] + data["socket_errors"],
    )


def combined(loads: list[PageLoad]) -> PageLoad:
    """Rounds of one page's load as one: the rate over all their requests and time (each round's rate
    weighed by its duration), the median round's percentiles, every error."""
    seconds = [load.requests / load.rps if load.rps else 0.0 for load in loads]
    requests = sum(load.requests for load in loads)
    return PageLoad(
        path=loads[0].path,
        rps=requests / sum(seconds) if sum(seconds) else 0.0,
        p50_ms=statistics.median(load.p50_ms for load in loads),
        p95_ms=statistics.median(load.p95_ms for load in loads),
        p99_ms=statistics.median(load.p99_ms for load in loads),
        requests=requests,
        errors=sum(load.errors for load in loads),
    )


@dataclass
class Burst:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0


def merged(bursts: list[Burst]) -> Burst:
    """Rounds of one burst as one: the rate over all their requests and time, the percentiles over all
    their latencies, every error."""
    return Burst(
        requests=sum(burst.requests for burst in bursts),
        seconds=sum(burst.seconds for burst in bursts),
        latencies_ms=[latency for burst in bursts for latency in burst.latencies_ms],
        errors=[error for burst in bursts for error in burst.errors],
    )


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the value at or below which pct % of the samples fall)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def signup_burst(port: int, plan: list[list[tuple[str, str]]]) -> Burst:
    """One thread per client; client i POSTs, one after the other, the sign-ups (slug, session) of plan[i].

    Every client connects and then waits at a barrier, so all start together.
    """
    barrier = threading.Barrier(len(plan) + 1)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(items: list[tuple[str, str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        barrier.wait()
        for slug, session in items:
            started = time.perf_counter()
            try:
                status, location = request(port, "POST", f"/engagements/{slug}/sign-up/", session=session, conn=conn)
            except (OSError, http.client.HTTPException) as error:
                status, location = 0, repr(error)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if status != 302 or f"/engagements/{slug}/" not in (location or ""):
                    errors.append(f"{slug}: {status} {str(location)[:120]}")
        conn.close()

    workers = [threading.Thread(target=client, args=(items,)) for items in plan]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return Burst(requests=sum(len(items) for items in plan), seconds=seconds, latencies_ms=latencies, errors=errors)


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, default=str))
