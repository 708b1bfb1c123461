"""Claims with sanity limits (issue 13, finding 4).

A quantity of 99,999 was accepted ("5,999,940 points claimed") and the dashboard then said the
points were covered; numbers had no thousands separators; a 200-character unbroken title broke
the dashboard's table. Each type caps the quantity of one claim, points read 1,234, and long
words wrap.
"""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from contributions import services
from contributions.models import ActivityType, Contribution, TargetOverride
from tests.factories import ActivityTypeFactory, ContributionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def _form(activity_type, **extra):
    return {
        "activity_type": activity_type.pk,
        "title": "Talk at the user group",
        "description": "Forty people",
        "occurred_on": "2026-10-01",
        "quantity": "1",
        "evidence_url": "https://example.com/talk",
        "action": "submit",
    } | extra


def test_every_type_has_a_sensible_maximum_quantity_per_claim_by_default(speaking):
    assert speaking.max_quantity_per_claim == Decimal(20)


def test_a_quantity_above_the_types_maximum_is_refused_on_the_form(client, ma, speaking):
    client.force_login(ma)
    response = client.post("/contributions/new/", _form(speaking, quantity="99999"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "at most 20 items per claim" in page
    assert not Contribution.objects.exists()


def test_the_service_refuses_a_quantity_above_the_maximum_on_create_and_on_update(ma, speaking):
    with pytest.raises(services.ContributionError, match="at most 20 items per claim"):
        services.contribution_create(
            member=ma, activity_type=speaking, title="Talks", occurred_on=date(2026, 10, 1), quantity=21
        )
    draft = services.contribution_create(
        member=ma, activity_type=speaking, title="Talks", occurred_on=date(2026, 10, 1), quantity=20
    )
    with pytest.raises(services.ContributionError, match="at most 20 items per claim"):
        services.contribution_update(
            contribution=draft,
            member=ma,
            activity_type=speaking,
            title="Talks",
            occurred_on=date(2026, 10, 1),
            quantity=Decimal("20.5"),
        )


def test_a_type_can_allow_more_per_claim(ma, year_2026):
    hours = ActivityTypeFactory(program_year=year_2026, points=5, unit="hour", max_quantity_per_claim=80)
    contribution = services.contribution_create(
        member=ma, activity_type=hours, title="Bootcamp", occurred_on=date(2026, 10, 1), quantity=80
    )
    assert contribution.claimed_points == 400


def test_the_maximum_must_be_positive_and_says_so_in_words(year_2026):
    activity_type = ActivityType(
        program_year=year_2026, code="x", name="X", category="brand", points=1, max_quantity_per_claim=0
    )
    with pytest.raises(ValidationError) as error:
        activity_type.validate_constraints()
    assert error.value.messages == ["The maximum quantity per claim must be more than zero."]


def test_points_read_with_thousands_separators(client, ma, speaking, year_2026):
    TargetOverride.objects.create(member=ma, program_year=year_2026, target_points=2000, reason="Special case")
    big = ActivityTypeFactory(program_year=year_2026, points=1234, name="Flagship programme")
    ContributionFactory(member=ma, activity_type=big, state="verified", claimed_points=1234, awarded_points=1234)
    ContributionFactory(member=ma, activity_type=big, state="submitted", claimed_points=1234)
    client.force_login(ma)
    dashboard = client.get("/").content.decode()
    assert 'data-testid="verified">1,234<' in dashboard
    assert 'data-testid="target">2,000<' in dashboard
    assert "1,234 verified and 1,234 pending of 2,000 points" in dashboard
    listing = client.get("/contributions/").content.decode()
    assert "1,234 verified · 1,234 pending · target 2,000" in listing
    catalogue = client.get("/contributions/catalogue/").content.decode()
    assert "1,234" in catalogue
    response = client.post("/contributions/new/", _form(big, quantity="2"), follow=True)
    assert "(2,468 points claimed)" in response.content.decode()


def test_a_long_unbroken_title_is_marked_to_wrap_on_every_page_that_shows_it(client, ma, speaking):
    title = "W" * 200
    contribution = ContributionFactory(member=ma, activity_type=speaking, title=title, state="withdrawn")
    client.force_login(ma)
    for path in ("/", "/contributions/", f"/contributions/{contribution.pk}/"):
        page = client.get(path).content.decode()
        body = page[page.index("<body") :]
        start = body.find(title)
        assert start > 0, path
        while start > 0:
            opening = body[body.rindex("<", 0, start) : start]
            assert "wrap-anywhere" in opening, f"{path}: the element holding the title does not wrap: {opening}"
            start = body.find(title, start + len(title))
