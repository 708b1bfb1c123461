"""Signing up holds the opportunity's row lock for the least work: between taking it and the commit,
only the count of held slots (a statement of its own, sent with the lock in one round trip) and one
statement inserting the sign-up and its history row. Every check that needs no lock runs before it;
the member's notification after the commit."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from engagements import services
from engagements.models import Opportunity, SignUp
from tests.factories import OpportunityFactory, SignUpFactory
from tests.helpers import held_open

pytestmark = pytest.mark.django_db(transaction=True)


def _under_the_lock(queries: list[dict]) -> list[str]:
    sqls = [q["sql"] for q in queries]
    locked = next(i for i, sql in enumerate(sqls) if "FOR NO KEY UPDATE" in sql)
    return sqls[locked + 1 :]


@pytest.mark.parametrize("full", [False, True])
def test_the_lock_covers_the_count_and_the_insert_only(member, other_member, full):
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=True)
    if full:
        services.signup_create(opportunity_id=opportunity.pk, member=other_member)
    with CaptureQueriesContext(connection) as captured:
        signup, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert created and signup.state == (SignUp.State.WAITLISTED if full else SignUp.State.CONFIRMED)
    under = _under_the_lock(captured.captured_queries)
    held = under[: under.index("COMMIT")]  # the lock is released at this commit
    assert len(held) == 1, held
    assert 'INSERT INTO "engagements_signup"' in held[0] and 'INSERT INTO "engagements_historicalsignup"' in held[0]
    # The locking round trip: the lock, then a statement of its own (a snapshot taken once the lock is
    # held) that reads the opportunity and counts its held slots.
    locking = next(q["sql"] for q in captured.captured_queries if "FOR NO KEY UPDATE" in q["sql"])
    lock, read = locking.split("FOR NO KEY UPDATE; ")
    assert lock.startswith('SELECT 1 FROM "engagements_opportunity"') and "SELECT COUNT(*)" in read
    notified = [i for i, sql in enumerate(under) if 'INSERT INTO "accounts_notification"' in sql]
    assert notified and notified[0] > len(held)  # after the commit
    assert Notification.objects.filter(user=member).count() == 1


def test_an_existing_sign_up_is_answered_without_taking_the_lock(member):
    opportunity = OpportunityFactory(capacity=5)
    services.signup_create(opportunity_id=opportunity.pk, member=member)
    with CaptureQueriesContext(connection) as captured:
        _, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert not created
    assert not any("FOR NO KEY UPDATE" in q["sql"] for q in captured.captured_queries)


def test_before_the_lock_one_read(member):
    """The refusal and the member's own live sign-up are checked from one read of the opportunity."""
    opportunity = OpportunityFactory(capacity=5)
    with CaptureQueriesContext(connection) as captured:
        services.signup_create(opportunity_id=opportunity.pk, member=member)
    sqls = [q["sql"] for q in captured.captured_queries]
    locked = next(i for i, sql in enumerate(sqls) if "FOR NO KEY UPDATE" in sql)
    before = [sql for sql in sqls[:locked] if sql not in ("BEGIN", "SAVEPOINT")]
    assert len(before) == 1, before
    assert before[0].startswith('SELECT "engagements_opportunity"') and "EXISTS" in before[0]


def test_a_sign_up_that_waited_for_the_lock_counts_the_slot_its_holder_took(member, other_member):
    """The held slots are counted with a snapshot taken once the lock is held: a sign-up that waited for
    another transaction's lock on the opportunity sees the slot that one took and committed, and goes to
    the waitlist (counted with a snapshot from before the wait, it would take the slot again: overbooking)."""
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=True)

    def take_the_last_slot():
        Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity.pk)
        SignUpFactory(opportunity=opportunity, member=other_member)

    with held_open(take_the_last_slot) as release:
        threading.Timer(0.5, release.set).start()  # commits while the sign-up below waits for the lock
        signup, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert created and signup.state == SignUp.State.WAITLISTED
    assert SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES).count() == 1
