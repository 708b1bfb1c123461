"""Human validation (issue 11, item 9): every constraint speaks in words, program years neither
overlap nor last more than a year and a few weeks, and capacity is at least 1 or unlimited.

Staff saw `Constraint "programyear_deadline_after_open" is violated.`; these tests post bad data
in the admin's own forms and look for the words instead.
"""

from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from contributions import services
from contributions.models import ProgramYear
from tests.factories import ActivityTypeFactory, BossProgramWindowFactory, OpportunityFactory, ProgramYearFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("accounts", "contributions", "engagements", "community_levels", "mahome")


def _constraints():
    for model in apps.get_models():
        if model._meta.app_label in PROJECT_APPS and not model.__name__.startswith("Historical"):
            for constraint in model._meta.constraints:
                yield model, constraint


def test_every_constraint_of_every_app_has_a_message_in_words():
    missing = [
        f"{model._meta.label}: {constraint.name}"
        for model, constraint in _constraints()
        if constraint.violation_error_message == constraint.default_violation_error_message
        or constraint.name in str(constraint.violation_error_message)
    ]
    assert not missing, f"constraints without a message in words: {missing}"


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _form_data(response) -> dict:
    """What the admin's form would post unchanged: its fields and every inline's management form."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if callable(value):
            value = value()
        if value is None or value is False:
            continue
        if hasattr(value, "hour"):
            data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        elif value is True:
            data[name] = "on"
        else:
            data[name] = getattr(value, "pk", value)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


def _errors_text(response) -> str:
    assert response.status_code == 200, "the form was accepted"
    html = response.content.decode()
    assert "is violated" not in html
    return html


def _program_year_post(client, **values):
    data = _form_data(client.get("/admin/contributions/programyear/add/"))
    data.update({"target_points": 400, "prorating_method": "monthly", **values})
    return client.post("/admin/contributions/programyear/add/", data)


def test_a_deadline_before_the_opening_is_refused_in_words(staff_client):
    html = _errors_text(_program_year_post(staff_client, year=2030, opens_on="2030-01-01", deadline="2029-12-01"))
    assert "The deadline must be after the day the program year opens." in html
    assert "programyear_deadline_after_open" not in html


def test_an_eighteen_month_program_year_is_refused_in_words(staff_client):
    html = _errors_text(_program_year_post(staff_client, year=2030, opens_on="2030-01-01", deadline="2031-07-01"))
    assert "A program year lasts at most a year and a few weeks" in html


def test_overlapping_program_years_are_refused_in_words(staff_client):
    ProgramYearFactory(year=2030)
    html = _errors_text(_program_year_post(staff_client, year=2031, opens_on="2030-06-01", deadline="2031-06-01"))
    assert "overlap program year 2030" in html
    assert not ProgramYear.objects.filter(year=2031).exists()


def test_back_to_back_program_years_are_accepted(staff_client):
    ProgramYearFactory(year=2030)
    response = _program_year_post(staff_client, year=2031, opens_on="2031-01-01", deadline="2032-01-01")
    assert response.status_code == 302
    assert ProgramYear.objects.filter(year=2031).exists()


def test_the_service_refuses_an_overlap_outside_the_admin_too(admin_user):
    ProgramYearFactory(year=2030)
    year = ProgramYear(year=2031, target_points=400, opens_on=date(2030, 12, 1), deadline=date(2031, 12, 1))
    with pytest.raises(ValidationError) as refused:
        services.program_year_save(program_year=year, by=admin_user)
    assert "overlap program year 2030" in str(refused.value)


def test_an_opportunity_capacity_of_zero_is_refused_in_words(staff_client):
    opportunity = OpportunityFactory(activity_type=ActivityTypeFactory(program_year=ProgramYearFactory(year=2026)))
    path = f"/admin/engagements/opportunity/{opportunity.pk}/change/"
    data = _form_data(staff_client.get(path))
    data["capacity"] = "0"
    html = _errors_text(staff_client.post(path, data))
    assert "at least 1" in html
    opportunity.refresh_from_db()
    assert opportunity.capacity == 10


def test_a_boss_window_that_closes_before_it_opens_is_refused_in_words(staff_client):
    window = BossProgramWindowFactory()
    path = f"/admin/community_levels/bossprogramwindow/{window.pk}/change/"
    data = _form_data(staff_client.get(path))
    data.update(opens_on="2026-03-01", closes_on="2026-02-01")
    html = _errors_text(staff_client.post(path, data))
    assert "A Boss program window must close on or after the day it opens." in html


def test_a_boss_application_whose_level_was_deleted_can_still_be_decided(admin_user):
    """Found by the admin walk: the level is SET_NULL on delete, and deciding then was a 500."""
    from community_levels import services as community_services
    from community_levels.models import BossApplication
    from tests.factories import CommunityMemberFactory

    application = BossApplication.objects.create(
        window=BossProgramWindowFactory(), member=CommunityMemberFactory(), level_at_application=None, statement="Hi"
    )
    decided = community_services.boss_application_decide(application=application, decided_by=admin_user, accept=True)
    assert decided.state == BossApplication.State.ACCEPTED
