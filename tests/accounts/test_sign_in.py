import re

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache

from accounts.models import Organization, SSOConnection
from tests.factories import TEST_PASSWORD, OrganizationFactory, StaffFactory, UserFactory, sso_connection_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def northwind(db):
    org = OrganizationFactory(name="Northwind", domains=["northwind.example"])
    sso_connection_create(
        organization=org,
        kind=SSOConnection.Kind.OIDC,
        slug="northwind",
        server_url="https://login.northwind.example",
        client_id="ma-home",
        client_secret="s3cret",
    )
    return org


@pytest.fixture
def contoso(db):
    org = OrganizationFactory(
        name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED, domains=["contoso.example"]
    )
    sso_connection_create(
        organization=org,
        kind=SSOConnection.Kind.SAML,
        slug="contoso",
        idp_entity_id="urn:contoso:idp",
        idp_metadata_url="https://idp.contoso.example/metadata",
    )
    return org


def test_sign_in_asks_for_the_email_first(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'name="email"' in html
    assert 'name="password"' not in html


def test_domain_with_a_connection_offers_the_sso_button_and_the_password(client, northwind):
    html = client.get("/accounts/login/?email=ava@northwind.example").content.decode()
    assert "Sign in with Northwind" in html
    assert 'action="/accounts/oidc/northwind/login/"' in html
    assert 'name="password"' in html


def test_sso_required_domain_offers_only_the_button_and_names_the_contact(client, contoso):
    html = client.get("/accounts/login/?email=kenji@contoso.example").content.decode()
    assert "Sign in with Contoso" in html
    assert 'action="/accounts/saml/contoso/login/"' in html
    assert 'name="password"' not in html
    assert "Priya Raman" in html


def test_the_offer_is_the_same_whether_or_not_the_email_has_an_account(client, northwind):
    UserFactory(email="known@northwind.example")

    def page(email: str) -> str:
        html = client.get(f"/accounts/login/?email={email}").content.decode().replace(email, "EMAIL")
        return re.sub(r"[A-Za-z0-9]{64}", "CSRF", html)  # masked CSRF tokens differ per response

    assert page("known@northwind.example") == page("nobody@northwind.example")


def test_password_step_signs_in_through_allauth(client, member):
    response = client.post("/accounts/login/", {"login": member.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_password_is_refused_where_the_organization_requires_sso(client, contoso):
    user = UserFactory(email="kenji@contoso.example")
    response = client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200
    html = response.content.decode()
    assert "requires single sign-on" in html
    assert "Priya Raman" in html
    assert "_auth_user_id" not in client.session


def test_sixth_wrong_password_is_rate_limited(client, member):
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": member.email, "password": "wrong-password-1"})
        assert "not correct" in response.content.decode()
    response = client.post("/accounts/login/", {"login": member.email, "password": TEST_PASSWORD})
    assert "Too many wrong passwords for this account. Try again in 5 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response["Location"].startswith("/accounts/login/?next=")


def test_staff_without_mfa_are_sent_to_set_it_up(client, program_admin):
    client.force_login(program_admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def _current_code(secret: str) -> str:
    import time

    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def test_staff_with_totp_sign_in_with_the_code_and_reach_the_admin(client):
    staff = StaffFactory(email="paul@example.com", groups=["Program admin"])
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TOTP.activate(staff, secret)
    response = client.post("/accounts/login/?next=/admin/", {"login": staff.email, "password": TEST_PASSWORD})
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/admin/").status_code == 302  # not signed in until the code is given
    response = client.post("/accounts/2fa/authenticate/", {"code": _current_code(secret)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
