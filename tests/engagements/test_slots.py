"""One row per slot: a sign-up takes a free slot of its own, so sign-ups for the same opportunity do not
wait for one another's commit (issue 16: one hot opportunity ran at the disk's flush rate, every sign-up
queued on the opportunity's row lock until the one before had flushed its commit), and PostgreSQL itself
refuses a slot-holding sign-up beyond the capacity, whatever path writes it (the admin, an import, SQL)."""

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from engagements import services
from engagements.models import Opportunity, SignUp
from tests.factories import OpportunityFactory, SignUpFactory, UserFactory
from tests.helpers import held_open

pytestmark = pytest.mark.django_db(transaction=True)


def _set_lock_timeout(seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{int(seconds * 1000)}ms'")


def _slot_ids(opportunity: Opportunity) -> list[int | None]:
    return list(
        SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES)
        .order_by("pk")
        .values_list("slot_id", flat=True)
    )


def test_a_sign_up_does_not_wait_for_another_members_uncommitted_sign_up(member, other_member):
    """Two members signing up for one opportunity at once: neither waits for the other's commit."""
    opportunity = OpportunityFactory(capacity=5, waitlist_enabled=True)

    def sign_up_and_hold():
        services.signup_create(opportunity_id=opportunity.pk, member=other_member)

    with held_open(sign_up_and_hold):
        _set_lock_timeout(2)  # waiting for the held transaction's commit would fail with "lock timeout"
        try:
            signup, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
        finally:
            _set_lock_timeout(0)
    assert created and signup.state == SignUp.State.CONFIRMED
    held = _slot_ids(opportunity)
    assert len(held) == 2 and None not in held and len(set(held)) == 2  # two different slots


def test_the_last_slot_held_by_a_sign_up_that_rolls_back_goes_to_the_one_that_waited(member, other_member):
    """The only free slot is being taken by a transaction that then fails: the sign-up that came meanwhile
    waits for it rather than skip to the waitlist, and takes the slot."""
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=True)
    taken, release, errors = threading.Event(), threading.Event(), []

    class RolledBack(Exception):
        pass

    def take_then_fail():
        try:
            with transaction.atomic():
                services.signup_create(opportunity_id=opportunity.pk, member=other_member)
                taken.set()
                release.wait(timeout=30)
                raise RolledBack
        except RolledBack:
            pass
        except BaseException as error:
            errors.append(error)
        finally:
            taken.set()
            connections.close_all()

    thread = threading.Thread(target=take_then_fail)
    thread.start()
    try:
        assert taken.wait(timeout=30) and not errors
        threading.Timer(0.5, release.set).start()  # rolls back while the sign-up below waits
        signup, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
    finally:
        release.set()
        thread.join(timeout=30)
    assert not errors
    assert created and signup.state == SignUp.State.CONFIRMED
    assert not SignUp.objects.filter(opportunity=opportunity, member=other_member).exists()


def test_postgresql_refuses_a_slot_holding_sign_up_beyond_the_capacity(member, other_member):
    """Written around the service (a factory here: the ORM's own INSERT), the second confirmed sign-up
    for one slot is refused by the database; so is a waitlisted sign-up set to confirmed in SQL."""
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=True)
    SignUpFactory(opportunity=opportunity, member=member)
    with pytest.raises(DatabaseError, match="no free slot"), transaction.atomic():
        SignUpFactory(opportunity=opportunity, member=other_member)
    waiting = SignUpFactory(opportunity=opportunity, member=other_member, state=SignUp.State.WAITLISTED)
    with pytest.raises(DatabaseError, match="no free slot"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE engagements_signup SET state = 'confirmed' WHERE id = %s", [waiting.pk])
    assert SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES).count() == 1


