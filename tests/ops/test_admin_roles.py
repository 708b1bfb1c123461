"""What each staff role may do in the admin (issue 11, item 3).

Verifiers decide contributions and sign-ups and read everything else: no import, no scoring
change, no year-end review, no ladder editing. What a role cannot use is not shown, and a
refused admin URL answers with the admin's own 403 page.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from accounts.roles import PROGRAM_APPS
from community_levels.models import CommunityMember
from contributions.models import Contribution
from engagements.models import SignUp
from tests.factories import CommunityMemberFactory, ProgramYearFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

ADMIN_HEADER = "MA Home — program administration"


@pytest.fixture
def verifier_client(client, verifier):
    client.force_login(with_mfa(verifier))
    return client


@pytest.fixture
def admin_client_(client, program_admin):
    client.force_login(with_mfa(program_admin))
    return client


def _assert_admin_403(response) -> None:
    assert response.status_code == 403
    html = response.content.decode()
    assert ADMIN_HEADER in html, "a refused admin URL shows the admin's own 403 page"
    assert "Go to your dashboard" not in html
    assert "You do not have permission" in html


def test_every_admin_action_says_which_permission_it_needs():
    """An action without `allowed_permissions` is offered to anyone who can read the list.

    The project's own admins; third-party ones (allauth, celery beat) are the program admins' alone."""
    missing = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in PROGRAM_APPS:
            continue
        for name in model_admin.actions or ():
            function = model_admin.get_action(name)[0] if isinstance(name, str) else name
            if not getattr(function, "allowed_permissions", None):
                missing.append(f"{model._meta.label}.{getattr(function, '__name__', name)}")
    assert not missing, f"actions without allowed_permissions: {missing}"


def test_a_verifier_cannot_exclude_a_members_community_events_from_scoring(verifier_client):
    community_member = CommunityMemberFactory()
    response = verifier_client.get("/admin/community_levels/communitymember/")
    assert "exclude_members" not in response.content.decode()
    verifier_client.post(
        "/admin/community_levels/communitymember/",
        {"action": "exclude_members", ACTION_CHECKBOX_NAME: [community_member.pk], "index": 0},
    )
    assert not CommunityMember.objects.get(pk=community_member.pk).is_excluded


@pytest.mark.parametrize(
    "path",
    [
        "/admin/community_levels/activityevent/import/",
        "/admin/contributions/requirementstatus/import/",
        "/admin/accounts/macertification/import/",
        "/admin/accounts/macertification/provision/",
        "/admin/community_levels/level/preview/",
    ],
)
def test_a_verifier_is_refused_imports_provisioning_and_the_ladder_editor_with_the_admin_403(verifier_client, path):
    _assert_admin_403(verifier_client.get(path))


def test_a_verifier_is_refused_the_year_end_review(verifier_client):
    year = ProgramYearFactory(year=2026)
    _assert_admin_403(verifier_client.get(f"/admin/contributions/programyear/{year.pk}/review/"))
    report = verifier_client.get(f"/admin/contributions/programyear/{year.pk}/report/").content.decode()
    assert f"/admin/contributions/programyear/{year.pk}/review/" not in report
    changelist = verifier_client.get("/admin/contributions/programyear/").content.decode()
    assert "year_end_review" not in changelist


@pytest.mark.parametrize(
    ("path", "button"),
    [
        ("/admin/community_levels/level/", "/admin/community_levels/level/preview/"),
        ("/admin/community_levels/activityevent/", "/admin/community_levels/activityevent/import/"),
        ("/admin/contributions/requirementstatus/", "/admin/contributions/requirementstatus/import/"),
    ],
)
def test_a_verifier_is_not_shown_buttons_they_cannot_use(verifier_client, path, button):
    assert button not in verifier_client.get(path).content.decode()


@pytest.mark.parametrize(
    ("path", "button"),
    [
        ("/admin/community_levels/level/", "/admin/community_levels/level/preview/"),
        ("/admin/community_levels/activityevent/", "/admin/community_levels/activityevent/import/"),
        ("/admin/contributions/requirementstatus/", "/admin/contributions/requirementstatus/import/"),
    ],
)
def test_a_program_admin_still_has_those_buttons(admin_client_, path, button):
    assert button in admin_client_.get(path).content.decode()


def test_a_verifier_still_decides_contributions_and_sign_ups(verifier, rf):
    for model, expected in ((Contribution, "verify_at_claimed"), (SignUp, "complete")):
        request = rf.get("/admin/")
        request.user = verifier
        assert expected in admin.site._registry[model].get_actions(request)


def test_a_member_refused_outside_the_admin_still_gets_the_member_page(client, member):
    client.force_login(member)
    response = client.get("/admin/")
    assert response.status_code == 302  # to the admin's sign-in, which refuses members
