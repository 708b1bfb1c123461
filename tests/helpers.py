"""Helpers the tests import: paths, throwaway services, the browser's sign-in and screenshots, staff MFA.

Fixtures live in `tests/conftest.py` (pytest finds them by name); everything a test module imports
by name lives here, in a plain module.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections, transaction
from joserfc.jwk import ECKey

from tests.idp.servers import free_port

__all__ = [
    "BASE_DIR",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "PRODUCTION_ENV",
    "SCREENSHOT_DIR",
    "STAFF_TOTP_SECRET",
    "free_port",
    "held_open",
    "screenshot",
    "sign_in",
    "sign_in_fast",
    "throwaway_redis",
    "wait_for_port",
    "with_mfa",
]

BASE_DIR = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = BASE_DIR / "var" / "screenshots"
CHROMIUM = os.environ.get("MAHOME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def throwaway_redis(port: int | None = None) -> Iterator[str]:
    """A private redis-server on a free port (never the machine's shared one)."""
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="mahome-redis-")
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


# A production-like environment for tests that load mahome.settings.production.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "production-like-secret-key-for-the-header-tests-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "mahome.example.com,testserver",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mahome",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.example.com:587",
    "DEFAULT_FROM_EMAIL": "MA Home <mahome@example.com>",
    "MAHOME_MEDIA_ROOT": "/srv/mahome/media",
    # A throwaway credential signing key (production requires one; docs/credentials.md).
    "MAHOME_CREDENTIAL_SIGNING_KEY": ECKey.generate_key("P-256", private=True).as_pem(private=True).decode(),
}


# --- Browser ------------------------------------------------------------------------------


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/ (git-ignored) and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, user, *, password: str | None = None) -> None:
    """Sign in through the real allauth page."""
    from tests.factories import TEST_PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_role("button", name="Continue").click()  # email first, then the password step
    page.get_by_label("Password").fill(password or TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def sign_in_fast(page, live_server, user) -> None:
    """Give the browser an authenticated session cookie without going through the form."""
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


# --- Staff MFA ----------------------------------------------------------------------------
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def staff_code(*, margin: float = 2.0) -> str:
    """The staff authenticator's current code, taken early enough in its 30 s period that the server
    checks it in the same period (allauth accepts the current period only): closer than `margin`
    seconds to the end, it waits for the next period."""
    from allauth.mfa import app_settings as mfa_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(STAFF_TOTP_SECRET, int(time.time()) // period))


def sign_in_staff(page, staff) -> None:
    """Sign a staff member in through the real pages: password, then the authenticator code; returns once
    the browser has left the code page (a `goto` before that would cancel the code's POST)."""
    sign_in(page, staff)
    page.get_by_label("Authenticator code").fill(staff_code())
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)


def with_mfa(user):
    """Staff reach /admin/ only with an authenticator app: give `user` one (idempotent)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, STAFF_TOTP_SECRET)
    return user


@contextmanager
def held_open(write) -> Iterator[threading.Event]:
    """`write` runs in a transaction on a thread of its own (its own connection), left uncommitted until the
    event this yields is set (a timer can set it while the block waits on the writer's locks) or the block
    ends; what the writer raised fails the test."""
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer():
        try:
            with transaction.atomic():
                write()
                written.set()
                release.wait(timeout=30)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            written.set()
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(timeout=30)
        assert not errors
        yield release
    finally:
        release.set()
        thread.join(timeout=30)
    assert not errors


def migrate_to(target: tuple[str, str]):
    """Migrate `target`'s app to `target` (every other app at its latest migration); returns the models
    as they are there (the historical apps, for a data migration's test)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = [node for node in executor.loader.graph.leaf_nodes() if node[0] != target[0]] + [target]
    executor.migrate([target])
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """Every app at its latest migration: as the other tests expect the database after a migration's test."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
