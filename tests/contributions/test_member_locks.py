"""A member's change to their own contribution waits at most the short lock_timeout for a row a
verifier holds, then says "busy, try again" (not a 500, not a queue of workers); the page-level
services are entry points with their own durable transaction."""

import threading

import pytest
from django.db import connections, transaction

from contributions import services
from contributions.models import Contribution
from tests.factories import ContributionFactory


@pytest.mark.django_db(transaction=True)
def test_withdrawing_while_a_verifier_holds_the_item_says_busy(client, ma, speaking, monkeypatch):
    item = ContributionFactory(member=ma, activity_type=speaking, state=Contribution.State.SUBMITTED)
    client.force_login(ma)
    monkeypatch.setattr(services.locks, "LOCK_TIMEOUT", "100ms")
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Contribution.objects.select_for_update().get(pk=item.pk)
            locked.set()
            release.wait(timeout=30)
        connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        page = client.post(f"/contributions/{item.pk}/withdraw/", follow=True)
        assert page.status_code == 200
        assert "try again in a moment" in page.content.decode()
        with pytest.raises(services.ContributionError, match="try again in a moment"):
            services.contribution_submit(contribution=item, member=ma)
    finally:
        release.set()
        holder.join(timeout=30)
    item.refresh_from_db()
    assert item.state == Contribution.State.SUBMITTED


@pytest.mark.django_db
@pytest.mark.parametrize("service", ["contribution_withdraw", "contribution_draft_delete"])
def test_the_members_page_services_run_in_their_own_transaction(ma, speaking, service):
    item = ContributionFactory(member=ma, activity_type=speaking, state=Contribution.State.DRAFT)
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        getattr(services, service)(contribution=item, member=ma)
