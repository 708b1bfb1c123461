"""Changing an opportunity in the admin: the capacity is decided under the opportunity's row lock.

The admin's form checks the capacity against the slots held when it validates, but sign-ups
commit between that check and the save. These tests commit real sign-ups (and a cancellation)
from another thread, on its own PostgreSQL connection, exactly in that window: after the form
validated and before the admin saves.
"""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from engagements import services
from engagements.admin import OpportunityAdmin
from engagements.models import Opportunity, SignUp
from tests.admin_forms import admin_form_data
from tests.factories import OpportunityFactory, SignUpFactory, UserFactory
from tests.helpers import with_mfa


@pytest.fixture
def admin_client(client, program_admin):
    client.force_login(with_mfa(program_admin))
    return client


def admin_change_data(client, opportunity: Opportunity, **changes) -> dict[str, str]:
    return admin_form_data(client, f"/admin/engagements/opportunity/{opportunity.pk}/change/", **changes)


def _in_another_connection(work) -> None:
    """Run `work` in a thread with its own database connection and let it commit before returning."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not errors, errors


def _just_before_the_admin_saves(monkeypatch, work) -> None:
    """Commit `work` from another connection after the form validated, right before save_model."""
    original = OpportunityAdmin.save_model

    def save_model(self, request, obj, form, change):
        _in_another_connection(work)
        return original(self, request, obj, form, change)

    monkeypatch.setattr(OpportunityAdmin, "save_model", save_model)


@pytest.mark.django_db(transaction=True)
def test_signups_committed_after_the_form_check_cannot_push_held_slots_over_a_lowered_capacity(
    admin_client, monkeypatch
):
    opportunity = OpportunityFactory(capacity=10)
    SignUpFactory.create_batch(4, opportunity=opportunity)
    latecomers = UserFactory.create_batch(5)
    data = admin_change_data(admin_client, opportunity, capacity=6)

    def sign_up_latecomers():
        for member in latecomers:
            services.signup_create(opportunity_id=opportunity.pk, member=member)

    _just_before_the_admin_saves(monkeypatch, sign_up_latecomers)
    response = admin_client.post(f"/admin/engagements/opportunity/{opportunity.pk}/change/", data)

    opportunity.refresh_from_db()
    held = SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES).count()
    assert held == 9
    assert opportunity.capacity == 10, "the lowered capacity was saved below the slots held"
    assert response.status_code == 200
    assert "9 slots are already held; the capacity cannot go below that." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_committed_during_an_admin_save_is_not_overwritten(admin_client, monkeypatch, program_admin):
    opportunity = OpportunityFactory(capacity=10)
    data = admin_change_data(admin_client, opportunity, capacity=12, summary="A new summary.")

    _just_before_the_admin_saves(
        monkeypatch,
        lambda: services.opportunity_cancel(opportunity_id=opportunity.pk, actor=program_admin, reason="Venue lost."),
    )
    response = admin_client.post(f"/admin/engagements/opportunity/{opportunity.pk}/change/", data)

    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.state == Opportunity.State.CANCELLED
    assert opportunity.cancellation_reason == "Venue lost."
    assert (opportunity.capacity, opportunity.summary) == (12, "A new summary.")


@pytest.mark.django_db
def test_an_admin_save_locks_the_opportunity_and_writes_only_the_changed_columns(admin_client, program_admin):
    opportunity = OpportunityFactory(capacity=10)
    data = admin_change_data(admin_client, opportunity, capacity=7)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(f"/admin/engagements/opportunity/{opportunity.pk}/change/", data)
    assert response.status_code == 302
    sqls = [q["sql"] for q in queries.captured_queries]
    assert any("FOR NO KEY UPDATE" in s and '"engagements_opportunity"' in s for s in sqls)
    updates = [s for s in sqls if s.startswith('UPDATE "engagements_opportunity"')]
    assert len(updates) == 1
    assert '"capacity"' in updates[0] and '"state"' not in updates[0] and '"title"' not in updates[0]
    opportunity.refresh_from_db()
    assert opportunity.capacity == 7
    assert opportunity.history.latest().history_user == program_admin


@pytest.mark.django_db
def test_capacity_update_service_refuses_below_held_slots_and_records_the_actor(program_admin):
    opportunity = OpportunityFactory(capacity=5)
    SignUpFactory.create_batch(3, opportunity=opportunity)
    with pytest.raises(services.EngagementError, match="3 slots are already held"):
        services.opportunity_update(opportunity_id=opportunity.pk, actor=program_admin, changes={"capacity": 2})
    updated, offered = services.opportunity_update(
        opportunity_id=opportunity.pk, actor=program_admin, changes={"capacity": 3}
    )
    assert updated.capacity == 3 and offered == []
    assert updated.history.latest().history_user == program_admin  # no request here: a shell or a task


@pytest.mark.django_db
def test_raising_the_capacity_through_the_service_offers_the_new_slot(program_admin):
    opportunity = OpportunityFactory(capacity=1)
    SignUpFactory(opportunity=opportunity)
    waiting = SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)
    _, offered = services.opportunity_update(
        opportunity_id=opportunity.pk, actor=program_admin, changes={"capacity": 2}
    )
    assert [s.pk for s in offered] == [waiting.pk]
    waiting.refresh_from_db()
    assert waiting.state == SignUp.State.OFFERED
    assert waiting.history.latest().history_user == program_admin


@pytest.mark.django_db(transaction=True)
def test_a_capacity_change_waiting_too_long_for_the_lock_says_busy_instead_of_piling_up(monkeypatch, program_admin):
    from django.db import transaction

    opportunity = OpportunityFactory(capacity=10)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with transaction.atomic():
            Opportunity.objects.select_for_update().get(pk=opportunity.pk)
            locked.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=lambda: (hold_the_lock(), connections.close_all()))
    holder.start()
    try:
        assert locked.wait(timeout=30)
        monkeypatch.setattr(services.common, "LOCK_TIMEOUT", "50ms")
        with pytest.raises(services.EngagementError, match="please try again in a moment"):
            services.opportunity_update(opportunity_id=opportunity.pk, actor=program_admin, changes={"capacity": 8})
    finally:
        release.set()
        holder.join(timeout=30)
    opportunity.refresh_from_db()
    assert opportunity.capacity == 10


@pytest.mark.django_db
def test_only_a_draft_nobody_signed_up_for_can_be_deleted_and_the_history_says_who(admin_client, program_admin):
    published = OpportunityFactory()
    draft = OpportunityFactory(state=Opportunity.State.DRAFT)
    assert admin_client.get(f"/admin/engagements/opportunity/{published.pk}/delete/").status_code == 403
    with pytest.raises(services.EngagementError, match="cancel it instead"):
        services.opportunity_delete(opportunity_id=published.pk, actor=program_admin)
    response = admin_client.post(f"/admin/engagements/opportunity/{draft.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Opportunity.objects.filter(pk=draft.pk).exists()
    assert Opportunity.history.filter(id=draft.pk, history_type="-").get().history_user == program_admin
