"""The year-end review and the full recompute SIGKILLed half-way, then re-run: one clean run's result."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import MACertification, Notification, User
from accounts.tasks import notification_outbox_sweep
from community_levels import services as community
from community_levels.models import CommunityMember
from contributions import services as contributions
from contributions.models import Certificate, Contribution, ReviewOutcome, ReviewRun
from tests.factories import ActivityTypeFactory, ProgramYearFactory
from tests.faults.helpers import (
    community_reset,
    community_state,
    kill_hard,
    manage,
    process_env,
    test_database_url,
    wait_for,
    write_activity_file,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MEMBERS = 400


def _command_env() -> dict:
    # Tasks (the review's emails) run inside the command; no broker is involved.
    return process_env(database_url=test_database_url(), broker_url="memory://", FAULTS_CELERY_EAGER="1")


def _finish(*args: str) -> None:
    process = manage(_command_env(), *args)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()


# --- Year-end review ------------------------------------------------------------------------------


def _year_with_members():
    year = ProgramYearFactory(year=2021)
    activity = ActivityTypeFactory(program_year=year, points=100)
    users = User.objects.bulk_create(
        User(email=f"ma{i:04d}@example.com", first_name=f"Member {i}", password="!") for i in range(MEMBERS)
    )
    MACertification.objects.bulk_create(
        MACertification(user=user, certificate_number=f"MA-{i:05d}", qualified_on=date(2019, 6, 1))
        for i, user in enumerate(users)
    )
    Contribution.objects.bulk_create(
        Contribution(
            member=user,
            program_year=year,
            activity_type=activity,
            title="Year of work",
            occurred_on=date(2021, 3, 15),
            quantity=Decimal(1),
            state=Contribution.State.VERIFIED,
            claimed_points=points,
            awarded_points=points,
        )
        for i, user in enumerate(users)
        if (points := (0, 200, 400, 500)[i % 4])
    )
    return year


def _review_state() -> dict:
    """What the review decided and told; a certificate link is compared by whose certificate it opens
    (verification codes are random, so a clean run's differ)."""
    reviews = Notification.objects.filter(kind="maintenance.review")
    own_link = {
        email: f"/verify/{code}/"
        for email, code in Certificate.objects.values_list("member__email", "verification_code")
    }
    told = [
        (email, title, body, "<own certificate>" if url == own_link.get(email) else url, state)
        for email, title, body, url, state in reviews.values_list("user__email", "title", "body", "url", "email_state")
    ]
    return {
        "outcomes": sorted(
            ReviewOutcome.objects.values_list(
                "member__email", "program_year__year", "outcome", "target_points", "verified_points", "reasons"
            )
        ),
        "certificates": sorted(Certificate.objects.values_list("member__email", "number", "year", "valid_until")),
        "notifications": sorted(told),
    }


def _outbox_sweep_now() -> int:
    """What beat's outbox sweep does a few minutes later, without waiting the minute it leaves."""
    Notification.objects.filter(email_state=Notification.EmailState.PENDING).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    return notification_outbox_sweep()  # eager here: the sends run in this process


def test_the_year_end_review_killed_half_way_and_run_again_ends_as_one_clean_run(mailoutbox):
    year = _year_with_members()

    review = manage(_command_env(), "year_end_review", "2021")
    reviews = Notification.objects.filter(kind="maintenance.review")
    wait_for(
        lambda: review.poll() is not None or 0 < reviews.count() < MEMBERS // 2,
        timeout=60,
        interval=0.01,
        what="the review to be telling the members",
    )
    assert kill_hard(review), "the review finished before it could be killed"
    told = reviews.count()
    assert 0 < told < MEMBERS
    # The outcomes and certificates are one transaction: all there, though not everyone was told yet.
    assert ReviewOutcome.objects.count() == MEMBERS
    assert Certificate.objects.count() == MEMBERS // 2

    _finish("year_end_review", "2021")
    # A notification the kill caught between its commit and its email waits in the outbox; beat's sweep sends it.
    recovered = _outbox_sweep_now()
    assert len(mailoutbox) == recovered <= 1
    mailoutbox.clear()
    after_rerun = _review_state()
    assert len(after_rerun["notifications"]) == MEMBERS, "every member told once, nobody twice"
    assert {state for *_, state in after_rerun["notifications"]} == {Notification.EmailState.SENT}
    outcomes = [outcome for _email, _year, outcome, *_ in after_rerun["outcomes"]]
    assert outcomes.count("recertified") == MEMBERS // 2 and outcomes.count("lapsed") == MEMBERS // 2

    # The reference: the same review, run once without interruption, from nothing recorded.
    Notification.objects.all().delete()
    Certificate.objects.all().delete()
    ReviewOutcome.objects.all().delete()
    ReviewRun.objects.all().delete()  # the record of the run is written with the outcomes
    contributions.year_end_review(program_year=year, dry_run=False)
    assert _review_state() == after_rerun
    assert len(mailoutbox) == MEMBERS


# --- Full recompute -------------------------------------------------------------------------------


def _recompute_lock_held() -> bool:
    """Another session of this database is inside the recompute's transaction (it holds its advisory lock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND d.datname = current_database() AND l.pid <> pg_backend_pid())"
        )
        return cursor.fetchone()[0]


def test_a_full_recompute_killed_inside_its_transaction_leaves_nothing_and_the_rerun_matches_a_clean_run(tmp_path):
    write_activity_file(tmp_path / "activity.jsonl", members=3000, per_member=6)
    community.activity_ingest_file(path=tmp_path / "activity.jsonl", recompute=False)
    before = community_state()
    assert not before["level_history"]

    recompute = manage(_command_env(), "recompute_levels", "--full")
    wait_for(
        lambda: recompute.poll() is not None or _recompute_lock_held(),
        timeout=60,
        interval=0.005,
        what="the recompute to start",
    )
    killed = kill_hard(recompute)
    # The server notices the dead client at its next read and rolls back; wait for it to let go.
    wait_for(lambda: not _recompute_lock_held(), timeout=30, what="the killed session to end")
    after_kill = community_state()
    if killed:
        assert after_kill == before, "a kill inside the transaction leaves nothing behind"
    else:  # it committed before the kill could land: then everything is there
        assert len(after_kill["level_history"]) == 3000

    _finish("recompute_levels", "--full")
    after_rerun = community_state()
    assert len(after_rerun["level_history"]) == 3000, "one placement per member, none twice"
    assert not CommunityMember.objects.filter(pending_recompute__isnull=False).exists()

    community_reset(keep_activity=True)
    assert community_state() == before
    community.recompute(full=True, reason="Full recompute")
    assert community_state() == after_rerun
