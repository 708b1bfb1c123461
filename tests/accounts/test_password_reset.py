import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.cache import cache

from accounts.models import Organization, SSOConnection
from tests.factories import OrganizationFactory, UserFactory, sso_connection_create

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-2026"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


def _organization(policy: str, domain: str, name: str) -> Organization:
    org = OrganizationFactory(name=name, fallback_policy=policy, domains=[domain])
    sso_connection_create(
        organization=org,
        kind=SSOConnection.Kind.SAML,
        slug=name.lower(),
        idp_entity_id=f"urn:{name.lower()}:idp",
        idp_metadata_url=f"https://idp.{domain}/metadata",
    )
    return org


def test_sso_user_under_fallback_allowed_resets_and_signs_in_with_the_password(client):
    _organization(Organization.FallbackPolicy.FALLBACK_ALLOWED, "northwind.example", "Northwind")
    user = UserFactory(email="nora@northwind.example")
    user.set_unusable_password()
    user.save()
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    response = client.post("/accounts/login/", {"login": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_sso_required_sends_nothing_and_names_the_button_and_contact(client):
    _organization(Organization.FallbackPolicy.SSO_REQUIRED, "contoso.example", "Contoso")
    user = UserFactory(email="kenji@contoso.example")
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 200
    html = response.content.decode()
    assert mail.outbox == []
    assert "Sign in with Contoso" in html
    assert "Priya Raman" in html
    assert "it-help@contoso.example" in html


def test_sso_required_answer_does_not_reveal_whether_the_account_exists(client):
    _organization(Organization.FallbackPolicy.SSO_REQUIRED, "contoso.example", "Contoso")
    UserFactory(email="kenji@contoso.example")

    def answer(email: str) -> str:
        html = client.post("/accounts/password/reset/", {"email": email}).content.decode()
        html = html.replace(email, "EMAIL").replace(urlencode({"email": email}), "email=EMAIL")  # the echoed input
        return re.sub(r"[A-Za-z0-9]{64}", "CSRF", html)  # masked CSRF tokens differ per response

    assert answer("kenji@contoso.example") == answer("nobody@contoso.example")
    assert mail.outbox == []


def test_reset_for_an_unknown_email_looks_like_a_known_one(client, member):
    known = client.post("/accounts/password/reset/", {"email": member.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_sso_required_sign_in_link_keeps_a_plus_address_intact(client):
    """The "sign in instead" link carries the address URL-encoded: `+` would arrive as a space."""
    from urllib.parse import parse_qs, urlsplit

    _organization(Organization.FallbackPolicy.SSO_REQUIRED, "contoso.example", "Contoso")
    response = client.post("/accounts/password/reset/", {"email": "kenji+ma@contoso.example"})
    link = re.search(r'href="(/accounts/login/\?email=[^"]*)"', response.content.decode()).group(1)
    query = urlsplit(link.replace("&amp;", "&")).query
    assert parse_qs(query)["email"] == ["kenji+ma@contoso.example"]
