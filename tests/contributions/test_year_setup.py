"""Next year in one step (issue 17, item 3): copy the catalogue and requirements from another year onto
a new year (editable before publishing); publishing refuses an empty catalogue and says what is
missing; a published year's target or catalogue changes only with a reason, kept in the history,
and the members whose target changes are told."""

from datetime import date

import pytest

from accounts.models import Notification
from contributions import services
from contributions.models import ActivityType, ProgramYear, TechnicalRequirement
from tests.factories import (
    ActivityTypeFactory,
    MACertificationFactory,
    ProgramYearFactory,
    TechnicalRequirementFactory,
    UserFactory,
)
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/contributions/programyear/"


@pytest.fixture
def year_2026_catalogue(year_2026):
    ActivityTypeFactory(program_year=year_2026, code="speaking", name="Speak at an event", points=100, annual_cap=300)
    ActivityTypeFactory(program_year=year_2026, code="blog", name="Write a blog post", points=40)
    ActivityTypeFactory(program_year=year_2026, code="retired", name="Old webinar", points=10, is_active=False)
    TechnicalRequirementFactory(
        program_year=year_2026, code="csa", name="Solution Architect", due_on=date(2026, 12, 31)
    )
    return year_2026


@pytest.fixture
def year_2027(db):
    return ProgramYearFactory(year=2027, target_points=400)


def test_copy_brings_the_active_catalogue_and_the_requirements_a_year_on(year_2026_catalogue, year_2027, program_admin):
    ActivityTypeFactory(program_year=year_2027, code="blog", name="Blog post (new wording)", points=50)
    result = services.program_year_copy_catalogue(program_year=year_2027, source=year_2026_catalogue, by=program_admin)
    assert (result.types_copied, result.types_skipped, result.requirements_copied) == (1, 1, 1)
    types = {t.code: t for t in ActivityType.objects.filter(program_year=year_2027)}
    assert set(types) == {"speaking", "blog"}  # the inactive type stays behind
    assert types["speaking"].points == 100 and types["speaking"].annual_cap == 300
    assert types["blog"].name == "Blog post (new wording)"  # what the new year already has is kept
    requirement = TechnicalRequirement.objects.get(program_year=year_2027)
    assert requirement.code == "csa" and requirement.due_on == date(2027, 12, 31)
    latest = types["speaking"].history.latest()
    assert latest.history_user == program_admin and latest.history_change_reason == "Copied from 2026"
    # Copied lines stay editable before publishing.
    types["speaking"].points = 120
    services.activity_type_save(activity_type=types["speaking"], by=program_admin)


def test_copy_onto_a_published_year_is_refused(year_2026_catalogue, year_2027, program_admin):
    ActivityTypeFactory(program_year=year_2027, code="x")
    services.program_year_publish(program_year=year_2027, by=program_admin)
    with pytest.raises(services.ContributionError, match="already published"):
        services.program_year_copy_catalogue(program_year=year_2027, source=year_2026_catalogue, by=program_admin)


def test_publishing_an_empty_catalogue_is_refused_and_says_what_is_missing(year_2027, program_admin):
    with pytest.raises(services.ContributionError) as refused:
        services.program_year_publish(program_year=year_2027, by=program_admin)
    assert "2027" in str(refused.value) and "no active activity type" in str(refused.value)
    assert "Copy catalogue" in str(refused.value)
    year_2027.refresh_from_db()
    assert year_2027.published_at is None


def test_the_admin_copies_then_publishes(client, program_admin, year_2026_catalogue, year_2027):
    client.force_login(with_mfa(program_admin))
    refused = client.post(
        CHANGELIST, {"action": "publish", "_selected_action": [year_2027.pk]}, follow=True
    ).content.decode()
    assert "no active activity type" in refused
    page = client.post(CHANGELIST, {"action": "copy_catalogue", "_selected_action": [year_2027.pk]})
    html = page.content.decode()
    assert page.status_code == 200 and "Copy catalogue and requirements" in html and "2026" in html
    done = client.post(
        CHANGELIST,
        {
            "action": "copy_catalogue",
            "_selected_action": [year_2027.pk],
            "source": year_2026_catalogue.pk,
            "apply": "1",
        },
        follow=True,
    ).content.decode()
    assert "2 activity types and 1 technical requirement copied from 2026 to 2027" in done
    client.post(CHANGELIST, {"action": "publish", "_selected_action": [year_2027.pk]})
    year_2027.refresh_from_db()
    assert year_2027.published_at is not None


def _published_2026_with_members(year_2026_catalogue):
    services.program_year_publish(program_year=year_2026_catalogue, by=None)
    full = UserFactory(email="full@example.com")
    MACertificationFactory(user=full, qualified_on=date(2024, 3, 10))
    july = UserFactory(email="july@example.com")
    MACertificationFactory(user=july, qualified_on=date(2026, 7, 1))
    exempt = UserFactory(email="override@example.com")
    MACertificationFactory(user=exempt, qualified_on=date(2024, 3, 10))
    services.target_override_set(
        member=exempt, program_year=year_2026_catalogue, target_points=100, reason="Leave", set_by=None
    )
    return full, july, exempt


