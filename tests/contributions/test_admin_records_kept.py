"""Records others rely on are never deleted through the admin (issue 11, item 6).

Certificates (an employer's /verify/ link), review outcomes (the year-end review's record),
contributions (points: automatically credited ones would be silently credited again, decided ones
are corrected with a reason) and members' opt-outs (a member's own choice: staff take one back with a
reason the member is told, tests/contributions/test_opt_out_taken_back.py) have no delete permission
and no delete action for anyone, a superuser included; their lists say what they are.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from contributions.models import Certificate, Contribution, OptOut, ReviewOutcome
from tests.factories import ContributionFactory, ProgramYearFactory, StaffFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(member):
    year = ProgramYearFactory(year=2025, target_points=400)
    auto = ContributionFactory(
        member=member,
        activity_type__program_year=year,
        state=Contribution.State.VERIFIED,
        source=Contribution.Source.COMMUNITY,
        source_key="community:2025:replies:1",
        awarded_points=40,
    )
    manual = ContributionFactory(member=member, activity_type__program_year=year, state=Contribution.State.VERIFIED)
    outcome = ReviewOutcome.objects.create(
        member=member,
        program_year=year,
        outcome=ReviewOutcome.Outcome.RECERTIFIED,
        target_points=400,
        verified_points=410,
    )
    certificate = Certificate.objects.create(
        member=member,
        program_year=year,
        year=2026,
        number="MA-2026-900042",
        valid_from=year.deadline,
        valid_until=year.deadline.replace(year=2027),
    )
    opt_out = OptOut.objects.create(member=member, program_year=ProgramYearFactory(year=2027), reason="Parental leave")
    return {"auto": auto, "manual": manual, "outcome": outcome, "certificate": certificate, "opt_out": opt_out}


@pytest.fixture(params=["superuser", "program_admin"])
def staff(request, program_admin, admin_user):
    return admin_user if request.param == "superuser" else with_mfa(program_admin)


def _path(obj, suffix: str = "") -> str:
    opts = obj._meta
    return f"/admin/{opts.app_label}/{opts.model_name}/{suffix}"


@pytest.mark.parametrize("name", ["auto", "manual", "outcome", "certificate", "opt_out"])
def test_no_one_deletes_a_kept_record_through_the_admin(client, staff, records, name, rf):
    obj = records[name]
    client.force_login(staff)
    request = rf.get("/admin/")
    request.user = staff
    model_admin = admin.site._registry[type(obj)]
    assert not model_admin.has_delete_permission(request, obj)
    assert "delete_selected" not in model_admin.get_actions(request)
    assert client.get(_path(obj, f"{obj.pk}/delete/")).status_code == 403
    assert client.post(_path(obj, f"{obj.pk}/delete/"), {"post": "yes"}).status_code == 403
    client.post(_path(obj), {"action": "delete_selected", ACTION_CHECKBOX_NAME: [obj.pk], "post": "yes"})
    assert type(obj).objects.filter(pk=obj.pk).exists()
    change_page = client.get(_path(obj, f"{obj.pk}/change/")).content.decode()
    assert f"{obj.pk}/delete/" not in change_page


def test_deleting_a_member_who_has_kept_records_is_refused(client, admin_user, records, member):
    client.force_login(admin_user)
    response = client.get(f"/admin/accounts/user/{member.pk}/delete/")
    assert response.status_code == 200
    assert response.context["perms_lacking"] or response.context["protected"]
    client.post(f"/admin/accounts/user/{member.pk}/delete/", {"post": "yes"})
    assert type(member).objects.filter(pk=member.pk).exists()
    assert ReviewOutcome.objects.filter(pk=records["outcome"].pk).exists()


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/admin/contributions/reviewoutcome/", "written by the year-end review"),
        ("/admin/contributions/certificate/", "revoked or re-issued with a reason, never deleted"),
        ("/admin/contributions/contribution/", "corrected or reopened with a reason, never deleted"),
    ],
)
def test_the_lists_say_what_they_are(client, records, path, words):
    client.force_login(with_mfa(StaffFactory(email="root2@example.com", is_superuser=True)))
    assert words in client.get(path).content.decode()
