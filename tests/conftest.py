"""Shared fixtures: people of every role, a real browser. What a test imports by name (helpers,
constants) lives in `tests/helpers.py`; factories in `tests/factories.py`."""

import os
from pathlib import Path

import pytest

from accounts.roles import PROGRAM_ADMIN, VERIFIER
from tests.factories import StaffFactory, UserFactory
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, with_mfa

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by
# the test itself between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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


@pytest.fixture(autouse=True)
def celery_join_flag_clear():
    """Celery keeps "a task runs in this process" in one process-wide flag, which an eager task sets and then
    puts back as it found it. Eager tasks running at once in several threads (200 sign-ups over the live
    server, two admins pressing the final run together) can leave it set after their test: A saves False
    and sets it, B saves True, A puts back False, B puts back True. Every later `result.get()` in the process
    then raises "Never call result.get() within a task!" in whichever test comes next. A serial run hid it
    (pytest-django runs the transactional tests, where such threads are, after all the others); pytest-xdist's
    workers run whole modules in another order. Each test starts with the flag clear."""
    from celery.result import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture
def without_history_middleware(settings):
    """Remove simple-history's request middleware: the actor in the history must then come from the
    service itself, as it must for Celery tasks and commands, which have no request."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "simple_history.middleware.HistoryRequestMiddleware"]
