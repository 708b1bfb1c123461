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


def _after_the_write(queries: list[dict]) -> list[str]:
    """The statements from the sign-up's first write (a slot taken, or a share lock) to its commit."""
    sqls = [q["sql"] for q in queries]
    first = next(i for i, sql in enumerate(sqls) if "FOR SHARE" in sql or 'INSERT INTO "engagements_signup"' in sql)
    return sqls[first : sqls.index("COMMIT", first)]


@pytest.mark.parametrize("full", [False, True])
def test_from_the_first_write_to_the_commit_two_round_trips(member, other_member, full):
    """A slot free: the insert that takes it, the opportunity read again. Full: the share lock with the read
    after it (one round trip), the insert. The notification after the commit."""
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=True)
    if full:
        services.signup_create(opportunity_id=opportunity.pk, member=other_member)
    with CaptureQueriesContext(connection) as captured:
        signup, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert created and signup.state == (SignUp.State.WAITLISTED if full else SignUp.State.CONFIRMED)
    held = _after_the_write(captured.captured_queries)
    assert len(held) == 2, held
    insert = held[1] if full else held[0]
    assert 'INSERT INTO "engagements_signup"' in insert and 'INSERT INTO "engagements_historicalsignup"' in insert
    if full:
        lock, read = held[0].split("FOR SHARE; ")
        assert lock.startswith('SELECT 1 FROM "engagements_opportunity"') and "EXISTS" in read
    else:
        assert 'FROM "engagements_opportunity" o ' in held[1] and "FOR " not in held[1]
    sqls = [q["sql"] for q in captured.captured_queries]
    notified = [i for i, sql in enumerate(sqls) if 'INSERT INTO "accounts_notification"' in sql]
    assert notified and notified[0] > sqls.index("COMMIT")  # after the commit
    assert Notification.objects.filter(user=member).count() == 1


def test_an_existing_sign_up_is_answered_without_writing(member):
    opportunity = OpportunityFactory(capacity=5)
    services.signup_create(opportunity_id=opportunity.pk, member=member)
    with CaptureQueriesContext(connection) as captured:
        _, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert not created
    assert not any("FOR " in q["sql"] or "INSERT" in q["sql"] for q in captured.captured_queries)


def test_before_writing_one_read(member):
    """The refusal, the member's own live sign-up and whether a slot is free are checked from one read."""
    opportunity = OpportunityFactory(capacity=5)
    with CaptureQueriesContext(connection) as captured:
        services.signup_create(opportunity_id=opportunity.pk, member=member)
    sqls = [q["sql"] for q in captured.captured_queries]
    first = next(i for i, sql in enumerate(sqls) if 'INSERT INTO "engagements_signup"' in sql)
    before = [sql for sql in sqls[:first] if sql not in ("BEGIN", "SAVEPOINT")]
    assert len(before) == 1, before
    assert before[0].startswith('SELECT "engagements_opportunity"') and before[0].count("EXISTS") == 2


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
