"""Security headers, the Content-Security-Policy and cookie flags, with production settings."""

import runpy

import pytest
from django.test import override_settings

from tests.factories import TEST_PASSWORD
from tests.helpers import PRODUCTION_ENV

pytestmark = pytest.mark.django_db

SECURITY_SETTINGS = (
    "ALLOWED_HOSTS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_AGE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
)


@pytest.fixture
def production(monkeypatch):
    """The security settings of mahome/settings/production.py, read with a production-like environment."""
    for key, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(key, value)
    values = runpy.run_module("mahome.settings.production")
    with override_settings(**{name: values[name] for name in SECURITY_SETTINGS if name in values}):
        yield values


HTTPS = {"secure": True, "headers": {"host": "mahome.example.com"}}


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _assert_strict_csp(response):
    policy = _csp(response)
    for directive in ("default-src", "script-src", "style-src"):
        assert policy[directive] == ["'self'"], (directive, policy)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


def _sign_in(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD}, **HTTPS)
    assert response.status_code == 302
    return response


def test_member_pages_carry_the_headers_and_a_strict_csp(client, production, world):
    _sign_in(client, world.people["member"])
    for path in ("/", "/contributions/", "/engagements/", "/community/me/", "/profile/"):
        response = client.get(path, **HTTPS)
        assert response.status_code == 200, path
        _assert_strict_csp(response)
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/", "/verify/nothing/", "/nowhere/"])
def test_sign_in_and_public_pages_have_a_strict_csp(client, production, path):
    _assert_strict_csp(client.get(path, **HTTPS))


def test_the_admin_has_a_strict_csp_too(client, production, world):
    client.force_login(world.people["admin"])
    for path in ("/admin/", "/admin/contributions/contribution/", "/admin/accounts/macertification/import/"):
        response = client.get(path, **HTTPS)
        assert response.status_code == 200, path
        _assert_strict_csp(response)


def test_cookies_are_secure_httponly_and_samesite(client, production, world):
    response = client.get("/accounts/login/", **HTTPS)
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    response = _sign_in(client, world.people["member"])
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    # Unless "remember me" is ticked the cookie dies with the browser; the server forgets it in 12 hours.
    assert session["max-age"] == ""
    assert client.session.get_expiry_age() <= 12 * 60 * 60


def test_plain_http_is_redirected_to_https_except_the_health_probe(client, production):
    response = client.get("/accounts/login/", headers={"host": "mahome.example.com"})
    assert response.status_code == 301
    assert response["Location"] == "https://mahome.example.com/accounts/login/"
    assert client.get("/healthz", headers={"host": "mahome.example.com"}).status_code in (200, 503)


def test_a_proxy_saying_https_counts_as_https(client, production):
    response = client.get("/accounts/login/", headers={"host": "mahome.example.com", "x-forwarded-proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response
