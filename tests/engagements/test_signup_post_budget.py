"""The sign-up POST's statements, counted through the real view with real commits (issue 16).

A steady-state session (its first page already recorded it), as a member who looked at the
opportunity before signing up. The member's email is handed to the broker after the commit; here
the hand-over is recorded instead of run (the worker sends it, not the request).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from accounts.services import notifications
from engagements.models import SignUp
from tests.factories import OpportunityFactory, SignUpFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def enqueued(monkeypatch):
    handed = []
    monkeypatch.setattr(notifications, "_enqueue_notification_email", handed.append)
    return handed


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    client.get("/notifications/")  # the session's first request records it
    return client


def _post(client, opportunity):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/engagements/{opportunity.slug}/sign-up/")
    assert response.status_code == 302
    assert response["Location"] == opportunity.get_absolute_url()
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("full", [False, True])
def test_a_sign_up_post_is_eight_statements(member_client, member, other_member, enqueued, full):
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=True)
    if full:
        SignUpFactory(opportunity=opportunity, member=other_member)
    sqls = _post(member_client, opportunity)
    # session, user; the opportunity by its slug with the member's live sign-up and whether a slot is free
    # (one read, no lock); BEGIN; then
    # - a slot free: the sign-up with its history row (one statement; the database gives it a slot), the
    #   opportunity read again once the slot is held;
    # - none: the share lock on the opportunity with the read after it (one round trip), the sign-up with its
    #   history row;
    # COMMIT; then, committed, the member's notification.
    assert len(sqls) == 8, sqls
    assert sqls[2].startswith('SELECT "engagements_opportunity"') and "EXISTS" in sqls[2]
    assert sqls[3] == "BEGIN" and sqls[6] == "COMMIT"
    insert, read = (sqls[5], sqls[4]) if full else (sqls[4], sqls[5])
    assert 'INSERT INTO "engagements_signup"' in insert and 'INSERT INTO "engagements_historicalsignup"' in insert
    if full:
        assert read.startswith("SELECT 1 ") and "FOR SHARE; " in read
    else:
        assert read.startswith("SELECT o.") and 'FROM "engagements_opportunity" o ' in read and "FOR " not in read
    assert not any("FOR NO KEY UPDATE" in sql for sql in sqls)  # never the opportunity's exclusive lock
    assert sqls[7].startswith('INSERT INTO "accounts_notification"')
    signup = SignUp.objects.get(opportunity=opportunity, member=member)
    assert signup.state == (SignUp.State.WAITLISTED if full else SignUp.State.CONFIRMED)
    notification = Notification.objects.get(user=member)
    assert notification.kind == ("engagement.waitlisted" if full else "engagement.confirmed")
    assert enqueued == [notification.pk]
    history = signup.history.get()
    assert (history.history_type, history.history_user, history.state) == ("+", member, signup.state)


def test_a_second_sign_up_post_reads_and_changes_nothing(member_client, member, enqueued):
    opportunity = OpportunityFactory(capacity=5)
    _post(member_client, opportunity)
    sqls = _post(member_client, opportunity)
    # session, user, the opportunity with the member's live sign-up, that sign-up (no lock, no write)
    assert len(sqls) == 4, sqls
    assert not any("FOR NO KEY UPDATE" in sql or sql.startswith(("INSERT", "UPDATE")) for sql in sqls)
    assert SignUp.objects.filter(opportunity=opportunity, member=member).count() == 1
    assert len(enqueued) == 1


def test_a_draft_is_not_found_in_the_same_read(member_client, member, enqueued):
    opportunity = OpportunityFactory(capacity=5, state="draft")
    with CaptureQueriesContext(connection) as captured:
        response = member_client.post(f"/engagements/{opportunity.slug}/sign-up/")
    assert response.status_code == 404
    assert len(captured.captured_queries) == 3  # session, user, the opportunity (not visible to members)
    assert not SignUp.objects.exists() and not enqueued


def test_the_read_before_the_lock_is_compiled_once_and_answers_as_the_queryset(member, other_member):
    """The view's read runs SQL compiled once per process for stand-ins; it answers as the ORM query does."""
    from django.http import Http404

    from engagements import selectors

    shape = selectors._to_sign_up_shape()
    assert shape is not None and len(shape.slots[0]) == 1 and len(shape.slots[1]) == 1  # one member, one slug
    mine = OpportunityFactory(capacity=5)
    SignUpFactory(opportunity=mine, member=member)
    theirs = OpportunityFactory(capacity=5)
    SignUpFactory(opportunity=theirs, member=other_member)
    cancelled = OpportunityFactory(capacity=5, state="cancelled", cancellation_reason="Venue closed")
    for opportunity in (mine, theirs, cancelled):
        for who in (member, other_member):
            compiled = selectors.opportunity_to_sign_up(slug=opportunity.slug, member=who)
            expected = selectors.opportunities_to_sign_up(member=who).get(pk=opportunity.pk)
            fields = ["pk", "slug", "state", "signup_opens_at", "signup_closes_at", "starts_at", "member_has_live"]
            fields.append("has_free_slot")
            assert [getattr(compiled, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert selectors.opportunity_to_sign_up(slug=mine.slug, member=member).member_has_live is True
    assert selectors.opportunity_to_sign_up(slug=theirs.slug, member=member).member_has_live is False
    draft = OpportunityFactory(capacity=5, state="draft")
    for slug in (draft.slug, "no-such-opportunity"):
        with pytest.raises(Http404):
            selectors.opportunity_to_sign_up(slug=slug, member=member)
