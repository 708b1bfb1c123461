from importlib import import_module

import pytest


@pytest.fixture(autouse=True)
def data_migrations_back(request):
    """Transactional tests flush the ladder and the staff groups that data migrations created."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from django.apps import apps

    from accounts.roles import roles_sync_permissions
    from community_levels.models import Level

    if not Level.objects.exists():
        import_module("community_levels.migrations.0002_default_ladder").create_ladder(apps, None)
    roles_sync_permissions()
