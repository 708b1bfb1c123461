"""Failed sign-ins are limited per account, not per office (issue 13, finding 2).

Members of one partner firm, one VPN or one office share an address; behind the documented load
balancer every request arrives from the balancer. A colleague's typos must never lock anyone else
out, and a guesser must not get around the limits by making up X-Forwarded-For values.

The client address comes from allauth's own settings (allauth 65.21.1,
`allauth/app_settings.py: TRUSTED_PROXY_COUNT, TRUSTED_CLIENT_IP_HEADER`, read in
`allauth/core/internal/httpkit.py: get_client_ip`): with a count of 1 the address is the last
X-Forwarded-For entry, the one the balancer appended.
"""

import os
import subprocess
import sys

import pytest
from allauth.account.adapter import get_adapter
from allauth.core.internal.ratelimit import parse_rates
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory

from tests.factories import TEST_PASSWORD
from tests.helpers import PRODUCTION_ENV

pytestmark = pytest.mark.django_db

OFFICE = "198.51.100.10"
HOME = "203.0.113.77"
BALANCER = "10.0.0.10"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, email: str, password: str, **headers):
    return client.post("/accounts/login/", {"login": email, "password": password}, **headers)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _fail_five_times(client, email: str, **headers) -> None:
    for _ in range(5):
        response = _sign_in(client, email, "wrong-password-1", **headers)
        assert "not correct" in response.content.decode()


def test_five_failures_on_one_account_never_stop_a_colleague_on_the_same_address(client, member, other_member):
    _fail_five_times(client, member.email, REMOTE_ADDR=OFFICE)
    response = _sign_in(client, other_member.email, TEST_PASSWORD, REMOTE_ADDR=OFFICE)
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_paused_account_is_told_how_long_and_that_it_concerns_this_account(client, member):
    _fail_five_times(client, member.email, REMOTE_ADDR=OFFICE)
    response = _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=OFFICE)
    html = response.content.decode()
    assert not _signed_in(client)
    assert "Too many wrong passwords for this account" in html
    assert "Try again in 5 minutes" in html
    assert "Other accounts are not affected" in html


def test_the_same_account_from_another_address_is_not_paused_by_someone_elses_guesses(client, member):
    _fail_five_times(client, member.email, REMOTE_ADDR=OFFICE)
    assert _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=HOME).status_code == 302


def test_an_account_guessed_at_from_many_addresses_is_paused_everywhere(client, member):
    (rate,) = parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed_account"])
    for n in range(rate.amount):
        _sign_in(client, member.email, "wrong-password-1", REMOTE_ADDR=f"192.0.2.{n + 1}")
    html = _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=HOME).content.decode()
    assert not _signed_in(client)
    assert "Too many wrong passwords for this account" in html


def test_spraying_many_accounts_from_one_address_meets_the_address_ceiling(client, member):
    (rate,) = parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed_address"])
    assert rate.amount >= 50  # a ceiling against spraying, far above what one office mistypes
    for n in range(rate.amount):
        _sign_in(client, f"made-up-{n}@example.com", "Winter2026!", REMOTE_ADDR=OFFICE)
    html = _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=OFFICE).content.decode()
    assert not _signed_in(client)
    assert "Too many failed sign-ins from your network address" in html
    assert _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=HOME).status_code == 302


def test_behind_the_load_balancer_colleagues_are_told_apart(client, settings, member, other_member):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    through_office = {"REMOTE_ADDR": BALANCER, "HTTP_X_FORWARDED_FOR": OFFICE}
    _fail_five_times(client, member.email, **through_office)
    assert _sign_in(client, other_member.email, TEST_PASSWORD, **through_office).status_code == 302
    client.logout()
    from_home = {"REMOTE_ADDR": BALANCER, "HTTP_X_FORWARDED_FOR": HOME}
    assert _sign_in(client, member.email, TEST_PASSWORD, **from_home).status_code == 302
    client.logout()
    _sign_in(client, member.email, TEST_PASSWORD, **through_office)
    assert not _signed_in(client)


def test_made_up_addresses_for_many_accounts_do_not_lock_the_site_behind_the_balancer(client, settings, member):
    """Issue 13: five bad attempts by anyone refused every password sign-in on the site."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(6):
        _sign_in(
            client,
            f"made-up-{n}@example.com",
            "wrong-password-1",
            REMOTE_ADDR=BALANCER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}",
        )
    response = _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=HOME)
    assert response.status_code == 302


def test_a_spoofed_forwarded_for_does_not_help_without_a_trusted_proxy(client, settings, member):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        _sign_in(client, member.email, "wrong-password-1", REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert not _signed_in(client)


def test_a_spoofed_forwarded_for_prefix_does_not_help_behind_the_balancer(client, settings, member):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        _sign_in(
            client,
            member.email,
            "wrong-password-1",
            REMOTE_ADDR=BALANCER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {OFFICE}",
        )
    _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=f"192.0.2.200, {OFFICE}")
    assert not _signed_in(client)


def test_a_successful_sign_in_does_not_count_against_the_limits(client, member):
    for _ in range(8):
        assert _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=OFFICE).status_code == 302
        client.logout()


def test_a_password_reset_lifts_the_pause_on_that_account(client, member):
    _fail_five_times(client, member.email, REMOTE_ADDR=OFFICE)
    request = RequestFactory().post("/accounts/password/reset/key/", REMOTE_ADDR=OFFICE)
    get_adapter(request)._delete_login_attempts_cached_email(request, email=member.email)
    assert _sign_in(client, member.email, TEST_PASSWORD, REMOTE_ADDR=OFFICE).status_code == 302


def _production_setting(name: str, **environment: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "mahome.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "mahome.example.com",
        "DATABASE_URL": "postgres://mahome@127.0.0.1/mahome",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "DEFAULT_FROM_EMAIL": "MA Home <mahome@example.com>",
        "MAHOME_MEDIA_ROOT": "/tmp/media",
        "MAHOME_CREDENTIAL_SIGNING_KEY": PRODUCTION_ENV["MAHOME_CREDENTIAL_SIGNING_KEY"],
        **environment,
    }
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_production_trusts_the_one_documented_balancer_and_reads_both_settings_from_the_environment():
    assert _production_setting("ALLAUTH_TRUSTED_PROXY_COUNT") == "1"
    assert _production_setting("ALLAUTH_TRUSTED_PROXY_COUNT", ALLAUTH_TRUSTED_PROXY_COUNT="2") == "2"
    assert _production_setting("ALLAUTH_TRUSTED_CLIENT_IP_HEADER") == "None"
    header = _production_setting("ALLAUTH_TRUSTED_CLIENT_IP_HEADER", ALLAUTH_TRUSTED_CLIENT_IP_HEADER="X-Real-IP")
    assert header == "'X-Real-IP'"
    deployment = (settings.BASE_DIR / "docs" / "deployment.md").read_text()
    assert "ALLAUTH_TRUSTED_PROXY_COUNT" in deployment
    assert "ALLAUTH_TRUSTED_CLIENT_IP_HEADER" in deployment
