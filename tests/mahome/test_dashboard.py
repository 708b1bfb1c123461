"""The dashboard composed in mahome (issue 15, finding 2): it reads and never changes what it is
given, and every link it builds comes from reverse()."""

from datetime import date, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from contributions.models import TargetOverride
from engagements.models import SignUp
from mahome import dashboard
from tests.factories import (
    ActivityTypeFactory,
    MACertificationFactory,
    OpportunityFactory,
    ProgramYearFactory,
    SignUpFactory,
    TechnicalRequirementFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def year():
    year = ProgramYearFactory(year=2026, target_points=400)
    ActivityTypeFactory(program_year=year, name="Teach a class", points=120)
    ActivityTypeFactory(program_year=year, name="Speak at a meetup", points=100, tracking="engagement")
    TechnicalRequirementFactory(program_year=year, kind="training", name="Level 3", due_on=date(2026, 10, 31))
    return year


@pytest.fixture
def ma(member, year):
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    TargetOverride.objects.create(member=member, program_year=year, target_points=334, reason="Leave")
    return member


def test_build_leaves_the_callers_user_as_it_was(ma):
    ma.refresh_from_db()
    attributes, cached = dict(vars(ma)), dict(ma._state.fields_cache)
    context = dashboard.build(user=ma, today=TODAY)
    assert context["certification"] is not None and context["standing"] is not None
    assert dict(ma._state.fields_cache) == cached
    assert dict(vars(ma)) == attributes


def test_page_leaves_the_callers_user_as_it_was(ma):
    ma.refresh_from_db()
    attributes, cached = dict(vars(ma)), dict(ma._state.fields_cache)
    dashboard.page(user=ma)
    assert dict(ma._state.fields_cache) == cached
    assert dict(vars(ma)) == attributes


def _links(context: dict) -> list[str]:
    step = context["maintenance"]["next_step"]
    return [step["url"], *(option["url"] for option in step.get("options", []))]


@override_settings(ROOT_URLCONF="tests.mahome.moved_urls")
def test_every_link_of_the_next_step_follows_the_url_configuration(ma):
    links = _links(dashboard.page(user=ma))
    assert len(links) == 3  # the catalogue and the two quickest ways (the form, the opportunities)
    assert all(link.startswith("/moved/") for link in links), links
    assert "/moved/engagements/" in links


@override_settings(ROOT_URLCONF="tests.mahome.moved_urls")
def test_a_held_offer_links_to_its_opportunity_through_the_url_configuration(ma):
    opportunity = OpportunityFactory(title="Speak at the user group", slug="user-group", capacity=1)
    SignUpFactory(
        opportunity=opportunity, member=ma, state=SignUp.State.OFFERED, offer_expires_at=timezone.now() + timedelta(1)
    )
    context = dashboard.page(user=ma)
    assert context["maintenance"]["next_step"]["rule"] == "offer"
    assert _links(context) == ["/moved/engagements/user-group/"]


def test_a_question_older_than_the_latest_contributions_is_still_the_next_step(ma, year):
    from contributions.models import ActivityType
    from tests.factories import ContributionFactory

    teach = ActivityType.objects.get(name="Teach a class")
    asked = ContributionFactory(
        member=ma, activity_type=teach, title="Old keynote", state="needs_info", occurred_on=date(2026, 1, 5)
    )
    latest = [
        ContributionFactory(member=ma, activity_type=teach, state="submitted", occurred_on=date(2026, 6, day))
        for day in range(1, 10)
    ]
    ContributionFactory.create_batch(2, member=ma, activity_type=teach, state="draft", occurred_on=date(2026, 2, 1))
    context = dashboard.build(user=ma, today=TODAY)
    assert context["needs_info"] == asked
    assert context["next_step"]["rule"] == "needs_info"
    assert context["recent"] == sorted(latest, key=lambda c: c.occurred_on, reverse=True)[:8]
    assert context["drafts"] == 2


def test_a_question_among_the_latest_contributions(ma, year):
    from contributions.models import ActivityType
    from tests.factories import ContributionFactory

    teach = ActivityType.objects.get(name="Teach a class")
    asked = ContributionFactory(member=ma, activity_type=teach, state="needs_info", occurred_on=date(2026, 6, 5))
    context = dashboard.build(user=ma, today=TODAY)
    assert context["needs_info"] == asked and context["recent"] == [asked]
    assert context["drafts"] == 0
