"""Single sign-on end to end against real identity providers (npm oidc-provider and saml-idp)."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache

from accounts.models import Organization, SSOConnection
from tests.factories import OrganizationFactory, UserFactory, sso_connection_create
from tests.helpers import screenshot
from tests.idp.servers import free_port, run_oidc_provider, run_saml_idp

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

OIDC_ACCOUNTS = [
    {"sub": "nora", "email": "nora@northwind.example", "email_verified": True, "given_name": "Nora"},
    {"sub": "unverified", "email": "omar@northwind.example", "email_verified": False},
    {"sub": "foreign", "email": "nora@gmail.example", "email_verified": True},
    {"sub": "mallory", "email": "ben@northwind.example", "email_verified": True},
]
SAML_MAPPING = {
    "uid": "email",
    "email": "email",
    "email_verified": "email_verified",
    "first_name": "firstName",
    "last_name": "lastName",
}


@pytest.fixture(scope="session")
def oidc_idp(live_server):
    with run_oidc_provider(
        port=free_port(),
        client_id="ma-home",
        client_secret="s3cret",
        redirect_uris=[f"{live_server.url}/accounts/oidc/northwind/login/callback/"],
        accounts=OIDC_ACCOUNTS,
    ) as idp:
        yield idp


@pytest.fixture(scope="session")
def saml_idp(live_server):
    with run_saml_idp(
        port=free_port(),
        issuer="urn:contoso:test-idp",
        acs_url=f"{live_server.url}/accounts/saml/contoso/acs/",
        audience=f"{live_server.url}/accounts/saml/contoso/metadata/",
        user={"userName": "kenji@contoso.example", "email": "kenji@contoso.example", "firstName": "Kenji"},
    ) as idp:
        yield idp


@pytest.fixture
def northwind(oidc_idp):
    cache.clear()
    org = OrganizationFactory(name="Northwind", domains=["northwind.example"])
    sso_connection_create(
        organization=org,
        kind=SSOConnection.Kind.OIDC,
        slug="northwind",
        server_url=oidc_idp.issuer,
        client_id="ma-home",
        client_secret="s3cret",
    )
    return org


@pytest.fixture
def contoso(saml_idp):
    cache.clear()
    org = OrganizationFactory(
        name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED, domains=["contoso.example"]
    )
    sso_connection_create(
        organization=org,
        kind=SSOConnection.Kind.SAML,
        slug="contoso",
        idp_entity_id=saml_idp.entity_id,
        idp_metadata_url=saml_idp.metadata_url,
        saml_attribute_mapping=SAML_MAPPING,
    )
    return org


def _start(page, email: str, button: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name=button).click()


def _oidc_login(page, sub: str) -> None:
    page.fill('input[name="login"]', sub)
    page.fill('input[name="password"]', "anything")
    page.click('button[type="submit"]')
    page.wait_for_load_state()
    if page.locator('input[name="prompt"][value="consent"]').count():
        page.click('button[type="submit"]')
    page.wait_for_load_state()


def _saml_login(page, email: str) -> None:
    page.wait_for_selector("#btn-sign-in")
    page.fill("#userName", email)
    page.fill("#email", email)
    page.click("#btn-sign-in")
    page.wait_for_load_state()


def test_member_signs_in_with_oidc_and_lands_on_the_dashboard(page, northwind):
    nora = UserFactory(email="nora@northwind.example", first_name="Nora")
    page.goto("/accounts/login/")
    screenshot(page, "sign-in-email-step")
    page.get_by_label("Email").fill(nora.email)
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_label("Password").is_visible()
    screenshot(page, "sign-in-sso-and-password")
    page.get_by_role("button", name="Sign in with Northwind").click()
    _oidc_login(page, "nora")
    assert page.get_by_role("heading", name="Welcome to MA Home, Nora").is_visible()  # her first sign-in
    assert SocialAccount.objects.get(user=nora).uid == "nora"


@pytest.mark.parametrize(
    ("sub", "reason"),
    [
        ("unverified", "did not confirm that"),
        ("foreign", "is not one of Northwind's email domains"),
        ("mallory", "linked to a different identity"),
    ],
)
def test_oidc_assertion_that_may_not_sign_in_gets_the_clear_refusal(page, northwind, sub, reason):
    UserFactory(email="nora@northwind.example")
    UserFactory(email="omar@northwind.example")
    ben = UserFactory(email="ben@northwind.example")
    SocialAccount.objects.create(user=ben, provider="northwind", uid="ben-at-northwind")
    _start(page, "nora@northwind.example", "Sign in with Northwind")
    _oidc_login(page, sub)
    assert page.get_by_role("heading", name="We could not sign you in with single sign-on").is_visible()
    assert reason in page.content()
    assert SocialAccount.objects.filter(provider="northwind").count() == 1
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_member_signs_in_with_saml_and_lands_on_the_dashboard(page, contoso):
    kenji = UserFactory(email="kenji@contoso.example", first_name="Kenji")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(kenji.email)
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_label("Password").count() == 0
    assert page.get_by_text("Priya Raman").is_visible()
    screenshot(page, "sign-in-sso-required")
    page.get_by_role("button", name="Sign in with Contoso").click()
    _saml_login(page, kenji.email)
    assert page.get_by_role("heading", name="Welcome to MA Home, Kenji").is_visible()  # his first sign-in


def test_saml_assertion_for_a_foreign_domain_is_refused(page, contoso):
    UserFactory(email="kenji@contoso.example")
    _start(page, "kenji@contoso.example", "Sign in with Contoso")
    _saml_login(page, "kenji@gmail.example")
    assert page.get_by_role("heading", name="We could not sign you in with single sign-on").is_visible()
    assert "kenji@gmail.example" in page.content()
    screenshot(page, "sso-refused")
    assert not SocialAccount.objects.exists()


def test_saml_assertion_for_an_email_without_account_is_refused(page, contoso):
    _start(page, "kenji@contoso.example", "Sign in with Contoso")
    _saml_login(page, "stranger@contoso.example")
    assert "There is no MA Home account for" in page.content()
    assert not SocialAccount.objects.exists()
