"""Shared fixtures: people of every role, a real browser, throwaway services."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from accounts.roles import PROGRAM_ADMIN, VERIFIER
from tests.factories import StaffFactory, UserFactory
from tests.idp.servers import free_port

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by
# the test itself between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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


@pytest.fixture
def member(db):
    return UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")


@pytest.fixture
def other_member(db):
    return UserFactory(email="ben@example.com", first_name="Ben", last_name="Okafor")


@pytest.fixture
def verifier(db):
    return StaffFactory(email="vera@example.com", first_name="Vera", groups=[VERIFIER])


@pytest.fixture
def program_admin(db):
    return StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN])


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
        _wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
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


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}; scripts/test installs it.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


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


def with_mfa(user):
    """Staff reach /admin/ only with an authenticator app: give `user` one (idempotent)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, STAFF_TOTP_SECRET)
    return user


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's superuser, with the MFA that staff need before they reach the admin."""
    user = django_user_model.objects.create_superuser(email="admin@example.com", password="password")
    return with_mfa(user)


@pytest.fixture(autouse=True)
def default_ladder(request):
    """The default community ladder comes from a data migration; transactional tests flush it,
    so put it back for every test that uses the database (one EXISTS query when it is there)."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from importlib import import_module

    from django.apps import apps

    from community_levels.models import Level

    if not Level.objects.exists():
        import_module("community_levels.migrations.0002_default_ladder").create_ladder(apps, None)


@pytest.fixture
def without_history_middleware(settings):
    """Remove simple-history's request middleware: the actor in the history must then come from the
    service itself, as it must for Celery tasks and commands, which have no request."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "simple_history.middleware.HistoryRequestMiddleware"]
