import threading
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from contributions import selectors, services
from contributions.models import Contribution, OptOut
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    StaffFactory,
    TechnicalRequirementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


def _submit(member, activity_type, *, quantity=1, today=TODAY, **extra):
    return services.contribution_create(
        member=member,
        activity_type=activity_type,
        title="Talk at the user group",
        occurred_on=date(2026, 10, 1),
        quantity=quantity,
        evidence_url="https://example.com/talk",
        submit=True,
        today=today,
        **extra,
    )


def test_claimed_points_come_from_the_type_and_quantity(ma, speaking):
    # Hours may be split; items are whole (test_whole_units).
    office_hours = ActivityTypeFactory(program_year=speaking.program_year, points=100, unit="hour")
    contribution = _submit(ma, office_hours, quantity=Decimal("2.5"))
    assert contribution.claimed_points == 250
    assert contribution.state == Contribution.State.SUBMITTED
    assert contribution.submitted_at is not None


def test_submission_after_the_deadline_is_refused_with_a_clear_message(ma, speaking):
    with pytest.raises(services.ContributionError, match=r"closed on 1 Jan 2027"):
        _submit(ma, speaking, today=date(2027, 1, 2))
    assert not Contribution.objects.exists()


def test_a_grace_period_keeps_submissions_open(ma, speaking):
    speaking.program_year.grace_until = date(2027, 1, 15)
    speaking.program_year.save()
    assert _submit(ma, speaking, today=date(2027, 1, 10)).state == Contribution.State.SUBMITTED
    with pytest.raises(services.ContributionError):
        _submit(ma, speaking, today=date(2027, 1, 16))


def test_a_date_outside_the_types_year_is_refused(ma, speaking):
    with pytest.raises(services.ContributionError, match="outside the 2026 year"):
        services.contribution_create(
            member=ma, activity_type=speaking, title="Old talk", occurred_on=date(2025, 12, 1), today=TODAY
        )


def test_evidence_is_required_to_submit_when_the_type_asks_for_it(ma, speaking):
    with pytest.raises(services.ContributionError, match="needs evidence"):
        services.contribution_create(
            member=ma, activity_type=speaking, title="Talk", occurred_on=date(2026, 5, 1), submit=True, today=TODAY
        )
    draft = services.contribution_create(
        member=ma, activity_type=speaking, title="Talk", occurred_on=date(2026, 5, 1), today=TODAY
    )
    assert draft.state == Contribution.State.DRAFT


def test_auto_tracked_types_cannot_be_submitted_by_hand(ma, year_2026):
    replies = ActivityTypeFactory(program_year=year_2026, tracking="community", points=2)
    with pytest.raises(services.ContributionError, match="credited automatically"):
        _submit(ma, replies)


def test_a_draft_cannot_be_changed_to_an_auto_tracked_type_and_says_why_in_the_same_words(ma, speaking, year_2026):
    """Creating and changing a claim check the same rule (`_claim_check`), so they refuse alike."""
    replies = ActivityTypeFactory(program_year=year_2026, tracking="community", points=2)
    draft = services.contribution_create(
        member=ma, activity_type=speaking, title="Talk", occurred_on=date(2026, 3, 1), today=date(2026, 3, 2)
    )
    with pytest.raises(services.ContributionError, match="credited automatically or no longer offered"):
        services.contribution_update(
            contribution=draft,
            member=ma,
            activity_type=replies,
            title="Talk",
            occurred_on=date(2026, 3, 1),
            quantity=1,
            today=date(2026, 3, 2),
        )


def test_state_machine_needs_info_then_resubmit_then_verify(ma, speaking, verifier):
    contribution = _submit(ma, speaking)
    services.contribution_decide(
        contribution_id=contribution.pk, verifier=verifier, decision="needs_info", note="Add the agenda"
    )
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.NEEDS_INFO
    note = Notification.objects.get(user=ma, kind="maintenance.decision")
    assert "More information needed" in note.title and note.body == "Add the agenda"
    with pytest.raises(services.ContributionError, match="Answer the verifier's question first"):
        services.contribution_submit(contribution=contribution, member=ma, today=TODAY)
    services.contribution_reply(contribution=contribution, member=ma, body="Agenda attached.", today=TODAY)
    services.contribution_decide(contribution_id=contribution.pk, verifier=verifier, decision="verify")
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.VERIFIED
    assert contribution.awarded_points == 100
    assert contribution.decided_by == verifier
    states = [h.state for h in contribution.history.order_by("history_date", "history_id")]
    assert states == ["submitted", "needs_info", "submitted", "verified"]
    assert contribution.history.latest().history_user == verifier


