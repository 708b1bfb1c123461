import pytest
from django.core import mail

from accounts import services
from accounts.models import Notification
from accounts.tasks import notification_outbox_sweep
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_notification_email_is_sent_after_commit_exactly_once(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_create(user=member, kind="test", title="Your points were verified")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.email]
    assert "Your points were verified" in mail.outbox[0].subject
    notification.refresh_from_db()
    assert notification.email_state == Notification.EmailState.SENT
    # A second send (retry, sweep) finds it already sent.
    assert services.notification_send_email(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_nothing_is_emailed_if_the_transaction_rolls_back(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notification_create(user=member, kind="test", title="Hello")
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_failed_email_keeps_the_in_app_copy_and_stays_pending(member, monkeypatch, settings):
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    notification = services.notification_create(user=member, kind="test", title="Hello")

    def broken_send_mail(**kwargs):
        raise ConnectionRefusedError("SMTP is down")

    monkeypatch.setattr(services.notifications, "send_mail", broken_send_mail)
    with pytest.raises(ConnectionRefusedError):
        services.notification_send_email(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.email_state == Notification.EmailState.PENDING
    assert Notification.objects.filter(user=member).count() == 1


def test_outbox_sweep_sends_what_the_broker_missed(member, monkeypatch):
    notification = services.notification_create(user=member, kind="test", title="Hello")
    Notification.objects.filter(pk=notification.pk).update(created_at=notification.created_at.replace(year=2020))
    assert mail.outbox == []  # on_commit never ran in this test transaction
    assert notification_outbox_sweep() == 1
    assert len(mail.outbox) == 1
    assert notification_outbox_sweep() == 0


def test_dedupe_key_creates_a_notification_once(member):
    first = services.notification_create(user=member, kind="reminder", title="60 days left", dedupe_key="r-2021-60")
    second = services.notification_create(user=member, kind="reminder", title="60 days left", dedupe_key="r-2021-60")
    assert first is not None
    assert second is None
    assert Notification.objects.filter(user=member).count() == 1


def test_notification_list_shows_only_my_notifications_and_marks_them_read(client, member, other_member):
    mine = NotificationFactory(user=member, title="Mine")
    NotificationFactory(user=other_member, title="Someone else's")
    client.force_login(member)
    html = client.get("/notifications/").content.decode()
    assert "Mine" in html
    assert "Someone else" not in html
    response = client.post("/notifications/read/", {"notification": [mine.pk]})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.is_read


def test_marking_another_members_notification_read_changes_nothing(client, member, other_member):
    theirs = NotificationFactory(user=other_member)
    client.force_login(member)
    client.post("/notifications/read/", {"notification": [theirs.pk]})
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_mark_read_requires_post(client, member):
    client.force_login(member)
    assert client.get("/notifications/read/").status_code == 405


def test_notification_page_of_a_signed_in_member_runs_three_queries(client, member, django_assert_num_queries):
    """The trivial signed-in page: session, user, one page of notifications with both counts."""
    NotificationFactory.create_batch(30, user=member)
    read = list(member.notifications.values_list("pk", flat=True)[:4])
    services.notifications_mark_read(user=member, notification_ids=read)
    client.force_login(member)
    client.get("/notifications/")  # the first request of a session records its activity
    with django_assert_num_queries(3):
        response = client.get("/notifications/")
    page = response.context["page"]
    assert page.paginator.count == 30 and page.paginator.num_pages == 2 and len(page.object_list) == 25
    assert response.context["unread_notifications"] == 26
    assert "Notifications: 26 unread" in response.content.decode()
    with django_assert_num_queries(3):
        second = client.get("/notifications/?page=2")
    assert len(second.context["page"].object_list) == 5
    assert [n.pk for n in second.context["page"].object_list] == list(
        member.notifications.order_by("-created_at", "-pk").values_list("pk", flat=True)[25:]
    )


def test_notification_page_past_the_end_shows_the_last_page(client, member):
    NotificationFactory.create_batch(3, user=member)
    client.force_login(member)
    response = client.get("/notifications/?page=9")
    assert response.context["page"].number == 1 and len(response.context["page"].object_list) == 3
    empty = client.get("/notifications/")
    assert empty.status_code == 200


def test_session_activity_is_recorded_at_most_every_few_minutes_and_at_once_on_a_new_address(client, member):
    import time_machine
    from allauth.usersessions.models import UserSession

    with time_machine.travel("2026-03-01 10:00:00+00:00", tick=False):
        client.force_login(member)
        client.get("/notifications/")
        session = UserSession.objects.get(user=member)
        first_seen = session.last_seen_at
    with time_machine.travel("2026-03-01 10:02:00+00:00", tick=False):
        client.get("/notifications/")
        session.refresh_from_db()
        assert session.last_seen_at == first_seen
        client.get("/notifications/", REMOTE_ADDR="10.9.8.7")
        session.refresh_from_db()
        assert str(session.ip) == "10.9.8.7" and session.last_seen_at > first_seen
    with time_machine.travel("2026-03-01 10:09:00+00:00", tick=False):
        client.get("/notifications/", REMOTE_ADDR="10.9.8.7")
        session.refresh_from_db()
        assert session.last_seen_at.minute == 9


def test_many_notifications_in_one_statement_respect_preferences_dedupe_and_email_after_commit(
    member, other_member, django_capture_on_commit_callbacks, django_assert_num_queries
):
    other_member.email_community = False
    other_member.save()
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(1):
        created = services.notifications_create_many(
            kind="community.level_up",
            user_ids=[member.pk, other_member.pk],
            titles=["You reached A", "You reached B"],
            bodies=["Body A", "Body B"],
            dedupe_keys=["level:1", "level:1"],
            url="/community/me/",
        )
    assert created == 2
    mine, theirs = Notification.objects.get(user=member), Notification.objects.get(user=other_member)
    assert (mine.title, mine.body, mine.url, mine.email_state) == ("You reached A", "Body A", "/community/me/", "sent")
    assert theirs.email_state == Notification.EmailState.SKIPPED
    assert [m.to for m in mail.outbox] == [[member.email]]
    again = services.notifications_create_many(
        kind="community.level_up", user_ids=[member.pk], titles=["x"], bodies=["y"], dedupe_keys=["level:1"]
    )
    assert again == 0 and Notification.objects.filter(user=member).count() == 1


def test_the_unread_count_in_sql_is_the_header_badge(member, other_member):
    """The subquery the cached pages read the badge with (in their fingerprint's round trip) counts what the
    badge's selector counts: the member's own notifications not yet read."""
    from django.db import connection

    from accounts.selectors import notification_unread_count, notification_unread_count_sql

    NotificationFactory.create_batch(5, user=member)
    NotificationFactory.create_batch(3, user=other_member)
    services.notifications_mark_read(
        user=member, notification_ids=list(member.notifications.values_list("pk", flat=True)[:2])
    )
    for user in (member, other_member, UserFactory()):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {notification_unread_count_sql()}", [user.pk])
            in_sql = cursor.fetchone()[0]
            cursor.execute(f"SELECT {notification_unread_count_sql('%(who)s')}", {"who": user.pk})
            named = cursor.fetchone()[0]
        assert in_sql == named == notification_unread_count(user=user)
    assert notification_unread_count(user=member) == 3


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_notification_is_one_insert_and_a_duplicate_is_refused(member):
    """After a sign-up's commit its notice is written in autocommit: the INSERT alone, no BEGIN and COMMIT
    around it; a second one under the same dedupe key is still refused, and the connection stays usable."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        first = services.notification_create(
            user=member, kind="reminder", title="60 days left", dedupe_key="r-60", email=False
        )
    assert first is not None
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["INSERT"]
    again = services.notification_create(user=member, kind="reminder", title="60 days left", dedupe_key="r-60")
    assert again is None
    assert Notification.objects.filter(user=member).count() == 1
