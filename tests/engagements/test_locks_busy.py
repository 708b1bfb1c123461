"""Member-facing locking services wait at most a short lock_timeout and answer "busy, try again";
they are entry points, so they run in a durable transaction of their own."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from engagements import services
from engagements.models import Opportunity, SignUp
from tests.factories import OpportunityFactory


def _hold_opportunity_lock(opportunity_id):
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Opportunity.objects.select_for_update().get(pk=opportunity_id)
            locked.set()
            release.wait(timeout=30)
        connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=30)
    return holder, release


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_behind_a_held_lock_says_busy_on_the_page(client, member, monkeypatch):
    opportunity = OpportunityFactory(starts_at=timezone.now() + timedelta(days=3))
    signup, _ = services.signup_create(opportunity_id=opportunity.pk, member=member)
    client.force_login(member)
    monkeypatch.setattr(services.common, "LOCK_TIMEOUT", "100ms")
    holder, release = _hold_opportunity_lock(opportunity.pk)
    try:
        with pytest.raises(services.EngagementError, match="try again in a moment"):
            services.signup_withdraw(signup_id=signup.pk, member=member)
        page = client.post(f"/engagements/signups/{signup.pk}/withdraw/", follow=True)
        assert page.status_code == 200
        assert "try again in a moment" in page.content.decode()
    finally:
        release.set()
        holder.join(timeout=30)
    assert SignUp.objects.get(pk=signup.pk).state == SignUp.State.CONFIRMED


@pytest.mark.django_db
@pytest.mark.parametrize("service", ["signup_withdraw", "signup_offer_accept", "signup_offer_decline"])
def test_member_signup_services_are_entry_points_in_their_own_transaction(member, service):
    opportunity = OpportunityFactory()
    signup, _ = services.signup_create(opportunity_id=opportunity.pk, member=member)
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        getattr(services, service)(signup_id=signup.pk, member=member)
