from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_dashboard_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_dashboard_greets_the_signed_in_member(client, member):
    member.preferred_name = "Avi"
    member.save()
    client.force_login(member)
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome back, Avi" in response.content.decode()


def test_unknown_page_is_a_friendly_404(client, member):
    client.force_login(member)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "find that page" in response.content.decode()


def test_base_layout_has_navigation_and_the_unread_count(client, member):
    from accounts.services import notification_create

    notification_create(user=member, kind="test", title="Hello", email=False)
    client.force_login(member)
    html = client.get("/").content.decode()
    for label in ("Dashboard", "Contributions", "Opportunities", "Community", "Profile"):
        assert f">{label}</a>" in html
    assert "Notifications: 1 unread" in html


def test_static_files_are_served_by_the_app_not_a_cdn(client, member):
    client.force_login(member)
    html = client.get("/").content.decode()
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in html
    assert "cdn" not in html.lower()


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    project = ("accounts", "contributions", "engagements", "community_levels", "mahome")
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in project}


def test_seed_demo_is_idempotent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _row_counts()
    call_command("seed_demo", stdout=out)
    assert _row_counts() == first
    assert first["accounts.User"] >= 4
    assert User.objects.filter(email="paul.admin@example.com", groups__name="Program admin").exists()
    assert User.objects.filter(email="vera.verifier@example.com", groups__name="Verifier").exists()


def test_staff_groups_exist_after_migrate():
    from django.contrib.auth.models import Group

    verifier = Group.objects.get(name="Verifier")
    admin = Group.objects.get(name="Program admin")
    assert verifier.permissions.filter(codename="change_contribution").exists()
    assert not verifier.permissions.filter(codename="delete_contribution").exists()
    assert admin.permissions.filter(codename="delete_activitytype").exists()
