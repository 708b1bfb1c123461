"""`mahome.history.insert_with_history` writes the row and its history row as `save()` and simple-history do."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagements.models import SignUp
from mahome.history import insert_with_history
from tests.factories import OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

MOMENT = timezone.now()
# The slot, like the id, is the database's to give (a different one to each sign-up); asserted below.
SKIPPED = {"id", "history_id", "history_date", "created_at", "updated_at", "member", "member_id", "slot_id"}


def _new_signup(opportunity, member, actor, **extra) -> SignUp:
    signup = SignUp(opportunity=opportunity, member=member, state=SignUp.State.CONFIRMED, confirmed_at=MOMENT)
    signup.next_steps = "Bring slides"
    signup._history_user = actor
    for name, value in extra.items():
        setattr(signup, name, value)
    return signup


def _row(record, model) -> dict:
    return {f.attname: getattr(record, f.attname) for f in model._meta.concrete_fields if f.attname not in SKIPPED}


def test_the_rows_are_those_save_writes(member, other_member, program_admin):
    opportunity = OpportunityFactory(capacity=5)
    saved = _new_signup(opportunity, member, program_admin, _change_reason="by hand")
    saved.save()
    inserted = _new_signup(opportunity, other_member, program_admin, _change_reason="by hand")
    with CaptureQueriesContext(connection) as captured:
        insert_with_history(inserted)
    assert len(captured.captured_queries) == 1
    assert inserted.pk and not inserted._state.adding
    stored = SignUp.objects.get(pk=inserted.pk)
    assert (stored.member, stored.created_at, stored.updated_at) == (
        other_member,
        inserted.created_at,
        inserted.updated_at,
    )
    assert _row(stored, SignUp) == _row(SignUp.objects.get(pk=saved.pk), SignUp)
    assert stored.slot_id and SignUp.objects.get(pk=saved.pk).slot_id not in (None, stored.slot_id)
    history_model = SignUp.history.model
    by_save, by_insert = saved.history.get(), inserted.history.get()
    assert _row(by_insert, history_model) == _row(by_save, history_model)
    assert (by_insert.history_type, by_insert.history_user, by_insert.history_change_reason) == (
        "+",
        program_admin,
        "by hand",
    )
    assert (by_insert.id, by_insert.member_id, by_insert.created_at) == (stored.pk, other_member.pk, stored.created_at)
    assert by_insert.history_date >= by_save.history_date


def test_no_actor_is_recorded_as_none_and_an_actor_is_required():
    opportunity = OpportunityFactory(capacity=5)
    signup = _new_signup(opportunity, UserFactory(), None)
    insert_with_history(signup)
    assert signup.history.get().history_user is None
    unattributed = SignUp(opportunity=opportunity, member=UserFactory(), state=SignUp.State.WAITLISTED)
    with pytest.raises(ValueError, match="_history_user"):
        insert_with_history(unattributed)