def test_changing_a_published_target_needs_a_reason_and_tells_the_members_whose_target_changes(
    year_2026_catalogue, program_admin
):
    full, _july, _exempt = _published_2026_with_members(year_2026_catalogue)
    year = ProgramYear.objects.get(pk=year_2026_catalogue.pk)
    year.target_points = 300
    with pytest.raises(services.ContributionError, match="reason"):
        services.program_year_save(program_year=year, by=program_admin)
    services.program_year_save(program_year=year, by=program_admin, reason="Board decision of 2 Dec")
    latest = year.history.latest()
    assert latest.history_user == program_admin and latest.history_change_reason == "Board decision of 2 Dec"
    told = Notification.objects.filter(kind="maintenance.target_changed")
    assert set(told.values_list("user__email", flat=True)) == {"full@example.com", "july@example.com"}
    body = told.get(user=full).body
    assert "400" in body and "300" in body and "Board decision of 2 Dec" in body
    # A change that leaves every target as it is (a date note) tells nobody and needs no reason.
    year.notification_on = date(2027, 1, 15)
    services.program_year_save(program_year=year, by=program_admin)
    assert told.count() == 2


def test_an_unpublished_year_changes_freely(year_2027, program_admin):
    year_2027.target_points = 350
    services.program_year_save(program_year=year_2027, by=program_admin)
    assert Notification.objects.count() == 0


def test_changing_a_published_catalogue_needs_a_reason_kept_in_the_history(year_2026_catalogue, program_admin):
    services.program_year_publish(program_year=year_2026_catalogue, by=program_admin)
    speaking = ActivityType.objects.get(program_year=year_2026_catalogue, code="speaking")
    speaking.points = 80
    with pytest.raises(services.ContributionError, match="reason"):
        services.activity_type_save(activity_type=speaking, by=program_admin)
    services.activity_type_save(activity_type=speaking, by=program_admin, reason="Shorter talks this year")
    assert speaking.history.latest().history_change_reason == "Shorter talks this year"


def test_the_admin_form_asks_for_the_reason_of_a_published_years_change(client, program_admin, year_2026_catalogue):
    services.program_year_publish(program_year=year_2026_catalogue, by=program_admin)
    client.force_login(with_mfa(program_admin))
    url = f"{CHANGELIST}{year_2026_catalogue.pk}/change/"
    form = client.get(url).context["adminform"].form
    values = {name: form[name].value() for name in form.fields if name != "change_reason"}
    data = {name: "" if value is None or value is False else value for name, value in values.items()}  # 0 stays 0
    data.update(
        {
            "target_points": "300",
            "requirements-TOTAL_FORMS": "1",
            "requirements-INITIAL_FORMS": "1",
            "requirements-0-id": str(year_2026_catalogue.requirements.get().pk),
            "requirements-0-program_year": str(year_2026_catalogue.pk),
            "requirements-0-kind": "credential",
            "requirements-0-code": "csa",
            "requirements-0-name": "Solution Architect",
            "requirements-0-due_on": "2026-12-31",
        }
    )
    data["published_at_0"], data["published_at_1"] = "", ""
    published = year_2026_catalogue.published_at
    data["published_at_0"] = published.date().isoformat()
    data["published_at_1"] = published.strftime("%H:%M:%S")
    response = client.post(url, data)
    assert response.status_code == 200 and "Say why" in response.content.decode()
    year_2026_catalogue.refresh_from_db()
    assert year_2026_catalogue.target_points == 400
    response = client.post(url, {**data, "change_reason": "Board decision"})
    assert response.status_code == 302, response.content.decode()[:2000]
    year_2026_catalogue.refresh_from_db()
    assert year_2026_catalogue.target_points == 300


def test_the_admin_form_cannot_publish_a_year_around_the_publish_action(client, program_admin):
    """*Published at* was an editable date on the add and change forms: filling it published a year
    with an empty catalogue (which the action refuses) and then the year could not be copied into."""
    client.force_login(with_mfa(program_admin))
    form = client.get(f"{CHANGELIST}add/").context["adminform"].form
    assert "published_at" not in form.fields
    response = client.post(
        f"{CHANGELIST}add/",
        {
            "year": "2028",
            "target_points": "400",
            "prorating_method": "monthly",
            "audit_rate": "0",
            "opens_on": "2028-01-01",
            "deadline": "2029-01-01",
            "published_at_0": "2026-12-07",
            "published_at_1": "10:00:00",
            "requirements-TOTAL_FORMS": "0",
            "requirements-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    year = ProgramYear.objects.get(year=2028)
    assert year.published_at is None
    assert services.program_year_missing_for_publication(program_year=year)


def test_publishing_one_year_says_this_years_rules(client, program_admin, year_2027):
    ActivityTypeFactory(program_year=year_2027, code="x")
    client.force_login(with_mfa(program_admin))
    done = client.post(CHANGELIST, {"action": "publish", "_selected_action": [year_2027.pk]}, follow=True)
    assert [str(message) for message in done.context["messages"]] == [
        "Published 2027: members can now see this year's rules."
    ]


def test_a_year_whose_only_type_is_the_hidden_requirement_report_type_is_not_published(year_2027):
    """The walk: a year with no catalogue but MA Home's own requirement-report type (made when a member reports
    a requirement) passed the publish check, so members would see an empty catalogue."""
    from contributions.services.requirements import requirement_report_type

    requirement_report_type(program_year=year_2027)
    assert "its catalogue has no active activity type" in services.program_year_missing_for_publication(
        program_year=year_2027
    )
    ActivityTypeFactory(program_year=year_2027, code="talk")
    assert services.program_year_missing_for_publication(program_year=year_2027) == ""