def test_a_slot_follows_its_sign_up_through_its_life(member, other_member, program_admin):
    """Confirmed, scheduled and completed keep their slot; withdrawing frees it, and the offer to the next
    in line takes that slot."""
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=True)
    first, _ = services.signup_create(opportunity_id=opportunity.pk, member=member)
    second, _ = services.signup_create(opportunity_id=opportunity.pk, member=other_member)
    first.refresh_from_db()
    slot = first.slot_id
    assert slot is not None and second.state == SignUp.State.WAITLISTED
    services.signup_withdraw(signup_id=first.pk, member=member)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.slot_id is None and second.state == SignUp.State.OFFERED and second.slot_id == slot
    services.signup_offer_accept(signup_id=second.pk, member=other_member)
    second.refresh_from_db()
    assert second.state == SignUp.State.CONFIRMED and second.slot_id == slot


def test_the_slots_follow_the_capacity_in_postgresql(program_admin):
    """Raising the capacity adds free slots; lowering it removes free ones and is refused below the held
    ones even in SQL; an unlimited opportunity has none, and limiting it gives its sign-ups theirs."""
    opportunity = OpportunityFactory(capacity=None, waitlist_enabled=True)
    members = UserFactory.create_batch(3)
    for one in members:
        SignUpFactory(opportunity=opportunity, member=one)
    assert _slot_ids(opportunity) == [None, None, None]
    services.opportunity_update(opportunity_id=opportunity.pk, actor=program_admin, changes={"capacity": 4})
    held = _slot_ids(opportunity)
    assert None not in held and len(set(held)) == 3
    assert opportunity.slots.count() == 4 and opportunity.slots.filter(taken=False).count() == 1
    with pytest.raises(DatabaseError, match="slots are held"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE engagements_opportunity SET capacity = 2 WHERE id = %s", [opportunity.pk])
    services.opportunity_update(opportunity_id=opportunity.pk, actor=program_admin, changes={"capacity": 3})
    assert opportunity.slots.count() == 3 and not opportunity.slots.filter(taken=False).exists()
    services.opportunity_update(opportunity_id=opportunity.pk, actor=program_admin, changes={"capacity": None})
    assert _slot_ids(opportunity) == [None, None, None] and not opportunity.slots.exists()


def test_a_cancellation_waits_for_a_sign_up_taking_a_slot_and_ends_it(member, program_admin):
    """A sign-up holding a slot, uncommitted, when staff cancel: the cancellation waits for it and ends
    it with the others (a sign-up never lands in a cancelled opportunity)."""
    opportunity = OpportunityFactory(capacity=3)

    def sign_up_and_hold():
        services.signup_create(opportunity_id=opportunity.pk, member=member)

    with held_open(sign_up_and_hold) as release:
        threading.Timer(0.5, release.set).start()
        told = services.opportunity_cancel(opportunity_id=opportunity.pk, actor=program_admin, reason="Venue lost.")
    assert told == 1
    assert SignUp.objects.get(opportunity=opportunity, member=member).state == SignUp.State.CANCELLED


def test_a_sign_up_losing_the_last_slot_every_time_is_told_to_try_again(member, monkeypatch):
    """Each try finding a free slot that another sign-up then takes (staff raising and lowering the
    capacity meanwhile could do it): after SIGN_UP_ATTEMPTS the member is asked to try again, no error
    page, nothing written."""
    from types import SimpleNamespace

    from django.db import IntegrityError

    from engagements.services import signups

    opportunity = OpportunityFactory(capacity=1)
    tries = []

    def lose_the_slot(signup, opportunity_id, now, *, take_slot):
        tries.append(take_slot)
        cause = Exception("no free slot")
        cause.diag = SimpleNamespace(constraint_name="signup_needs_free_slot")  # type: ignore[attr-defined] # psycopg's
        raise IntegrityError("no free slot") from cause

    monkeypatch.setattr(signups, "_place", lose_the_slot)
    with pytest.raises(services.EngagementError, match="try again"):
        services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert tries == [True] + [False] * (signups.SIGN_UP_ATTEMPTS - 1)  # the slot's way, then the waitlist's
    assert not SignUp.objects.exists()
