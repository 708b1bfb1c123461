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
from contributions.models import ActivityType, Contribution, ProgramYear, ReviewOutcome
from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory, ProgramYearFactory

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


# --- "The current program year" --------------------------------------------------------------
# The year running today; between years (after a deadline, before the next year opens), the one that
# just ended and awaits its review. The year a *date* counts toward is another rule:
# `ProgramYear.objects.containing(day)`, which has no year in that gap.


def test_the_current_year_is_the_latest_opened_even_when_its_number_is_lower():
    """The boundary where the dashboard (by number) and the selectors (by opening day) disagreed."""
    first = ProgramYearFactory(year=2031, opens_on=date(2026, 1, 1), deadline=date(2027, 1, 1))
    later = ProgramYearFactory(year=2030, opens_on=date(2027, 1, 1), deadline=date(2028, 1, 1))
    today = date(2027, 3, 1)
    assert ProgramYear.objects.current(today) == later
    assert selectors.program_year_current(today=today) == later
    assert ProgramYear.objects.containing(today) == later
    assert ProgramYear.objects.current(date(2026, 12, 31)) == first


def test_the_dashboard_shows_the_current_year(member):
    from mahome import dashboard

    ProgramYearFactory(year=2031, opens_on=date(2026, 1, 1), deadline=date(2027, 1, 1))
    later = ProgramYearFactory(year=2030, opens_on=date(2027, 1, 1), deadline=date(2028, 1, 1))
    assert dashboard.build(user=member, today=date(2027, 3, 1))["program_year"] == later


@pytest.mark.parametrize(
    ("today", "current", "containing"),
    [
        (date(2025, 12, 31), None, None),  # before the first year opens
        (date(2026, 1, 1), 2026, 2026),  # the opening day
        (date(2026, 12, 31), 2026, 2026),  # the last day before the deadline
        (date(2027, 1, 1), 2026, None),  # the deadline: the year has ended and awaits its review
        (date(2027, 1, 31), 2026, None),  # the last day of the gap
        (date(2027, 2, 1), 2027, 2027),  # the next year opens
    ],
)
def test_current_and_containing_at_the_year_boundaries(member, today, current, containing):
    from mahome import dashboard

    ProgramYearFactory(year=2026)
    ProgramYearFactory(year=2027, opens_on=date(2027, 2, 1), deadline=date(2028, 1, 1))
    found = ProgramYear.objects.current(today)
    assert (found.year if found else None) == current
    assert selectors.program_year_current(today=today) == found
    shown = dashboard.build(user=member, today=today)["program_year"]
    assert (shown.year if shown else None) == current
    dated = ProgramYear.objects.containing(today)
    assert (dated.year if dated else None) == containing
    assert services.program_year_for_date(day=today) == dated


# --- "Certification ended in an earlier review" ----------------------------------------------
# A lapsed or opted-out outcome of an earlier year ends the certification held when that year ran
# (its deadline came after the qualification day); re-qualifying on or after that deadline starts anew.


@pytest.mark.parametrize(
    ("qualified_on", "ended"),
    [
        (date(2026, 12, 31), True),  # qualified before the 2026 deadline: the 2026 lapse ended it
        (date(2027, 1, 1), False),  # re-qualified on the 2026 deadline: a new certification
    ],
)
@pytest.mark.parametrize("outcome", [ReviewOutcome.Outcome.LAPSED, ReviewOutcome.Outcome.OPTED_OUT])
def test_an_earlier_exit_ends_the_certification_for_the_dashboard_and_the_review(member, qualified_on, ended, outcome):
    from mahome import dashboard

    earlier = ProgramYearFactory(year=2026)
    year = ProgramYearFactory(year=2027)
    MACertificationFactory(user=member, qualified_on=qualified_on)
    ReviewOutcome.objects.create(
        member=member, program_year=earlier, outcome=outcome, target_points=400, verified_points=0
    )
    exits = ReviewOutcome.objects.ending_certification_before(program_year=year, qualified_on=qualified_on)
    assert exits.exists() is ended
    assert (member in selectors.eligible_members(program_year=year)) is not ended
    assert (dashboard.build(user=member, today=date(2027, 3, 1))["lapsed"] is not None) is ended


def test_a_recertified_or_same_year_outcome_does_not_end_the_certification(member):
    from mahome import dashboard

    earlier = ProgramYearFactory(year=2026)
    year = ProgramYearFactory(year=2027)
    MACertificationFactory(user=member, qualified_on=date(2020, 1, 1))
    for program_year, outcome in [(earlier, "recertified"), (year, "lapsed")]:
        ReviewOutcome.objects.create(
            member=member, program_year=program_year, outcome=outcome, target_points=400, verified_points=0
        )
    assert not ReviewOutcome.objects.ending_certification_before(program_year=year, qualified_on=date(2020, 1, 1))
    assert member in selectors.eligible_members(program_year=year)
    assert dashboard.build(user=member, today=date(2027, 3, 1))["lapsed"] is None


# --- "Pending" contributions -----------------------------------------------------------------


@pytest.mark.parametrize("state", list(Contribution.State))
def test_pending_is_one_set_of_states_for_the_decisions_the_admin_and_the_requirements(state):
    from contributions.admin import MemberWithItemsFilter

    pending = state in Contribution.PENDING_STATES
    assert Contribution.PENDING_STATES == (Contribution.State.SUBMITTED, Contribution.State.NEEDS_INFO)
    assert (state in services.DECISION_STATES["verify"]) is pending
    assert (state in services.DECISION_STATES["reject"]) is pending
    assert (state in services.WITHDRAWABLE_STATES) is (pending or state == Contribution.State.DRAFT)
    assert (state in services.OPEN_STATES) is (pending or state == Contribution.State.DRAFT)
    item = ContributionFactory(state=state)
    listed = MemberWithItemsFilter(None, {}, Contribution, None).lookups(None, None)
    assert ((str(item.member_id), item.member.email) in listed) is pending


# --- Constants are the model's choices, not copies of them ------------------------------------


def test_the_rules_speak_the_models_choices():
    from contributions import rules

    assert rules.MONTHLY is ProgramYear.ProratingMethod.MONTHLY
    assert rules.DAILY is ProgramYear.ProratingMethod.DAILY
    for name in ("RECERTIFIED", "LAPSED", "OPTED_OUT"):
        assert getattr(rules, name) is getattr(ReviewOutcome.Outcome, name)
    for outcome in ReviewOutcome.Outcome:
        status = rules.status_for(
            verified=0, target=400, pending=0, share=1, requirements_met=False, opted_out=False, outcome=outcome
        )
        assert status is outcome
