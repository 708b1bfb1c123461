"""The year-end review's plan is a pure function of the members' standings (`services.review.review_plan`):
`_review_compute` loads the standings, certificates and notifications; these tests need no database."""

from datetime import date
from types import SimpleNamespace

from accounts.models import User
from contributions.models import ProgramYear, ReviewOutcome
from contributions.services.review import ReviewReport, review_plan

YEAR = ProgramYear(year=2026, opens_on=date(2026, 1, 1), deadline=date(2027, 1, 1))
NEXT = ProgramYear(year=2027, opens_on=date(2027, 1, 1), deadline=date(2028, 1, 1))


def _standing(pk: int, *, verified: int, pending: int = 0, needs_info: int = 0, outcome=None, email=True, unmet=()):
    member = User(pk=pk, email=f"m{pk}@example.com", is_active=True, email_maintenance=email)
    return SimpleNamespace(
        member=member,
        target_points=100,
        verified=verified,
        pending=pending,
        needs_info=needs_info,
        opt_out=None,
        requirements_pending=[SimpleNamespace(requirement=SimpleNamespace(name=name)) for name in unmet],
        outcome=outcome,
    )


def _plan(standings, *, dry_run=True, existing_certificates=None, notified=()):
    return review_plan(
        ReviewReport(program_year=YEAR, dry_run=dry_run),
        standings=standings,
        program_years={2026: YEAR, 2027: NEXT},
        existing_certificates=existing_certificates or {},
        notified=set(notified),
    )


def test_a_member_at_the_target_is_recertified_with_next_years_certificate_to_issue():
    report = _plan([_standing(7, verified=100)], dry_run=False)
    (entry,) = report.entries
    assert (entry.outcome, entry.target, entry.verified) == (ReviewOutcome.Outcome.RECERTIFIED, 100, 100)
    (certificate,) = report.certificates_to_issue
    assert (certificate.number, certificate.valid_from, certificate.valid_until) == (
        "MA-2027-000007",
        date(2027, 1, 1),
        date(2028, 1, 1),
    )
    assert entry.certificate_number == "MA-2027-000007"
    assert [o.member.pk for o in report.outcomes_to_record] == [7]
    assert (report.planned_outcomes, report.planned_certificates, report.planned_notifications) == (1, 1, 1)


def test_a_dry_run_plans_the_certificate_but_shows_no_number_yet():
    report = _plan([_standing(7, verified=100)], dry_run=True)
    assert report.planned_certificates == 1
    assert report.entries[0].certificate_number == ""


def test_short_of_the_target_lapses_and_says_whether_the_waiting_points_would_cover_it():
    covered, short = _plan([_standing(1, verified=60, pending=50, needs_info=10), _standing(2, verified=10)]).entries
    assert (covered.outcome, covered.would_meet, covered.pending, covered.needs_info) == ("lapsed", True, 40, 10)
    assert (short.outcome, short.would_meet) == ("lapsed", False)
    assert covered.reasons[0] == "60 verified points of 100 (40 missing)."


def test_waiting_points_promise_nothing_while_a_technical_requirement_is_unmet():
    """Ben (walk of 2026-12-07): 40 of 234 verified, 200 waiting, both requirements unmet. Verifying his
    points would not keep his certificate, so the review must not say he "would meet" it."""
    (ben,) = _plan([_standing(1, verified=40, pending=200, unmet=["The Anaplan Way refresher"])]).entries
    assert ben.outcome == "lapsed"
    assert ben.would_meet is False
    assert ben.points_would_cover is True  # the points alone would: what is missing is the requirement
    assert "Technical requirement not met: The Anaplan Way refresher." in ben.reasons


def test_waiting_points_that_would_not_reach_the_target_promise_nothing():
    (short,) = _plan([_standing(1, verified=40, pending=20)]).entries
    assert (short.would_meet, short.points_would_cover) == (False, False)


def test_a_recorded_outcome_is_kept_and_nothing_new_is_recorded_or_issued_twice():
    recorded = ReviewOutcome(
        outcome=ReviewOutcome.Outcome.RECERTIFIED, target_points=90, verified_points=95, reasons=["kept"]
    )
    report = _plan(
        [_standing(3, verified=0, outcome=recorded)],
        existing_certificates={3: "MA-2027-000003"},
        notified={3},
    )
    (entry,) = report.entries
    assert (entry.outcome, entry.target, entry.verified, entry.reasons) == ("recertified", 90, 95, ["kept"])
    assert entry.certificate_number == "MA-2027-000003"
    assert report.outcomes_to_record == report.certificates_to_issue == []
    assert (report.planned_notifications, report.planned_emails) == (0, 0)


def test_emails_are_planned_only_for_members_who_want_them():
    report = _plan([_standing(1, verified=100, email=True), _standing(2, verified=100, email=False)])
    assert (report.planned_notifications, report.planned_emails) == (2, 1)
