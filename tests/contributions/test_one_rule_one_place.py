"""Each business rule is one predicate or query next to its data; every layer asks it.

One section per rule: the rule at its boundary days, then every layer that used to carry its own
copy (the form, the service, the page's selector) agreeing with it on each of those days.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from contributions import selectors, services
from contributions.forms import ActivityTypeChoiceField
from contributions.models import ActivityType, ProgramYear
from tests.factories import ActivityTypeFactory, ProgramYearFactory

pytestmark = pytest.mark.django_db


# --- "Submissions are open" ------------------------------------------------------------------
# Open before the deadline (exclusive), or through a grace period an admin opened (inclusive).

SUBMISSION_DAYS = [
    (date(2026, 12, 31), True),  # the last day before the deadline
    (date(2027, 1, 1), True),  # the deadline itself, inside the grace period
    (date(2027, 1, 15), True),  # the last day of grace
    (date(2027, 1, 16), False),  # the day after grace
]


@pytest.fixture
def graced_type():
    year = ProgramYearFactory(year=2026, grace_until=date(2027, 1, 15))
    return ActivityTypeFactory(program_year=year, name="Speak at an event", points=100)


@pytest.mark.parametrize(("today", "is_open"), SUBMISSION_DAYS)
def test_submissions_open_is_one_rule_for_the_model_the_query_and_the_service(graced_type, today, is_open):
    year = graced_type.program_year
    assert year.takes_submissions(today) is is_open
    assert (services.submission_refusal(program_year=year, today=today) is None) is is_open
    assert (graced_type in selectors.activity_types_open_for_submission(today=today)) is is_open


def test_without_grace_the_deadline_day_is_closed():
    year = ProgramYearFactory(year=2026)
    assert year.takes_submissions(date(2026, 12, 31))
    assert not year.takes_submissions(date(2027, 1, 1))
    assert not ProgramYear.objects.filter(ProgramYear.takes_submissions_q(today=date(2027, 1, 1))).exists()
    assert ProgramYear.objects.filter(ProgramYear.takes_submissions_q(today=date(2026, 12, 31))).exists()


def test_a_year_not_yet_open_is_not_offered_but_is_not_closed_either():
    """Types are offered once the year has opened; a future year is not 'closed' (it cannot be reviewed)."""
    year = ProgramYearFactory(year=2027)
    kind = ActivityTypeFactory(program_year=year)
    assert year.takes_submissions(date(2026, 12, 31))
    assert kind not in selectors.activity_types_open_for_submission(today=date(2026, 12, 31))
    assert kind in selectors.activity_types_open_for_submission(today=date(2027, 1, 1))


def test_the_form_and_the_service_refuse_a_closed_year_with_the_same_words(graced_type, member):
    closed = date(2027, 1, 16)
    refusal = services.submission_refusal(program_year=graced_type.program_year, today=closed)
    assert "closed on 1 Jan 2027" in refusal
    with pytest.raises(services.ContributionError) as raised:
        services.contribution_create(
            member=member,
            activity_type=graced_type,
            title="Talk",
            occurred_on=date(2026, 10, 1),
            evidence_url="https://example.com/talk",
            today=closed,
        )
    assert str(raised.value) == refusal
    field = ActivityTypeChoiceField(queryset=ActivityType.objects.none())
    with time_machine.travel(datetime(2027, 1, 16, 12, tzinfo=UTC)), pytest.raises(ValidationError) as invalid:
        field.to_python(str(graced_type.pk))
    assert invalid.value.messages == [refusal]
