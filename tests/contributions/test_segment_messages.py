"""Issue 17 item 7: message a segment. From the filtered roster or the year's report a program admin
writes one message; each selected member gets it once (a notification, and an email through the
outbox), and the message is recorded with its author and recipients, viewable in the admin."""

from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.exceptions import PermissionDenied

from accounts.models import MACertification, Notification, SegmentMessage
from accounts.services import segment_message_send
from tests.factories import ContributionFactory, MACertificationFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

ROSTER = "/admin/accounts/macertification/"


@pytest.fixture
def mas():
    return [
        MACertificationFactory(user=UserFactory(email=f"ma{i}@example.com"), qualified_on=date(2025, 6, 1)).user
        for i in range(3)
    ]


def test_each_member_gets_the_message_once_even_if_selected_twice(
    program_admin, mas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = segment_message_send(
            author=program_admin,
            title="Deadline in 30 days",
            body="Please submit your evidence.",
            recipients=[mas[0], mas[1], mas[0]],
            segment="Roster: 2 selected",
        )
    assert message.author == program_admin and message.segment == "Roster: 2 selected"
    assert sorted(r.user.email for r in message.recipients.select_related("user")) == [
        "ma0@example.com",
        "ma1@example.com",
    ]
    assert message.recipient_count == 2
    notes = Notification.objects.filter(kind="maintenance.program_message")
    assert sorted(n.user.email for n in notes) == ["ma0@example.com", "ma1@example.com"]
    assert {n.title for n in notes} == {"Deadline in 30 days"}
    assert sorted(m.to[0] for m in mail.outbox) == ["ma0@example.com", "ma1@example.com"]


def test_a_verifier_cannot_send_a_segment_message(verifier, mas):
    with pytest.raises(PermissionDenied):
        segment_message_send(author=verifier, title="Hi", body="Hello", recipients=mas, segment="x")
    assert not SegmentMessage.objects.exists() and not Notification.objects.exists()


def test_an_empty_title_or_body_is_refused_in_words(program_admin, mas):
    from accounts.errors import AccountError

    with pytest.raises(AccountError, match="Write a message"):
        segment_message_send(author=program_admin, title="Hi", body="  ", recipients=mas, segment="x")


def _ids(members) -> list[str]:
    return [str(MACertification.objects.get(user=m).pk) for m in members]


def test_from_the_roster_a_program_admin_composes_and_sends(client, program_admin, mas):
    client.force_login(with_mfa(program_admin))
    selected = _ids([mas[0], mas[2]]) + _ids([mas[0]])  # a row posted twice is still one member
    page = client.post(ROSTER, {"action": "message_members", ACTION_CHECKBOX_NAME: selected})
    assert page.status_code == 200
    assert "2 members will get this message" in page.content.decode()
    response = client.post(
        ROSTER,
        {
            "action": "message_members",
            ACTION_CHECKBOX_NAME: selected,
            "title": "Webinar on Thursday",
            "body": "Join us.",
            "send": "yes",
        },
    )
    assert response.status_code == 302
    message = SegmentMessage.objects.get()
    assert message.author == program_admin
    assert {r.user for r in message.recipients.all()} == {mas[0], mas[2]}
    assert Notification.objects.filter(kind="maintenance.program_message").count() == 2


def test_a_verifier_has_no_message_action_and_a_forged_post_sends_nothing(client, verifier, mas):
    client.force_login(with_mfa(verifier))
    assert "message_members" not in client.get(ROSTER).content.decode()
    client.post(
        ROSTER,
        {"action": "message_members", ACTION_CHECKBOX_NAME: _ids(mas), "title": "t", "body": "b", "send": "yes"},
    )
    assert not SegmentMessage.objects.exists()


def test_from_the_report_the_filtered_members_are_messaged(client, program_admin, year_2026, speaking, mas):
    """Two at risk (nothing verified), one met (enough verified): "at risk" messages the two."""
    ContributionFactory(member=mas[1], activity_type=speaking, state="verified", awarded_points=400)
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/programyear/{year_2026.pk}/report/message/?status=at_risk"
    report = client.get(f"/admin/contributions/programyear/{year_2026.pk}/report/?status=at_risk").content.decode()
    assert "report/message/?status=at_risk" in report
    page = client.get(url)
    assert page.status_code == 200 and "2 members will get this message" in page.content.decode()
    response = client.post(url, {"title": "You are at risk", "body": "Let us help.", "send": "yes"})
    assert response.status_code == 302
    message = SegmentMessage.objects.get()
    assert {r.user for r in message.recipients.all()} == {mas[0], mas[2]}
    assert "2026" in message.segment and "At risk" in message.segment


def test_a_verifier_cannot_open_the_report_message_page(client, verifier, year_2026):
    client.force_login(with_mfa(verifier))
    url = f"/admin/contributions/programyear/{year_2026.pk}/report/message/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"title": "t", "body": "b"}).status_code == 403
    assert not SegmentMessage.objects.exists()


def test_sent_messages_are_listed_with_author_and_recipients_read_only(
    client, program_admin, verifier, mas, django_assert_max_num_queries
):
    message = segment_message_send(author=program_admin, title="Hello", body="World", recipients=mas, segment="All")
    for staff in (program_admin, verifier):
        client.force_login(with_mfa(staff))
        with django_assert_max_num_queries(20):
            html = client.get("/admin/accounts/segmentmessage/").content.decode()
        assert "Hello" in html and "3" in html
        with django_assert_max_num_queries(25):
            html = client.get(f"/admin/accounts/segmentmessage/{message.pk}/change/").content.decode()
        assert all(m.email in html for m in mas)
        assert "/admin/accounts/segmentmessage/add/" not in html
        assert client.get("/admin/accounts/segmentmessage/add/").status_code == 403
        assert client.post(f"/admin/accounts/segmentmessage/{message.pk}/delete/").status_code == 403


def test_pressing_send_twice_sends_the_message_once(client, program_admin, mas, django_capture_on_commit_callbacks):
    """The compose page carries a one-time token: a double click or a re-posted form is the same message."""
    client.force_login(with_mfa(program_admin))
    page = client.post(ROSTER, {"action": "message_members", ACTION_CHECKBOX_NAME: _ids(mas)})
    token = page.context["form"]["token"].value()
    assert token
    data = {
        "action": "message_members",
        ACTION_CHECKBOX_NAME: _ids(mas),
        "title": "Once",
        "body": "Only once.",
        "send": "yes",
        "token": token,
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ROSTER, data)
        client.post(ROSTER, data)
    assert SegmentMessage.objects.count() == 1
    assert Notification.objects.filter(kind="maintenance.program_message").count() == 3
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_the_same_moment_is_one_message():
    """Two requests with the same token racing on PostgreSQL: the partial unique index keeps one message."""
    import threading

    from django.db import connection

    from accounts.roles import PROGRAM_ADMIN
    from tests.factories import StaffFactory

    author = StaffFactory(email="paul@example.com", groups=[PROGRAM_ADMIN])
    members = [MACertificationFactory(user=UserFactory(email=f"t{i}@example.com")).user for i in range(3)]
    barrier = threading.Barrier(2)
    sent, errors = [], []

    def send():
        try:
            barrier.wait()
            message = segment_message_send(
                author=author, title="Once", body="Body", recipients=members, segment="race", request_token="tok-1"
            )
            sent.append(message.pk)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(sent)) == 1 and SegmentMessage.objects.count() == 1
    assert Notification.objects.filter(kind="maintenance.program_message").count() == 3


def test_the_compose_pages_answer_in_a_fixed_number_of_queries(
    client, program_admin, year_2026, mas, django_assert_max_num_queries
):
    for i in range(12):
        MACertificationFactory(user=UserFactory(email=f"more{i}@example.com"), qualified_on=date(2025, 6, 1))
    client.force_login(with_mfa(program_admin))
    with django_assert_max_num_queries(30):
        page = client.get(f"/admin/contributions/programyear/{year_2026.pk}/report/message/")
    assert "15 members will get this message" in page.content.decode()
    ids = [str(pk) for pk in MACertification.objects.values_list("pk", flat=True)]
    with django_assert_max_num_queries(20):
        page = client.post(ROSTER, {"action": "message_members", ACTION_CHECKBOX_NAME: ids})
    assert "15 members will get this message" in page.content.decode()
