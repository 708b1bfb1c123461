import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification
from contributions.models import Contribution
from engagements import selectors, services
from engagements.models import Opportunity, SignUp
from tests.factories import OpportunityFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def _sign_up(opportunity, member):
    signup, _ = services.signup_create(opportunity_id=opportunity.pk, member=member)
    return signup


def test_signup_when_slots_are_free_is_confirmed_and_notified(member, django_capture_on_commit_callbacks):
    opportunity = OpportunityFactory(capacity=2)
    with django_capture_on_commit_callbacks(execute=True):  # the notification is written after commit
        signup = _sign_up(opportunity, member)
    assert signup.state == SignUp.State.CONFIRMED
    assert Notification.objects.get(user=member).kind == "engagement.confirmed"


def test_signup_takes_a_slot_and_no_exclusive_lock_on_the_opportunity(member, other_member):
    """A slot free: the sign-up's insert takes it (the database's trigger); full: a share lock on the
    opportunity, which sign-ups hold together, before the waitlist."""
    opportunity = OpportunityFactory(capacity=1)
    with CaptureQueriesContext(connection) as queries:
        confirmed = _sign_up(opportunity, member)
    assert not any("FOR NO KEY UPDATE" in q["sql"] or "FOR SHARE" in q["sql"] for q in queries.captured_queries)
    assert SignUp.objects.values_list("slot_id", flat=True).get(pk=confirmed.pk) == opportunity.slots.get().pk
    with CaptureQueriesContext(connection) as queries:
        waiting = _sign_up(opportunity, other_member)
    shared = [q["sql"] for q in queries.captured_queries if "FOR SHARE" in q["sql"]]
    assert waiting.state == SignUp.State.WAITLISTED and shared and '"engagements_opportunity"' in shared[0]
    assert not any("FOR NO KEY UPDATE" in q["sql"] for q in queries.captured_queries)


def test_signup_when_full_goes_to_waitlist_in_order():
    opportunity = OpportunityFactory(capacity=1)
    first, second, third = UserFactory.create_batch(3)
    assert _sign_up(opportunity, first).state == SignUp.State.CONFIRMED
    assert _sign_up(opportunity, second).state == SignUp.State.WAITLISTED
    assert _sign_up(opportunity, third).state == SignUp.State.WAITLISTED
    positions = [p for _, p in selectors.waitlist_positions(opportunity=opportunity)]
    assert positions == [1, 2]
    third_signup = selectors.signup_current_for_member(opportunity=opportunity, member=third)
    assert third_signup.waitlist_position == 2


def test_signing_up_twice_returns_the_live_signup(member):
    opportunity = OpportunityFactory(capacity=5)
    first, created = services.signup_create(opportunity_id=opportunity.pk, member=member)
    again, created_again = services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert created and not created_again and again.pk == first.pk
    assert SignUp.objects.count() == 1


def test_one_live_signup_per_member_is_a_database_constraint(member):
    from django.db import IntegrityError, transaction

    opportunity = OpportunityFactory()
    SignUp.objects.create(opportunity=opportunity, member=member, state=SignUp.State.CONFIRMED)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignUp.objects.create(opportunity=opportunity, member=member, state=SignUp.State.WAITLISTED)
    SignUp.objects.create(opportunity=opportunity, member=member, state=SignUp.State.WITHDRAWN)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"state": Opportunity.State.CANCELLED, "cancellation_reason": "Venue lost."}, "cancelled"),
        ({"state": Opportunity.State.CLOSED}, "closed"),
        ({"signup_closes_at": timezone.now() - timedelta(hours=1)}, "Sign-ups closed on"),
        ({"signup_opens_at": timezone.now() + timedelta(days=1)}, "Sign-ups open on"),
    ],
)
def test_signup_outside_the_window_is_refused_with_a_clear_message(member, changes, message):
    opportunity = OpportunityFactory(**changes)
    with pytest.raises(services.EngagementError, match=message):
        _sign_up(opportunity, member)
    assert not SignUp.objects.exists()


def test_full_opportunity_without_waitlist_refuses(member, other_member):
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=False)
    _sign_up(opportunity, other_member)
    with pytest.raises(services.EngagementError, match="no waitlist"):
        _sign_up(opportunity, member)


def test_unlimited_opportunity_confirms_everyone():
    opportunity = OpportunityFactory(capacity=None, starts_at=None)
    states = {_sign_up(opportunity, m).state for m in UserFactory.create_batch(5)}
    assert states == {SignUp.State.CONFIRMED}


