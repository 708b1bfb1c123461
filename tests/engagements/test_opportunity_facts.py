"""Opportunity facts that agree with themselves (issue 13, finding 8), one test per sub-point."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from engagements.models import Opportunity, SignUp
from tests.factories import (
    EngagementActivityTypeFactory,
    OpportunityFactory,
    ProgramYearFactory,
    SignUpFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False):
        yield


def _page(client, member, path):
    client.force_login(member)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_an_engagement_held_next_year_names_the_catalogue_it_counts_in(client, member):
    this_year, next_year = ProgramYearFactory(year=2026), ProgramYearFactory(year=2027)
    planned = EngagementActivityTypeFactory(program_year=this_year, code="keynote", name="Keynote", points=80)
    EngagementActivityTypeFactory(program_year=next_year, code="keynote", name="Keynote", points=80)
    january = datetime(2027, 1, 15, 10, 0, tzinfo=timezone.get_current_timezone())
    OpportunityFactory(slug="january-keynote", activity_type=planned, starts_at=january)
    page = _page(client, member, "/engagements/january-keynote/")
    assert "(2027 catalogue)" in page
    assert "(2026 catalogue)" not in page


def test_an_engagement_next_year_without_next_years_type_says_where_it_counts(client, member):
    this_year = ProgramYearFactory(year=2026)
    planned = EngagementActivityTypeFactory(program_year=this_year, code="keynote", name="Keynote", points=80)
    january = datetime(2027, 1, 15, 10, 0, tzinfo=timezone.get_current_timezone())
    OpportunityFactory(slug="january-keynote", activity_type=planned, starts_at=january)
    page = _page(client, member, "/engagements/january-keynote/")
    assert "the 2027 catalogue has no such activity yet" in page


def test_next_steps_never_point_at_a_date_that_is_not_there():
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    texts = list(SignUp.objects.exclude(next_steps="").values_list("next_steps", flat=True))
    assert texts
    assert not [text for text in texts if "date below" in text]


def test_an_offer_shows_accept_and_decline_but_not_withdraw(client, member):
    opportunity = OpportunityFactory(slug="offered", capacity=2)  # the offered slot is one of its own
    SignUpFactory(opportunity=opportunity)
    SignUpFactory(
        opportunity=opportunity,
        member=member,
        state=SignUp.State.OFFERED,
        offer_expires_at=timezone.now() + timedelta(hours=30),
    )
    page = _page(client, member, "/engagements/offered/")
    assert "Accept the slot" in page and ">Decline<" in page
    assert ">Withdraw<" not in page


def test_an_unlimited_opportunity_promises_no_waitlist_hold(client, member):
    OpportunityFactory(slug="unlimited", capacity=None, waitlist_enabled=True, offer_hours=48)
    page = _page(client, member, "/engagements/unlimited/")
    assert "48 hours" not in page
    assert "Not needed: every member who signs up gets a place" in page


def test_a_cancelled_opportunity_shows_no_slots_left(client, member):
    OpportunityFactory(
        slug="cancelled", capacity=3, state=Opportunity.State.CANCELLED, cancellation_reason="The venue closed."
    )
    detail = _page(client, member, "/engagements/cancelled/")
    assert "3 of 3" not in detail
    assert "slots left" not in detail
    listing = _page(client, member, "/engagements/")
    if "cancelled" in listing:
        assert "3 of 3" not in listing


def test_only_with_open_slots_leaves_out_closed_windows_and_closed_opportunities(client, member):
    OpportunityFactory(slug="open-now", title="Open now", capacity=5)
    OpportunityFactory(
        slug="window-closed", title="Window closed", capacity=5, signup_closes_at=timezone.now() - timedelta(days=1)
    )
    OpportunityFactory(
        slug="window-later", title="Window later", capacity=5, signup_opens_at=timezone.now() + timedelta(days=3)
    )
    OpportunityFactory(slug="closed", title="Closed state", capacity=5, state=Opportunity.State.CLOSED)
    page = _page(client, member, "/engagements/?open_slots=on")
    assert "Open now" in page
    assert "Window closed" not in page
    assert "Window later" not in page
    assert "Closed state" not in page
