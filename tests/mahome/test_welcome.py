"""The dashboard's greeting: "Welcome to MA Home" on a member's first visit, "Welcome back" after.

A new MA, provisioned by the program team with a qualification date months old (the first import of
the MAs certified before MA Home), set a password through the invitation link, signed in for the
first time and was greeted "Welcome back": the greeting knew only the certification's age, and by
the time the dashboard renders Django has already stamped `last_login`.
"""

import re
from datetime import date

import pytest
from django.core import mail
from django.core.cache import cache, caches

from accounts.services import member_provision
from mahome import page_cache
from tests.factories import TEST_PASSWORD, MACertificationFactory, UserFactory

PASSWORD = "a-first-day-passphrase-2026"


@pytest.fixture(autouse=True)
def _empty_caches():
    cache.clear()  # allauth's rate limits
    caches[page_cache.CACHE_ALIAS].clear()
    yield
    cache.clear()
    caches[page_cache.CACHE_ALIAS].clear()


def _sign_in(client, email: str, password: str) -> str:
    """Through allauth's sign-in page, as a member does; returns the dashboard it lands on."""
    response = client.post("/accounts/login/", {"login": email, "password": password}, follow=True)
    assert response.request["PATH_INFO"] == "/", response.content.decode()
    return response.content.decode()


@pytest.mark.django_db
def test_a_new_ma_who_completes_the_invitation_is_welcomed_to_ma_home(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        member_provision(
            email="nora@example.com",
            first_name="Nora",
            last_name="Lind",
            certificate_number="MA-2026-0311",
            qualified_on=date(2026, 3, 11),
        )
    invitation = next(message for message in mail.outbox if "nora@example.com" in message.to)
    link = re.search(r"https?://\S+(/accounts/password/reset/key/\S+)", invitation.body).group(1)
    form_page = client.get(link, follow=True)
    response = client.post(form_page.request["PATH_INFO"], {"password1": PASSWORD, "password2": PASSWORD}, follow=True)
    assert "Your password is set" in response.content.decode()

    first = _sign_in(client, "nora@example.com", PASSWORD)
    assert "Welcome to MA Home, Nora" in first
    assert "Welcome back" not in first
    assert "Welcome to MA Home, Nora" in client.get("/").content.decode()  # the whole first visit

    client.post("/accounts/logout/")
    again = _sign_in(client, "nora@example.com", PASSWORD)
    assert "Welcome back, Nora" in again
    assert "Welcome to MA Home" not in again


@pytest.mark.django_db
def test_a_member_who_signed_in_before_is_welcomed_back(client):
    member = UserFactory(email="cara@example.com", first_name="Cara")
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    _sign_in(client, member.email, TEST_PASSWORD)
    client.post("/accounts/logout/")
    assert "Welcome back, Cara" in _sign_in(client, member.email, TEST_PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_the_cached_dashboard_greets_each_session_as_it_began(client):
    """The body is cached (autocommit, PostgreSQL) and nothing it is computed from changes between the
    two sessions: the first session's "Welcome to MA Home" must not be served to the second."""
    member = UserFactory(email="cara@example.com", first_name="Cara")
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    assert page_cache.enabled()
    assert "Welcome to MA Home, Cara" in _sign_in(client, member.email, TEST_PASSWORD)

    later = type(client)()
    assert "Welcome back, Cara" in _sign_in(later, member.email, TEST_PASSWORD)
    assert "Welcome back, Cara" in later.get("/").content.decode()
    assert "Welcome to MA Home, Cara" in client.get("/").content.decode()
