"""What a member was told stays as it was told: notifications are read, never added, changed or deleted, in
the admin.

A program admin (every permission of the accounts app) could add a notification, which the outbox emails to
the member with no author kept, rewrite the title or body of one a member had already read, or delete it; none
of it left any history. Messages to members go through *Message these members* (with its author and segment);
the notification list is where staff see what was sent and whether its email left.
"""

import pytest

from accounts.models import Notification
from tests.factories import NotificationFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(member):
    return NotificationFactory(user=member, title="Your claim was verified", body="100 points.")


@pytest.mark.parametrize("who", ["program_admin", "verifier", "superuser"])
def test_staff_read_a_notification_but_cannot_change_it(client, request, who, told):
    staff = request.getfixturevalue(who) if who != "superuser" else UserFactory(is_staff=True, is_superuser=True)
    client.force_login(with_mfa(staff))
    page = client.get(f"/admin/accounts/notification/{told.pk}/change/")
    assert page.status_code == 200 and "Your claim was verified" in page.content.decode()
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    client.post(
        f"/admin/accounts/notification/{told.pk}/change/",
        {"user": told.user_id, "kind": told.kind, "title": "Rewritten", "body": "", "email_state": "sent"},
    )
    assert client.post(f"/admin/accounts/notification/{told.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/accounts/notification/add/").status_code == 403
    told.refresh_from_db()
    assert told.title == "Your claim was verified"
    assert Notification.objects.count() == 1


def test_the_failed_emails_stay_listed_for_staff(client, program_admin, member):
    NotificationFactory(user=member, title="Reminder", email_state=Notification.EmailState.FAILED)
    client.force_login(with_mfa(program_admin))
    page = client.get("/admin/accounts/notification/?email_state__exact=failed")
    assert page.status_code == 200 and [n.title for n in page.context["cl"].result_list] == ["Reminder"]
