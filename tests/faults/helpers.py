"""Helpers of the fault tests: real web servers, Celery workers and commands against a database.

The processes use tests/faults/settings.py (the test settings with a real broker). Against the
pytest database they need `django_db(transaction=True)`, so what the test writes is committed and
what they write is visible to the test.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.helpers import BASE_DIR, free_port, wait_for_port

FAULTS_SETTINGS = "tests.faults.settings"


def test_database_url() -> str:
    """The URL of the database pytest-django created (test_mahome_<suffix>), for subprocesses."""
    from django.db import connection

    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def process_env(*, database_url: str, broker_url: str = "", settings: str = FAULTS_SETTINGS, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")}
    env |= {"DJANGO_SETTINGS_MODULE": settings, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    return env | extra


def wait_for(condition: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = "") -> object:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def celery_worker(env: dict, *, log: Path) -> Iterator[subprocess.Popen]:
    """A real `celery worker --pool=solo` on the queue env["FAULTS_QUEUE"]; its output goes to `log`."""
    queue = env.get("FAULTS_QUEUE", "celery")
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mahome",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-n",
                f"faults-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        _stop(process)


@contextmanager
def gunicorn(env: dict, *, log: Path | None = None) -> Iterator[str]:
    """A real gunicorn (one worker, two threads) serving MA Home; yields its base URL."""
    port = free_port()
    output = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mahome.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=30)
        # The master binds the port before its worker has loaded Django: wait until a request is
        # answered at all, so a test's own timeouts measure the app, not a cold start on a busy machine.
        _wait_for_http(f"http://127.0.0.1:{port}/robots.txt", timeout=90)
        yield f"http://127.0.0.1:{port}"
        assert process.poll() is None, "the web process must not have died"
    finally:
        _stop(process)
        if log:
            output.close()


def _wait_for_http(url: str, *, timeout: float) -> None:
    import urllib.error
    import urllib.request

    def answered() -> bool:
        try:
            urllib.request.urlopen(url, timeout=5).close()
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the worker is up
        except OSError:
            return False
        return True

    wait_for(answered, timeout=timeout, interval=0.2, what=f"the web worker to answer {url}")


@contextmanager
def frozen_service() -> Iterator[str]:
    """A port that accepts connections and never answers (a frozen Redis, a half-dead network path)."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)  # the kernel completes the handshakes; nobody ever reads or writes
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def manage(env: dict, *args: str, **kwargs) -> subprocess.Popen:
    """Start `python manage.py <args>` (not waited for)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=kwargs.pop("stdout", subprocess.DEVNULL),
        stderr=kwargs.pop("stderr", subprocess.PIPE),
        **kwargs,
    )


def kill_hard(process: subprocess.Popen) -> bool:
    """SIGKILL `process` (no cleanup, as the kernel's OOM killer or a lost node would); True if it was running."""
    if process.poll() is not None:
        return False
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return True


def send_task(broker_url: str, name: str, *, queue: str, args: tuple = ()) -> None:
    """Publish a task by name to the throwaway broker, for the real worker (never run eagerly here)."""
    import warnings

    from celery.exceptions import AlwaysEagerIgnored

    from mahome.celery import app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        with app.connection_for_write(broker_url) as connection:
            app.send_task(name, args=args, queue=queue, connection=connection)


def session_cookie(user) -> dict:
    """A signed-in session for `user` in the test database, as the cookie a browser would send."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return {"sessionid": session.session_key}


def csrf_post(http: requests.Session, url: str, data: dict, *, form_page: str, timeout: float) -> requests.Response:
    """Open the page with the form (for its CSRF cookie), then POST as the browser would."""
    http.get(form_page, timeout=timeout).raise_for_status()
    token = http.cookies.get("csrftoken")
    return http.post(url, data={"csrfmiddlewaretoken": token, **data}, headers={"Referer": form_page}, timeout=timeout)


# --- Community activity ----------------------------------------------------------------------

ACTIVITY_KINDS = ("visit", "read", "reply", "post", "like_given", "like_received", "accepted_solution", "comment")


def write_activity_file(path: Path, *, members: int, per_member: int) -> int:
    """A JSON Lines file of varied activity (some replayed lines, some self-likes); returns the distinct events."""
    import json
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    lines, distinct = [], 0
    for m in range(members):
        span = 1 + (m * 37) % 120  # from one day of activity to four months
        for i in range(per_member * (1 + m % 3)):
            kind = ACTIVITY_KINDS[(m * 7 + i * 3 + i // 5) % len(ACTIVITY_KINDS)]
            event = {
                "event_id": f"m{m}-{i}",
                "member_id": f"cm{m}",
                "kind": kind,
                "occurred_at": (start + timedelta(days=(i * 13) % span, minutes=i)).isoformat(),
            }
            if i == 0:
                event |= {"email": f"cm{m}@community.example", "username": f"user{m}"}
            if kind in ("visit", "read"):
                event["minutes"] = 1 + (i % 9)
            if kind.startswith("like"):
                event["target_member_id"] = f"cm{m if i % 11 == 0 else (m + 1) % members}"
            line = json.dumps(event)
            lines.append(line)
            distinct += 1
            if i % 97 == 5:
                lines.append(line)  # a replayed line
    path.write_text("\n".join(lines) + "\n")
    return distinct


def community_state() -> dict:
    """Everything ingestion and recompute decide, keyed by community ids (not database ids)."""
    from django.db.models import Count, Exists, OuterRef

    from community_levels.metrics import METRICS
    from community_levels.models import ActivityEvent, CommunityMember, DailyActivity, LevelChange, PendingRecompute

    history = list(
        LevelChange.objects.values_list("member__external_id", "from_level__name", "to_level__name").order_by(
            "member__external_id", "pk"
        )
    )
    return {
        "events": ActivityEvent.objects.count(),
        "events_per_member": sorted(
            ActivityEvent.objects.values_list("member__external_id").annotate(n=Count("pk")).order_by()
        ),
        "daily": sorted(
            DailyActivity.objects.values_list("member__external_id", "day", "kind", "quantity", "minutes", "events")
        ),
        "members": sorted(
            CommunityMember.objects.annotate(
                needs_recompute=Exists(PendingRecompute.objects.filter(member=OuterRef("pk")))
            ).values_list(
                "external_id",
                "email",
                "passive_score",
                "active_score",
                "level__name",
                "needs_recompute",
                *(metric.column for metric in METRICS),
            )
        ),
        "level_history": history,
    }


def community_reset(*, keep_activity: bool) -> None:
    """Back to before the run: no levels or history (and, unless kept, no activity at all)."""
    from community_levels.metrics import METRICS
    from community_levels.models import ActivityEvent, CommunityMember, LevelChange, PendingRecompute, RecomputeRun

    LevelChange.objects.all().delete()
    RecomputeRun.objects.all().delete()
    if keep_activity:
        CommunityMember.objects.update(
            level=None,
            level_changed_at=None,
            passive_score=0,
            active_score=0,
            **{metric.column: 0 for metric in METRICS},
        )
        PendingRecompute.objects.bulk_create(
            [PendingRecompute(member_id=pk) for pk in CommunityMember.objects.values_list("pk", flat=True)],
            ignore_conflicts=True,
        )
    else:
        ActivityEvent.objects.all().delete()
        CommunityMember.objects.all().delete()  # cascades to the daily aggregates
