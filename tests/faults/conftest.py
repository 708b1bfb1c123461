"""Fixtures of the fault tests; their helpers (servers, workers, commands) are in `tests/faults/helpers.py`."""

from importlib import import_module

import pytest


@pytest.fixture(autouse=True)
def default_ladder(request):
    """The ladder comes from a data migration that transactional tests flush: put it back."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from django.apps import apps

    from community_levels.models import Level

    if not Level.objects.exists():
        import_module("community_levels.migrations.0002_default_ladder").create_ladder(apps, None)
