"""The account pages are MA Home's own (issue 13, finding 6).

They were allauth's defaults in Title Case; every member was offered other customers' SSO
connections to "add" (which also told every member who the program's customers are); a provisioned
member's address read "Unverified"; the reset email said "Hello from 127.0.0.1:8101!"; the reset and
first-password pages were titled "Change Password" and ended without a sign-in button.
"""

import re
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.core.cache import cache

from accounts import services
from accounts.models import SSOConnection
from tests.factories import TEST_PASSWORD, OrganizationFactory, UserFactory, sso_connection_create

pytestmark = pytest.mark.django_db

# Words that keep their capital inside a sentence-case heading, label or button.
PROPER = {"MA", "Home", "SSO", "MFA", "I", "Northwind", "Contoso", "Partners", "Planning", "Ava", "Anaplan"}


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def organizations(db):
    northwind = OrganizationFactory(name="Northwind Partners", domains=["northwind.example"])
    sso_connection_create(
        organization=northwind,
        kind=SSOConnection.Kind.OIDC,
        slug="northwind",
        server_url="https://login.northwind.example",
        client_id="ma-home",
        client_secret="s3cret",
    )
    contoso = OrganizationFactory(name="Contoso Planning", domains=["contoso.example"])
    sso_connection_create(
        organization=contoso,
        kind=SSOConnection.Kind.SAML,
        slug="contoso",
        idp_entity_id="urn:contoso:idp",
        idp_metadata_url="https://idp.contoso.example/metadata",
    )
    return {"northwind": northwind, "contoso": contoso}


def _texts(html: str) -> list[str]:
    """Headings, buttons, table headers, labels and the title: where Title Case showed."""
    found = []
    for tag in ("title", "h1", "h2", "h3", "button", "th", "label", "legend"):
        for inner in re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, flags=re.S):
            text = re.sub(r"<[^>]+>", " ", inner)
            text = re.sub(r"\s+", " ", text).strip()
            if text:
                found.append(text)
    found += re.findall(r'placeholder="([^"]+)"', html)
    for inner in re.findall(r'<a\b[^>]*class="[^"]*\bbutton\b[^"]*"[^>]*>(.*?)</a>', html, flags=re.S):
        found.append(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inner)).strip())
    return found


def _title_case_words(text: str) -> list[str]:
    words = re.findall(r"[A-Za-zÀ-ÿ][\w'’-]*", text.split("·")[0])
    return [w for w in words[1:] if w[0].isupper() and w not in PROPER and not w.isupper()]


def _assert_sentence_case(html: str, page: str) -> None:
    wrong = {text: words for text in _texts(html) if (words := _title_case_words(text))}
    assert not wrong, f"{page}: Title Case in {wrong}"


def _reset_link(email: str) -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", body).group(1)