def test_offer_chain_withdraw_offer_expiry_next_member_accept():
    opportunity = OpportunityFactory(capacity=1, offer_hours=48, starts_at=timezone.now() + timedelta(days=30))
    holder, first_in_line, second_in_line = UserFactory.create_batch(3)
    held = _sign_up(opportunity, holder)
    waiting_1 = _sign_up(opportunity, first_in_line)
    waiting_2 = _sign_up(opportunity, second_in_line)

    services.signup_withdraw(signup_id=held.pk, member=holder)
    waiting_1.refresh_from_db()
    assert waiting_1.state == SignUp.State.OFFERED
    assert waiting_1.offer_expires_at == pytest.approx(timezone.now() + timedelta(hours=48), abs=timedelta(minutes=1))
    assert Notification.objects.filter(user=first_in_line, kind="engagement.offered").exists()
    assert selectors.signup_current_for_member(opportunity=opportunity, member=second_in_line).waitlist_position == 1

    with time_machine.travel(timezone.now() + timedelta(hours=47), tick=False):
        assert services.offers_expire() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=49), tick=False):
        from engagements.tasks import offers_expire

        assert offers_expire.delay().get() == 1
        waiting_1.refresh_from_db()
        waiting_2.refresh_from_db()
        assert waiting_1.state == SignUp.State.WITHDRAWN
        assert waiting_1.end_reason == SignUp.EndReason.OFFER_EXPIRED
        assert Notification.objects.filter(user=first_in_line, kind="engagement.offer_expired").exists()
        assert waiting_2.state == SignUp.State.OFFERED
        assert Notification.objects.filter(user=second_in_line, kind="engagement.offered").exists()

        accepted = services.signup_offer_accept(signup_id=waiting_2.pk, member=second_in_line)
    assert accepted.state == SignUp.State.CONFIRMED
    assert SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES).count() == 1


def test_accepting_an_expired_offer_passes_it_on(member, other_member):
    opportunity = OpportunityFactory(capacity=1, offer_hours=1)
    holder = UserFactory()
    held = _sign_up(opportunity, holder)
    offered = _sign_up(opportunity, member)
    waiting = _sign_up(opportunity, other_member)
    services.signup_withdraw(signup_id=held.pk, member=holder)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        result = services.signup_offer_accept(signup_id=offered.pk, member=member)
    assert result.state == SignUp.State.WITHDRAWN and result.end_reason == SignUp.EndReason.OFFER_EXPIRED
    waiting.refresh_from_db()
    assert waiting.state == SignUp.State.OFFERED


def test_declining_an_offer_offers_the_next(member, other_member):
    opportunity = OpportunityFactory(capacity=1)
    holder = UserFactory()
    held = _sign_up(opportunity, holder)
    offered = _sign_up(opportunity, member)
    waiting = _sign_up(opportunity, other_member)
    services.signup_withdraw(signup_id=held.pk, member=holder)
    services.signup_offer_decline(signup_id=offered.pk, member=member)
    waiting.refresh_from_db()
    assert waiting.state == SignUp.State.OFFERED


def test_another_members_signup_cannot_be_withdrawn(member, other_member):
    signup = _sign_up(OpportunityFactory(), member)
    with pytest.raises(SignUp.DoesNotExist):
        services.signup_withdraw(signup_id=signup.pk, member=other_member)


def test_withdrawal_after_the_date_is_staff_only(member):
    opportunity = OpportunityFactory(starts_at=timezone.now() + timedelta(days=1))
    signup = _sign_up(opportunity, member)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        with pytest.raises(services.EngagementError, match="contact the program team"):
            services.signup_withdraw(signup_id=signup.pk, member=member)
        staff = StaffFactory()
        withdrawn = services.signup_withdraw_by_staff(signup_id=signup.pk, actor=staff, reason="Travel cancelled.")
        assert withdrawn.state == SignUp.State.WITHDRAWN


def test_raising_capacity_offers_the_new_slots():
    opportunity = OpportunityFactory(capacity=1)
    members = UserFactory.create_batch(4)
    signups = [_sign_up(opportunity, m) for m in members]
    Opportunity.objects.filter(pk=opportunity.pk).update(capacity=3)
    offered = services.opportunity_fill_free_slots(opportunity_id=opportunity.pk)
    assert [s.pk for s in offered] == [signups[1].pk, signups[2].pk]
    assert selectors.signup_current_for_member(opportunity=opportunity, member=members[3]).waitlist_position == 1


