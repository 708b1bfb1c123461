"""Profile history tells the truth (issue 13, finding 7).

"Recent changes" said "changed by you" on every sign-in with nothing changed, and no entry said
what changed. A sign-in is not a change; every entry names the fields (before → after) and who.
"""

import pytest
from django.core.cache import cache

from accounts import selectors, services
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _recent_changes(html: str) -> str:
    start = html.index("Recent changes")
    return html[start : html.index("</section>", start)]


def test_signing_in_is_not_a_change(client, member):
    versions = member.history.count()
    for _ in range(3):
        assert client.post("/accounts/login/", {"login": member.email, "password": TEST_PASSWORD}).status_code == 302
        client.logout()
    assert member.history.count() == versions
    client.force_login(member)
    assert "changed by you" not in client.get("/profile/").content.decode()


def test_changing_the_password_is_not_a_profile_change(client, member):
    versions = member.history.count()
    client.force_login(member)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": TEST_PASSWORD, "password1": "a-new-long-passphrase-9", "password2": "a-new-long-passphrase-9"},
    )
    assert response.status_code == 302
    assert member.history.count() == versions


def test_each_entry_names_the_fields_changed_before_and_after_and_who(client, member, verifier):
    services.profile_update(user=member, changes={"job_title": "Analyst"}, actor=member)
    client.force_login(member)
    response = client.post(
        "/profile/",
        {
            "first_name": "Ava",
            "last_name": "Patel",
            "job_title": "Architect",
            "company_type": "partner",
            "time_zone": "Europe/Dublin",
            "interests": ["mentoring"],
            "email_account": "on",
        },
    )
    assert response.status_code == 302
    services.profile_update(user=member, changes={"employer": "Northwind"}, actor=verifier)
    changes = _recent_changes(client.get("/profile/").content.decode())
    assert "Job title: Analyst → Architect" in changes
    assert "Company type: (empty) → Partner" in changes
    assert "Time zone: UTC → Europe/Dublin" in changes
    assert "Engagement interests: (none) → Mentoring new Master Anaplanners" in changes
    assert "Certification maintenance emails: on → off" in changes
    assert "Employer: (empty) → Northwind" in changes
    assert "by you" in changes
    assert "by Vera" in changes and "program team" in changes


def test_an_entry_with_nothing_changed_is_not_listed(member):
    member.save()  # a save that changes nothing (as before this fix, on every sign-in)
    entries = selectors.profile_changes(user=member)
    assert entries
    assert all(entry.changes or entry.created for entry in entries)


def test_the_history_records_the_actor_given_to_the_service(member, verifier):
    services.profile_update(user=member, changes={"country": "Ireland"}, actor=verifier)
    assert member.history.first().history_user_id == verifier.pk


def test_profile_history_is_read_in_a_fixed_number_of_queries(client, member, verifier, django_assert_max_num_queries):
    for n in range(12):
        services.profile_update(user=member, changes={"job_title": f"Title {n}"}, actor=verifier if n % 2 else member)
    client.force_login(member)
    client.get("/notifications/")  # the session's first request records it; measure the steady state
    with django_assert_max_num_queries(5):
        html = client.get("/profile/").content.decode()
    assert "Title 11" in _recent_changes(html)
