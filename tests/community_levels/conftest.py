from importlib import import_module

import pytest


@pytest.fixture(autouse=True)
def default_ladder(request):
    """The default ladder comes from a data migration; transactional tests (ours or another app's)
    flush it, so put it back for every test that uses the database."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from django.apps import apps

    from community_levels.models import Level

    if not Level.objects.exists():
        import_module("community_levels.migrations.0002_default_ladder").create_ladder(apps, None)
