"""Every engagements service records who acted, with or without a request.

Issue 11, finding 8: the `actor` of six services was accepted and ignored, so from Celery, a
command or the shell the history said nobody did it. These calls run outside any request.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagements import services, tasks
from engagements.models import Opportunity, SignUp
from tests.factories import OpportunityFactory, SignUpFactory, SuggestionFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


def _who(instance):
    instance.refresh_from_db()
    return instance.history.latest().history_user


def test_staff_follow_up_services_record_the_staff_member(verifier):
    scheduled, completed, absent, withdrawn = SignUpFactory.create_batch(4)
    services.signup_schedule(
        signup_id=scheduled.pk, actor=verifier, next_steps="Slides", scheduled_for=timezone.now() + timedelta(days=3)
    )
    services.signup_mark_no_show(signup_id=absent.pk, actor=verifier)
    services.signup_withdraw_by_staff(signup_id=withdrawn.pk, actor=verifier, reason="Asked by phone.")
    SignUp.objects.filter(pk=completed.pk).update(scheduled_for=timezone.now() - timedelta(hours=1))
    services.signup_complete(signup_id=completed.pk, actor=verifier)
    assert [_who(s) for s in (scheduled, absent, withdrawn, completed)] == [verifier] * 4


def test_opportunity_services_record_the_staff_member(program_admin):
    published, cancelled = OpportunityFactory(state=Opportunity.State.DRAFT), OpportunityFactory()
    live = SignUpFactory(opportunity=cancelled)
    services.opportunity_set_state(opportunity_id=published.pk, actor=program_admin, state=Opportunity.State.PUBLISHED)
    services.opportunity_cancel(opportunity_id=cancelled.pk, actor=program_admin, reason="Venue lost.")
    assert [_who(o) for o in (published, cancelled, live)] == [program_admin] * 3


def test_a_slot_freed_by_staff_is_offered_in_their_name(verifier):
    opportunity = OpportunityFactory(capacity=1)
    holder = SignUpFactory(opportunity=opportunity)
    waiting = SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)
    services.signup_withdraw_by_staff(signup_id=holder.pk, actor=verifier, reason="Changed roles.")
    assert waiting.history.latest().state == SignUp.State.OFFERED
    assert _who(waiting) == verifier


def test_member_services_record_the_member(member, other_member):
    opportunity = OpportunityFactory(capacity=1)
    held, _ = services.signup_create(opportunity_id=opportunity.pk, member=member)
    waiting, _ = services.signup_create(opportunity_id=opportunity.pk, member=other_member)
    assert _who(held) == member and _who(waiting) == other_member
    services.signup_withdraw(signup_id=held.pk, member=member)
    assert _who(held) == member
    services.signup_offer_accept(signup_id=waiting.pk, member=other_member)
    assert _who(waiting) == other_member


def test_suggestion_decisions_record_the_staff_member(program_admin):
    suggestion = SuggestionFactory()
    services.suggestion_decline(suggestion_id=suggestion.pk, actor=program_admin, reason="Covered already.")
    assert _who(suggestion) == program_admin


def test_the_beat_job_expiring_offers_is_recorded_as_the_system(member):
    opportunity = OpportunityFactory(capacity=1)
    offered = SignUpFactory(
        opportunity=opportunity,
        member=with_mfa(member),
        state=SignUp.State.OFFERED,
        offer_expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert tasks.offers_expire.apply().get() == 1
    offered.refresh_from_db()
    assert offered.state == SignUp.State.WITHDRAWN
    assert offered.history.latest().history_user is None
