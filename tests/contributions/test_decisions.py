"""Decisions that are bounded and can be corrected or reopened (issue 11, finding 4)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from contributions import selectors, services
from contributions.models import Contribution
from tests.factories import ActivityTypeFactory, ContributionFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/contributions/contribution/"


@pytest.fixture
def talk(ma, year_2026):
    """A 60-point claim: one session of a 60-points-per-session type."""
    teaching = ActivityTypeFactory(program_year=year_2026, code="teach", name="Teach a class", points=60)
    return ContributionFactory(member=ma, activity_type=teaching, title="Level 1 class")


def _decisions(member):
    return Notification.objects.filter(user=member, kind="maintenance.decision")


# --- Bounds ----------------------------------------------------------------------------------


def test_an_award_above_the_types_points_for_the_quantity_is_refused(talk, verifier):
    with pytest.raises(services.ContributionError, match=r"at most 60 points"):
        services.contribution_decide(
            contribution_id=talk.pk, verifier=verifier, decision="verify", awarded_points=100_000, note="Great"
        )
    talk.refresh_from_db()
    assert talk.state == Contribution.State.SUBMITTED and talk.awarded_points is None
    assert not _decisions(talk.member).exists()


def test_an_award_above_the_annual_cap_is_refused(ma, replies, verifier):
    item = ContributionFactory(member=ma, activity_type=replies, quantity=Decimal(80), claimed_points=160)
    with pytest.raises(services.ContributionError, match=r"annual cap of 100 points"):
        services.contribution_decide(contribution_id=item.pk, verifier=verifier, decision="verify")
    assert (
        services.contribution_decide(
            contribution_id=item.pk, verifier=verifier, decision="verify", awarded_points=100, note="Capped"
        ).awarded_points
        == 100
    )


def test_a_verifier_cannot_override_the_bound(talk, verifier):
    with pytest.raises(services.ContributionError, match="Only a program admin"):
        services.contribution_decide(
            contribution_id=talk.pk,
            verifier=verifier,
            decision="verify",
            awarded_points=90,
            note="Double session",
            override_reason="It ran twice as long",
        )


def test_a_program_admin_overrides_the_bound_with_a_reason(talk, program_admin):
    with pytest.raises(services.ContributionError, match="reason"):
        services.contribution_decide(
            contribution_id=talk.pk, verifier=program_admin, decision="verify", awarded_points=90, note="Double"
        )
    decided = services.contribution_decide(
        contribution_id=talk.pk,
        verifier=program_admin,
        decision="verify",
        awarded_points=90,
        note="Double session",
        override_reason="It ran twice as long",
    )
    assert decided.awarded_points == 90
    record = decided.history.latest()
    assert record.history_user == program_admin
    assert "It ran twice as long" in record.history_change_reason


@override_settings(MAHOME_MAX_POINTS_PER_CONTRIBUTION=500)
def test_the_program_ceiling_holds_even_with_an_override(talk, program_admin):
    with pytest.raises(services.ContributionError, match=r"500 points"):
        services.contribution_decide(
            contribution_id=talk.pk,
            verifier=program_admin,
            decision="verify",
            awarded_points=501,
            note="Huge",
            override_reason="Exceptional",
        )


# --- Correct and reopen ----------------------------------------------------------------------


def test_correcting_a_verified_award_records_the_actor_and_notifies_once(talk, verifier, program_admin):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    before = _decisions(talk.member).count()
    corrected = services.contribution_correct(
        contribution_id=talk.pk, staff=program_admin, state="verified", awarded_points=45, reason="Only 45 minutes"
    )
    assert corrected.state == Contribution.State.VERIFIED and corrected.awarded_points == 45
    assert corrected.decided_by == program_admin and corrected.decision_note == "Only 45 minutes"
    record = corrected.history.latest()
    assert record.history_user == program_admin and record.history_change_reason.startswith("correct")
    assert _decisions(talk.member).count() == before + 1
    latest = _decisions(talk.member).latest("pk")
    assert "45 points" in latest.title and latest.body == "Only 45 minutes"
    assert [r.awarded_points for r in selectors.contribution_history(contribution=corrected)][-2:] == [60, 45]


def test_a_correction_needs_a_reason_and_a_change(talk, verifier):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    with pytest.raises(services.ContributionError, match="reason"):
        services.contribution_correct(
            contribution_id=talk.pk, staff=verifier, state="verified", awarded_points=50, reason=" "
        )
    with pytest.raises(services.ContributionError, match="already"):
        services.contribution_correct(
            contribution_id=talk.pk, staff=verifier, state="verified", awarded_points=60, reason="Same"
        )
    with pytest.raises(services.ContributionError, match=r"at most 60 points"):
        services.contribution_correct(
            contribution_id=talk.pk, staff=verifier, state="verified", awarded_points=100_000, reason="Typo"
        )


def test_a_rejection_can_be_corrected_to_verified(talk, verifier):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="reject", note="No evidence")
    corrected = services.contribution_correct(
        contribution_id=talk.pk, staff=verifier, state="verified", awarded_points=None, reason="Evidence found"
    )
    assert corrected.state == Contribution.State.VERIFIED and corrected.awarded_points == 60


def test_a_pending_item_cannot_be_corrected(talk, verifier):
    with pytest.raises(services.ContributionError, match="not been decided"):
        services.contribution_correct(
            contribution_id=talk.pk, staff=verifier, state="rejected", awarded_points=None, reason="x"
        )


def test_reopening_puts_a_decision_back_in_the_queue_and_it_can_be_verified_again(talk, verifier):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    services.contribution_reverse(contribution_id=talk.pk, staff=verifier, note="Duplicate?")
    reopened = services.contribution_reopen(contribution_id=talk.pk, staff=verifier, reason="Not a duplicate")
    assert reopened.state == Contribution.State.SUBMITTED and reopened.awarded_points is None
    assert reopened.history.latest().history_user == verifier
    assert _decisions(talk.member).latest("pk").body == "Not a duplicate"
    assert talk.pk in selectors.verification_queue().values_list("pk", flat=True)
    verified = services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    assert verified.state == Contribution.State.VERIFIED and verified.awarded_points == 60


def test_reopen_needs_a_decided_item_and_a_reason(talk, verifier):
    with pytest.raises(services.ContributionError, match="not been decided"):
        services.contribution_reopen(contribution_id=talk.pk, staff=verifier, reason="x")
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    with pytest.raises(services.ContributionError, match="reason"):
        services.contribution_reopen(contribution_id=talk.pk, staff=verifier, reason="")


def test_correct_and_reopen_lock_the_row(talk, verifier):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    with CaptureQueriesContext(connection) as queries:
        services.contribution_correct(
            contribution_id=talk.pk, staff=verifier, state="verified", awarded_points=30, reason="Half"
        )
        services.contribution_reopen(contribution_id=talk.pk, staff=verifier, reason="Look again")
    locks = [q["sql"] for q in queries.captured_queries if "FOR NO KEY UPDATE" in q["sql"]]
    assert len(locks) == 2


# --- Bulk actions skip what they do not apply to ---------------------------------------------------


def test_bulk_verify_skips_items_waiting_on_the_member_and_says_why(talk, ma, speaking, verifier):
    waiting = ContributionFactory(member=ma, activity_type=speaking, title="Waiting talk", state="needs_info")
    done = ContributionFactory(member=ma, activity_type=speaking, title="Done talk", state="verified")
    result = services.contributions_decide_bulk(
        contribution_ids=[talk.pk, waiting.pk, done.pk], staff=verifier, decision="verify"
    )
    assert [c.pk for c in result.done] == [talk.pk]
    skipped = dict(result.skipped)
    assert set(skipped) == {"Waiting talk", "Done talk"}
    assert "needs more information" in skipped["Waiting talk"]
    waiting.refresh_from_db()
    assert waiting.state == "needs_info"


def test_bulk_verify_action_names_the_skipped_items(client, talk, ma, speaking, verifier):
    waiting = ContributionFactory(member=ma, activity_type=speaking, title="Waiting talk", state="needs_info")
    client.force_login(with_mfa(verifier))
    response = client.post(
        CHANGELIST + "?state=all",
        {"action": "verify_at_claimed", "_selected_action": [talk.pk, waiting.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 contribution verified" in html
    assert "Skipped “Waiting talk”" in html and "needs more information" in html
    waiting.refresh_from_db()
    assert waiting.state == "needs_info"


def test_bulk_reopen_action_asks_for_a_reason_and_skips_pending_items(client, talk, ma, speaking, verifier):
    decided = ContributionFactory(member=ma, activity_type=speaking, title="Decided talk", state="verified")
    client.force_login(with_mfa(verifier))
    page = client.post(CHANGELIST + "?state=all", {"action": "reopen", "_selected_action": [talk.pk, decided.pk]})
    assert "Reason" in page.content.decode() and "1 selected item will be skipped" in page.content.decode()
    response = client.post(
        CHANGELIST + "?state=all",
        {"action": "reopen", "_selected_action": [talk.pk, decided.pk], "apply": "1", "note": "Audit"},
        follow=True,
    )
    html = response.content.decode()
    decided.refresh_from_db()
    assert decided.state == "submitted"
    assert "Skipped “Level 1 class”" in html


# --- The correction page ---------------------------------------------------------------------------


def test_the_correction_page_corrects_a_decision(client, talk, verifier):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    client.force_login(with_mfa(verifier))
    url = f"{CHANGELIST}{talk.pk}/correct/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "at most 60 points" in html
    assert "Override reason" not in html  # a verifier cannot override: the field is not shown
    refused = client.post(url, {"action": "verified", "awarded_points": "100000", "reason": "Typo"})
    assert "at most 60 points" in refused.content.decode()
    client.post(url, {"action": "verified", "awarded_points": "30", "reason": "Half a class"})
    talk.refresh_from_db()
    assert talk.awarded_points == 30 and talk.decided_by == verifier
    client.post(url, {"action": "reopen", "reason": "Ask the member"})
    talk.refresh_from_db()
    assert talk.state == "submitted"


def test_the_correction_page_offers_the_override_to_a_program_admin(client, talk, program_admin, verifier):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    client.force_login(with_mfa(program_admin))
    url = f"{CHANGELIST}{talk.pk}/correct/"
    assert "Override reason" in client.get(url).content.decode()
    client.post(url, {"action": "verified", "awarded_points": "90", "reason": "Double", "override_reason": "Twice"})
    talk.refresh_from_db()
    assert talk.awarded_points == 90


def test_the_decide_page_refuses_an_unbounded_award(client, talk, verifier):
    client.force_login(with_mfa(verifier))
    page = client.post(
        f"{CHANGELIST}{talk.pk}/decide/", {"decision": "verify", "awarded_points": "100000", "note": "Wow"}
    )
    assert "at most 60 points" in page.content.decode()
    talk.refresh_from_db()
    assert talk.state == "submitted"


def test_the_member_sees_the_correction_in_the_history(client, talk, verifier):
    services.contribution_decide(contribution_id=talk.pk, verifier=verifier, decision="verify")
    services.contribution_correct(
        contribution_id=talk.pk, staff=verifier, state="verified", awarded_points=30, reason="Half a class"
    )
    client.force_login(talk.member)
    html = client.get(f"/contributions/{talk.pk}/").content.decode()
    assert "Half a class" in html and "30 awarded" in html


# --- Locks that cannot pile up ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_correction_waiting_on_a_held_lock_answers_busy_instead_of_piling_up(ma, year_2026, verifier, monkeypatch):
    import threading

    from django.db import transaction

    teaching = ActivityTypeFactory(program_year=year_2026, code="teach", name="Teach a class", points=60)
    item = ContributionFactory(member=ma, activity_type=teaching, title="Level 1 class")
    services.contribution_decide(contribution_id=item.pk, verifier=verifier, decision="verify")
    monkeypatch.setattr(services.locks, "LOCK_TIMEOUT", "300ms")
    held, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        with transaction.atomic():
            Contribution.objects.select_for_update().get(pk=item.pk)
            held.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(services.ContributionError, match="Someone else is deciding"):
            services.contribution_correct(
                contribution_id=item.pk, staff=verifier, state="verified", awarded_points=30, reason="Half"
            )
    finally:
        release.set()
        holder.join()
    item.refresh_from_db()
    assert item.awarded_points == 60


def test_a_staff_correction_of_a_community_credit_survives_the_next_recompute(ma, replies, verifier):
    from datetime import date

    replies.tracking = "community"
    replies.save()
    services.contributions_sync_community(
        program_year=replies.program_year, counts=[(ma.pk, "replies", 30)], occurred_on=date(2026, 9, 30)
    )
    credit = Contribution.objects.get(source="community")
    assert credit.awarded_points == 60
    services.contribution_correct(
        contribution_id=credit.pk, staff=verifier, state="verified", awarded_points=10, reason="Mostly one-word replies"
    )
    services.contributions_sync_community(
        program_year=replies.program_year, counts=[(ma.pk, "replies", 40)], occurred_on=date(2026, 9, 30)
    )
    credit.refresh_from_db()
    assert (credit.awarded_points, credit.decided_by) == (10, verifier)
