"""Roles that hold (issue 11, item 2): only superusers change superuser status, groups and permissions;
a program admin may make someone a Verifier or a Program admin and nothing more, and history says who."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.models import User
from accounts.roles import PROGRAM_ADMIN, VERIFIER, user_staff_role
from tests.factories import StaffFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

ELEVATED = ("is_superuser", "groups", "user_permissions")


def _change_form(client, user: User):
    response = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert response.status_code == 200
    return response, response.context["adminform"].form


def _post_data(form) -> dict:
    """The change form as the browser would post it, unchanged."""
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        if hasattr(value, "tzinfo") and hasattr(value, "hour"):  # the admin's split date and time widget
            data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        elif name in ("groups", "user_permissions"):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif value is True:
            data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = str(value) if not hasattr(value, "pk") else value.pk
    return data


@pytest.fixture
def staff_client(client, program_admin):
    client.force_login(with_mfa(program_admin))
    return client


def test_a_program_admin_is_not_shown_superuser_groups_or_permissions(staff_client, member):
    response, form = _change_form(staff_client, member)
    for name in ELEVATED:
        assert name not in form.fields
    assert 'name="is_superuser"' not in response.content.decode()
    assert "staff_role" in form.fields


def test_a_program_admin_cannot_grant_superuser_even_by_posting_the_field(staff_client, member):
    _response, form = _change_form(staff_client, member)
    data = _post_data(form)
    data.update(is_superuser="on", is_staff="on", groups=[Group.objects.get(name=PROGRAM_ADMIN).pk], staff_role="")
    response = staff_client.post(f"/admin/accounts/user/{member.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    assert not member.is_superuser
    assert not member.is_staff
    assert not member.groups.exists()


def test_a_program_admin_makes_a_member_a_verifier_and_history_names_them(staff_client, member, program_admin):
    _response, form = _change_form(staff_client, member)
    data = _post_data(form)
    data["staff_role"] = VERIFIER
    response = staff_client.post(f"/admin/accounts/user/{member.pk}/change/", data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_staff and not member.is_superuser
    assert list(member.groups.values_list("name", flat=True)) == [VERIFIER]
    latest = member.history.order_by("-history_date").first()
    assert latest.history_user == program_admin
    assert "Verifier" in latest.history_change_reason


def test_a_program_admin_cannot_change_or_delete_a_superuser(staff_client):
    root = StaffFactory(email="root@example.com", is_superuser=True)
    response = staff_client.get(f"/admin/accounts/user/{root.pk}/change/")
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert staff_client.post(f"/admin/accounts/user/{root.pk}/change/", {"email": "x@example.com"}).status_code == 403
    assert staff_client.get(f"/admin/accounts/user/{root.pk}/password/").status_code == 403
    assert staff_client.get(f"/admin/accounts/user/{root.pk}/delete/").status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.com"


def test_a_superuser_still_sees_and_sets_every_permission_field(client, admin_user, member):
    client.force_login(admin_user)
    _response, form = _change_form(client, member)
    for name in ELEVATED:
        assert name in form.fields


def test_the_role_service_refuses_anything_beyond_the_two_roles_for_a_non_superuser(member, program_admin):
    with pytest.raises(PermissionDenied):
        services.user_set_staff_role(user=member, role="Superuser", actor=program_admin)
    root = StaffFactory(email="root@example.com", is_superuser=True)
    with pytest.raises(PermissionDenied):
        services.user_set_staff_role(user=root, role=VERIFIER, actor=program_admin)
    verifier = StaffFactory(email="v2@example.com", groups=[VERIFIER])
    with pytest.raises(PermissionDenied):
        services.user_set_staff_role(user=member, role=VERIFIER, actor=verifier)


def test_removing_a_role_takes_staff_access_away_and_records_the_actor(member, program_admin):
    member = services.user_set_staff_role(user=member, role=PROGRAM_ADMIN, actor=program_admin)
    assert user_staff_role(member) == PROGRAM_ADMIN
    services.user_set_staff_role(user=member, role="", actor=program_admin)
    member.refresh_from_db()
    assert not member.is_staff and not member.groups.exists()
    assert user_staff_role(member) == ""
    assert member.history.order_by("-history_date").first().history_user == program_admin