def test_no_show_before_the_date_frees_the_slot_for_the_waitlist(member, other_member):
    opportunity = OpportunityFactory(capacity=1)
    held = _sign_up(opportunity, member)
    waiting = _sign_up(opportunity, other_member)
    services.signup_mark_no_show(signup_id=held.pk, actor=StaffFactory())
    waiting.refresh_from_db()
    assert waiting.state == SignUp.State.OFFERED


def test_schedule_then_complete_credits_the_points_once(member):
    opportunity = OpportunityFactory(points=55)
    staff = StaffFactory()
    signup = _sign_up(opportunity, member)
    when = timezone.now() + timedelta(days=3)
    services.signup_schedule(signup_id=signup.pk, actor=staff, next_steps="Send us your abstract.", scheduled_for=when)
    signup.refresh_from_db()
    assert signup.state == SignUp.State.SCHEDULED
    with time_machine.travel(when + timedelta(hours=1)):  # completing is possible from the engagement's date on
        _, changed = services.signup_complete(signup_id=signup.pk, actor=staff)
        _, changed_again = services.signup_complete(signup_id=signup.pk, actor=staff)
    assert changed and not changed_again
    contribution = Contribution.objects.get(member=member)
    assert contribution.source_key == f"signup:{signup.pk}"
    assert contribution.state == Contribution.State.VERIFIED
    assert contribution.awarded_points == 55
    assert contribution.occurred_on == timezone.localdate(when)
    assert signup.history.filter(state=SignUp.State.COMPLETED).count() == 1


def test_completing_a_withdrawn_signup_is_refused(member):
    signup = _sign_up(OpportunityFactory(), member)
    services.signup_withdraw(signup_id=signup.pk, member=member)
    with pytest.raises(services.EngagementError):
        services.signup_complete(signup_id=signup.pk, actor=StaffFactory())
    assert not Contribution.objects.exists()


def test_cancelling_notifies_every_live_signup():
    opportunity = OpportunityFactory(capacity=1)
    members = UserFactory.create_batch(3)
    for m in members:
        _sign_up(opportunity, m)
    told = services.opportunity_cancel(opportunity_id=opportunity.pk, actor=StaffFactory(), reason="Venue closed.")
    assert told == 3
    assert set(SignUp.objects.values_list("state", flat=True)) == {SignUp.State.CANCELLED}
    assert Notification.objects.filter(kind="engagement.cancelled", body="Venue closed.").count() == 3


def test_capacity_cannot_drop_below_the_slots_held(member, other_member):
    opportunity = OpportunityFactory(capacity=3)
    _sign_up(opportunity, member)
    _sign_up(opportunity, other_member)
    opportunity.capacity = 1
    assert "2 slots are already held" in services.opportunity_capacity_problem(opportunity=opportunity)
    opportunity.capacity = 2
    assert services.opportunity_capacity_problem(opportunity=opportunity) is None


@pytest.mark.django_db(transaction=True)
def test_completion_marked_concurrently_from_two_tabs_credits_once():
    opportunity = OpportunityFactory(points=30)
    member = UserFactory()
    staff = StaffFactory()
    signup = _sign_up(opportunity, member)
    Opportunity.objects.filter(pk=opportunity.pk).update(starts_at=timezone.now() - timedelta(hours=1))  # it took place
    barrier = threading.Barrier(2)
    results, errors = [], []

    def mark():
        try:
            barrier.wait()
            results.append(services.signup_complete(signup_id=signup.pk, actor=staff)[1])
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=mark) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == [False, True]
    assert Contribution.objects.filter(source_key=f"signup:{signup.pk}").count() == 1
    assert SignUp.history.filter(id=signup.pk, state=SignUp.State.COMPLETED).count() == 1


def test_signup_holds_its_slot_only_to_insert_and_read_again(member, django_capture_on_commit_callbacks):
    """Everything that does not need the slot (checks, the notification) happens before it or after commit:
    from the insert that takes the slot to the commit, only the opportunity read again."""
    opportunity = OpportunityFactory(capacity=2)
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        _sign_up(opportunity, member)
    statements = [q["sql"] for q in queries.captured_queries]
    insert = next(
        i for i, sql in enumerate(statements) if sql.startswith('WITH s AS (INSERT INTO "engagements_signup"')
    )
    held = [sql for sql in statements[insert + 1 :] if not sql.startswith("RELEASE SAVEPOINT")]
    end = held.index("COMMIT") if "COMMIT" in held else len(held)
    assert (
        len(held[:end]) == 1 and held[0].startswith("SELECT o.") and 'FROM "engagements_opportunity" o ' in held[0]
    ), held
    assert not any("accounts_notification" in sql for sql in held[:end])
    assert Notification.objects.get(user=member).kind == "engagement.confirmed"