def test_awarding_other_points_needs_a_note(ma, speaking, verifier):
    contribution = _submit(ma, speaking)
    with pytest.raises(services.ContributionError, match="Explain"):
        services.contribution_decide(
            contribution_id=contribution.pk, verifier=verifier, decision="verify", awarded_points=50
        )
    services.contribution_decide(
        contribution_id=contribution.pk, verifier=verifier, decision="verify", awarded_points=50, note="Half a talk"
    )
    contribution.refresh_from_db()
    assert contribution.awarded_points == 50


def test_a_second_decision_is_refused(ma, speaking, verifier):
    contribution = _submit(ma, speaking)
    services.contribution_decide(contribution_id=contribution.pk, verifier=verifier, decision="verify")
    with pytest.raises(services.ContributionError, match="already decided"):
        services.contribution_decide(contribution_id=contribution.pk, verifier=verifier, decision="reject", note="x")


def test_decide_locks_the_row(ma, speaking, verifier):
    contribution = _submit(ma, speaking)
    with CaptureQueriesContext(connection) as queries:
        services.contribution_decide(contribution_id=contribution.pk, verifier=verifier, decision="verify")
    assert any("FOR NO KEY UPDATE" in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_two_verifiers_at_once_make_one_decision():
    year = ProgramYearFactory(year=2026)
    activity_type = ActivityTypeFactory(program_year=year, points=100)
    member = UserFactory()
    contribution = ContributionFactory(member=member, activity_type=activity_type)
    verifiers = [StaffFactory(), StaffFactory()]
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(verifier, decision):
        try:
            barrier.wait()
            services.contribution_decide(
                contribution_id=contribution.pk, verifier=verifier, decision=decision, note="Checked"
            )
            outcomes.append(decision)
        except services.ContributionError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(verifiers[0], "verify")),
        threading.Thread(target=decide, args=(verifiers[1], "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["refused", "verify"], ["refused", "reject"])
    contribution.refresh_from_db()
    decided = contribution.history.filter(state__in=["verified", "rejected"])
    assert decided.count() == 1
    assert Notification.objects.filter(user=member, kind="maintenance.decision").count() == 1


def test_withdraw_before_a_decision_only(ma, speaking, verifier):
    contribution = _submit(ma, speaking)
    services.contribution_withdraw(contribution=contribution, member=ma)
    assert Contribution.objects.get(pk=contribution.pk).state == Contribution.State.WITHDRAWN
    other = _submit(ma, speaking)
    services.contribution_decide(contribution_id=other.pk, verifier=verifier, decision="verify")
    with pytest.raises(services.ContributionError):
        services.contribution_withdraw(contribution=other, member=ma)


def test_verified_points_over_a_cap_are_not_counted_and_the_excess_is_kept(ma, replies, speaking):
    ContributionFactory(member=ma, activity_type=replies, quantity=60, claimed_points=120, state="verified")
    ContributionFactory(member=ma, activity_type=speaking, claimed_points=100, state="verified", awarded_points=100)
    ContributionFactory(member=ma, activity_type=replies, quantity=5, claimed_points=10, state="submitted")
    standing = selectors.member_year_for(user=ma, program_year=replies.program_year, today=TODAY)
    by_type = {t.activity_type.code: t for t in standing.type_totals}
    assert by_type["replies"].verified == 100
    assert by_type["replies"].excess == 20
    assert by_type["replies"].pending == 0  # no headroom left under the cap
    assert standing.verified == 200
    assert standing.excess == 20


def test_reversing_an_auto_credit(ma, replies, verifier):
    credited, created = services.contribution_credit_automatic(
        member=ma,
        activity_type=replies,
        occurred_on=date(2026, 3, 1),
        title="Replies",
        source_key="c:1",
        source="community",
    )
    assert created
    services.contribution_reverse(contribution_id=credited.pk, staff=verifier, note="Spam replies")
    credited.refresh_from_db()
    assert credited.state == Contribution.State.REJECTED and credited.awarded_points == 0


def test_target_override_is_used_and_explained(ma, year_2026, program_admin):
    services.target_override_set(
        member=ma, program_year=year_2026, target_points=150, reason="Leave of absence", set_by=program_admin
    )
    standing = selectors.member_year_for(user=ma, program_year=year_2026, today=TODAY)
    assert standing.target_points == 150
    assert standing.target_explanation == "Leave of absence"
    with pytest.raises(services.ContributionError):
        services.target_override_set(member=ma, program_year=year_2026, target_points=1, reason=" ", set_by=None)


def test_opt_out_and_undo_before_the_deadline(ma, year_2026):
    services.opt_out_create(member=ma, program_year=year_2026, today=TODAY)
    assert selectors.member_year_for(user=ma, program_year=year_2026, today=TODAY).status == "opted_out"
    assert services.opt_out_undo(member=ma, program_year=year_2026, today=TODAY)
    assert not OptOut.objects.exists()
    with pytest.raises(services.ContributionError, match="deadline has passed"):
        services.opt_out_create(member=ma, program_year=year_2026, today=date(2027, 1, 1))


def test_requirements_must_be_met_for_met_status(ma, speaking):
    requirement = TechnicalRequirementFactory(program_year=speaking.program_year)
    ContributionFactory(member=ma, activity_type=speaking, claimed_points=400, awarded_points=400, state="verified")
    year = speaking.program_year
    assert selectors.member_year_for(user=ma, program_year=year, today=TODAY).status == "on_track"
    services.requirement_status_set(requirement=requirement, member=ma, met_on=date(2026, 5, 1))
    assert selectors.member_year_for(user=ma, program_year=year, today=TODAY).status == "met"


def _met_member(year, activity_type):
    member = UserFactory()
    MACertificationFactory(user=member)
    ContributionFactory(
        member=member, activity_type=activity_type, claimed_points=400, awarded_points=400, state="verified"
    )
    return member


def test_deadline_reminders_go_once_to_members_not_met_nor_opted_out(ma, speaking, year_2026):
    met = _met_member(year_2026, speaking)
    opted = UserFactory()
    MACertificationFactory(user=opted)
    services.opt_out_create(member=opted, program_year=year_2026, today=TODAY)
    # 39 days before 2027-01-01: the 60-day reminder is due (the nearest threshold reached).
    assert services.maintenance_deadline_reminders_send(today=TODAY) == 1
    assert services.maintenance_deadline_reminders_send(today=TODAY) == 0
    reminder = Notification.objects.get(kind="maintenance.reminder")
    assert reminder.user == ma and reminder.dedupe_key == "maintenance-2026-reminder-60d"
    assert not Notification.objects.filter(user__in=[met, opted], kind="maintenance.reminder").exists()
    # 7 days before: one more, once.
    assert services.maintenance_deadline_reminders_send(today=date(2026, 12, 25)) == 1
    assert services.maintenance_deadline_reminders_send(today=date(2026, 12, 26)) == 0


def test_monthly_status_goes_once_a_month(ma, year_2026):
    assert services.maintenance_monthly_status_send(today=date(2026, 11, 1)) == 1
    assert services.maintenance_monthly_status_send(today=date(2026, 11, 1)) == 0
    assert services.maintenance_monthly_status_send(today=date(2026, 12, 1)) == 1
    body = Notification.objects.filter(kind="maintenance.status").first().body
    assert "Target 400 points" in body


def test_tasks_run_through_celery(ma, year_2026):
    from contributions import tasks

    with time_machine.travel(date(2026, 11, 5), tick=False):
        assert tasks.maintenance_monthly_status.delay().get() == 1
        assert tasks.maintenance_deadline_reminders.delay().get() == 1
    assert Notification.objects.filter(user=ma, kind__startswith="maintenance.").count() == 2


def test_an_auto_credit_counts_toward_the_year_its_date_falls_in(ma, replies):
    """Planned under 2026's catalogue, held in January 2027: credited to 2027's type of the same code."""
    next_year = ProgramYearFactory(year=2027)
    replies_2027 = ActivityTypeFactory(program_year=next_year, code=replies.code, points=3)
    credited, _ = services.contribution_credit_automatic(
        member=ma,
        activity_type=replies,
        occurred_on=date(2027, 1, 20),
        title="Replies",
        source_key="c:next-year",
        source="community",
    )
    assert credited.program_year == next_year
    assert credited.activity_type == replies_2027
    assert credited.claimed_points == 3


def test_an_auto_credit_keeps_its_type_when_the_next_year_has_no_such_type(ma, replies):
    ProgramYearFactory(year=2027)
    credited, _ = services.contribution_credit_automatic(
        member=ma,
        activity_type=replies,
        occurred_on=date(2027, 1, 20),
        title="Replies",
        source_key="c:no-type",
        source="community",
    )
    assert credited.activity_type == replies