def test_every_account_page_speaks_in_sentence_case_in_the_site_layout(client, member):
    TOTP.activate(member, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(member)
    _assert_sentence_case(client.get("/accounts/reauthenticate/").content.decode(), "reauthenticate")
    assert client.post("/accounts/reauthenticate/", {"password": TEST_PASSWORD}).status_code == 302
    pages = [
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/deactivate/",
        "/accounts/2fa/recovery-codes/generate/",
        "/accounts/sessions/",
        "/accounts/3rdparty/",
        "/accounts/logout/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert 'class="site-header"' in html and "manage-nav" in html, path
        _assert_sentence_case(html, path)
    client.logout()
    member_without_password = UserFactory(email="new.ma@example.com")
    member_without_password.set_unusable_password()
    member_without_password.save()
    for path in [
        "/accounts/login/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/signup/",
        "/accounts/inactive/",
        "/accounts/confirm-email/",
        "/accounts/3rdparty/login/cancelled/",
        "/accounts/3rdparty/login/error/",
    ]:
        response = client.get(path)
        assert response.status_code in (200, 401), path  # allauth answers its SSO error page with 401
        html = response.content.decode()
        assert 'class="site-header"' in html, path
        _assert_sentence_case(html, path)
    client.post("/accounts/password/reset/", {"email": member.email})
    link = _reset_link(member.email)
    page = client.get(link, follow=True)
    _assert_sentence_case(page.content.decode(), "reset from key")
    bad = client.get("/accounts/password/reset/key/1-not-a-key/").content.decode()
    _assert_sentence_case(bad, "bad reset link")
    assert "Bad Token" not in bad


def test_a_member_is_offered_only_their_own_organizations_sso(client, organizations):
    nora = UserFactory(email="nora@northwind.example", organization=organizations["northwind"])
    client.force_login(nora)
    html = client.get("/accounts/3rdparty/").content.decode()
    assert "Northwind Partners" in html
    assert "/accounts/oidc/northwind/login/" in html
    assert "Contoso" not in html and "contoso" not in html


def test_a_member_without_an_organization_is_offered_no_sso_and_no_customer_is_named(client, member, organizations):
    client.force_login(member)
    html = client.get("/accounts/3rdparty/").content.decode()
    assert "Northwind" not in html and "Contoso" not in html
    assert "Your organization does not sign in to MA Home with single sign-on" in html


def test_a_provisioned_members_address_is_verified_once_signed_in(client, organizations):
    user = services.member_provision(
        email="omar@northwind.example",
        first_name="Omar",
        last_name="Haddad",
        certificate_number="MA-2024-0318",
        qualified_on=date(2024, 9, 20),
    )
    user.set_password(TEST_PASSWORD)
    user.save()
    assert client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD}).status_code == 302
    html = client.get("/accounts/email/").content.decode()
    assert "Unverified" not in html and "Not verified" not in html
    assert "Verified" in html
    assert EmailAddress.objects.get(user=user).verified


def test_an_account_made_by_the_program_team_shows_its_address_verified(client):
    """Demo and staff accounts (user_create): the address the program team typed is vouched for."""
    user = services.user_create(email="Vera.Verifier@Example.com", first_name="Vera", password=TEST_PASSWORD)
    client.force_login(user)
    html = client.get("/accounts/email/").content.decode()
    assert "vera.verifier@example.com" in html
    assert "Verified" in html and "Not verified" not in html
    assert EmailAddress.objects.get(user=user).primary


def test_the_reset_email_names_ma_home_and_its_public_address_never_host_and_port(client, member, settings):
    settings.SITE_URL = "https://mahome.example.com"
    client.post("/accounts/password/reset/", {"email": member.email}, HTTP_HOST="127.0.0.1:8101")
    message = mail.outbox[-1]
    assert "MA Home" in message.subject
    assert "127.0.0.1" not in message.body and "Hello from" not in message.body
    assert "MA Home" in message.body
    assert "https://mahome.example.com" in message.body
    assert "https://mahome.example.com/accounts/password/reset/key/" in message.body


def test_reset_pages_end_with_a_sign_in_button(client, member):
    done = client.get("/accounts/password/reset/done/").content.decode()
    assert re.search(r'<a class="button[^"]*" href="/accounts/login/">Back to sign in</a>', done)
    client.post("/accounts/password/reset/", {"email": member.email})
    link = _reset_link(member.email)
    form_page = client.get(link, follow=True)
    action = form_page.request["PATH_INFO"]
    response = client.post(
        action, {"password1": "a-brand-new-passphrase-9", "password2": "a-brand-new-passphrase-9"}, follow=True
    )
    html = response.content.decode()
    assert "Your password is set" in html
    assert re.search(r'<a class="button[^"]*" href="/accounts/login/">Sign in</a>', html), html


def test_the_invitation_link_opens_a_first_password_page_not_a_change_password_page(client, organizations):
    user = services.member_provision(
        email="nora@northwind.example",
        first_name="Nora",
        last_name="Lind",
        certificate_number="MA-2026-0203",
        qualified_on=date(2026, 3, 11),
    )
    link = user.notifications.get(kind="account.invitation").email_url
    html = client.get(link, follow=True).content.decode()
    assert "Choose your password" in html
    assert "Change Password" not in html
    assert 'autocomplete="new-password"' in html


def test_a_reset_link_for_a_member_with_a_password_says_choose_a_new_password(client, member):
    client.post("/accounts/password/reset/", {"email": member.email})
    html = client.get(_reset_link(member.email), follow=True).content.decode()
    assert "Choose a new password" in html
