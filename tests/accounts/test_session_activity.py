"""The session list's row (allauth's UserSession), written by accounts.middleware in one statement."""

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from allauth.usersessions.signals import session_client_changed
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_changes():
    received = []

    def receiver(sender, request, from_session, to_session, **kwargs):
        received.append((from_session, to_session))

    session_client_changed.connect(receiver)
    yield received
    session_client_changed.disconnect(receiver)


def test_a_sessions_first_page_writes_its_row_in_one_statement(client, member, client_changes):
    client.force_login(member)
    with CaptureQueriesContext(connection) as captured:
        client.get("/notifications/", HTTP_USER_AGENT="Firefox")
    written = [q["sql"] for q in captured.captured_queries if "usersessions_usersession" in q["sql"]]
    assert len(written) == 1, written
    row = UserSession.objects.get(user=member)
    assert (row.session_key, row.ip, row.user_agent, row.data) == (
        client.session.session_key,
        "127.0.0.1",
        "Firefox",
        {},
    )
    assert row.created_at == row.last_seen_at
    assert client_changes == []  # a new row is no change of client


def test_a_new_address_updates_the_row_and_sends_session_client_changed(client, member, client_changes):
    with time_machine.travel("2026-03-01 10:00:00+00:00", tick=False):
        client.force_login(member)
        client.get("/notifications/", HTTP_USER_AGENT="Firefox")
    first = UserSession.objects.get(user=member)
    with time_machine.travel("2026-03-01 10:10:00+00:00", tick=False):
        client.get("/notifications/", HTTP_USER_AGENT="Firefox")  # stale: written again, same client
        assert client_changes == []
        client.get("/notifications/", HTTP_USER_AGENT="Firefox", REMOTE_ADDR="10.9.8.7")
    row = UserSession.objects.get(user=member)
    assert (row.pk, row.created_at, str(row.ip), row.user_agent) == (first.pk, first.created_at, "10.9.8.7", "Firefox")
    assert row.last_seen_at.minute == 10
    [(before, after)] = client_changes
    assert (before.session_key, before.user_id, before.ip, before.user_agent) == (
        row.session_key,
        member.pk,
        "127.0.0.1",
        "Firefox",
    )
    assert before.last_seen_at.minute == 10 and before.created_at == first.created_at
    assert (after.pk, after.user, after.ip, after.last_seen_at, after.data) == (
        row.pk,
        member,
        "10.9.8.7",
        row.last_seen_at,
        {},
    )
