"""The security tests share one world per module (see world.py)."""

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.world import world_build


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at its end; each
    test runs in a savepoint of it (pytest-django's `db`), so nothing leaks between tests."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    with django_db_blocker.unblock(), media, transaction.atomic():
        yield world_build()
        transaction.set_rollback(True)
