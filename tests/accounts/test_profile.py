import pytest
from django.core import mail

from accounts import services
from accounts.models import Notification

pytestmark = pytest.mark.django_db


def test_profile_edit_is_saved_and_kept_in_history(client, member):
    client.force_login(member)
    data = {
        "first_name": "Ava",
        "last_name": "Patel",
        "preferred_name": "Avi",
        "employer": "Northwind",
        "company_type": "partner",
        "job_title": "Architect",
        "country": "Ireland",
        "time_zone": "Europe/Dublin",
        "phone": "+353 1 555 0100",
        "linkedin_url": "https://www.linkedin.com/in/ava",
        "bio": "Planner.",
        "interests": ["mentoring", "speaking"],
        "email_account": "on",
        "email_maintenance": "on",
    }
    response = client.post("/profile/", data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.preferred_name, member.time_zone, member.interests) == (
        "Avi",
        "Europe/Dublin",
        ["mentoring", "speaking"],
    )
    latest = member.history.first()
    assert latest.employer == "Northwind"
    assert latest.history_user_id == member.pk
    assert member.history.count() >= 2


def test_invalid_profile_input_is_explained_and_nothing_is_saved(client, member):
    client.force_login(member)
    response = client.post(
        "/profile/",
        {
            "first_name": "Ava",
            "last_name": "Patel",
            "time_zone": "Mars/Olympus",
            "linkedin_url": "https://example.com/x",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "linkedin.com" in html
    member.refresh_from_db()
    assert member.time_zone == "UTC"


def test_email_preferences_are_per_area(member):
    member.email_engagement = False
    member.save()
    assert member.wants_email("engagement.signup_confirmed") is False
    assert member.wants_email("maintenance.reminder") is True
    assert member.wants_email("account.invitation") is True
    skipped = services.notification_create(user=member, kind="engagement.reminder", title="Tomorrow")
    assert skipped.email_state == Notification.EmailState.SKIPPED
    assert mail.outbox == []


def test_staff_see_profile_history_in_the_admin(client, member, program_admin):
    from allauth.mfa.totp.internal.auth import TOTP

    services.profile_update(user=member, changes={"job_title": "Architect"}, actor=member)
    TOTP.activate(program_admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    program_admin.is_superuser = True
    program_admin.save()
    client.force_login(program_admin)
    response = client.get(f"/admin/accounts/user/{member.pk}/history/")
    assert response.status_code == 200
    assert "Architect" in response.content.decode()


def test_sign_out_everywhere_ends_every_session(client, member):
    from django.test import Client

    other_device = Client()
    other_device.force_login(member)
    assert other_device.get("/profile/").status_code == 200  # usersessions records this session
    client.force_login(member)
    client.get("/profile/")
    response = client.post("/profile/sign-out-everywhere/")
    assert response.status_code == 302
    assert other_device.get("/profile/").status_code == 302
    assert client.get("/profile/").status_code == 302


def test_profile_page_queries_stay_constant(client, member, django_assert_max_num_queries):
    client.force_login(member)
    for i in range(30):
        services.profile_update(user=member, changes={"job_title": f"Title {i}"}, actor=member)
    client.get("/notifications/")  # the session's first request records it; measure the steady state
    with django_assert_max_num_queries(5):
        assert client.get("/profile/").status_code == 200
