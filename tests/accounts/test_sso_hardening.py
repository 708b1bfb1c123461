"""Edge cases of the SSO rules that a careless implementation gets wrong."""

from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.adapters import SSORefused, sso_login_check
from accounts.models import Organization, SSOConnection
from tests.factories import TEST_PASSWORD, OrganizationFactory, UserFactory, sso_connection_create

pytestmark = pytest.mark.django_db


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


def _oidc_login(email: str, verified, claim):
    return SimpleNamespace(
        email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
        account=SimpleNamespace(provider="northwind", extra_data={"email_verified": claim, "email": email}),
        is_existing=False,
        user=None,
    )


@pytest.mark.parametrize("claim", ["false", "False", "0", "", None, 0])
def test_an_email_verified_claim_that_is_not_true_is_refused(northwind, claim):
    UserFactory(email="ava@northwind.example")
    with pytest.raises(SSORefused) as refused:
        sso_login_check(_oidc_login("ava@northwind.example", claim, claim))
    assert refused.value.reason == "unverified"


@pytest.mark.parametrize("claim", [True, "true", "TRUE"])
def test_a_true_email_verified_claim_links_the_provisioned_account(northwind, claim):
    ava = UserFactory(email="ava@northwind.example")
    assert sso_login_check(_oidc_login("ava@northwind.example", claim, claim)) == ava


@pytest.fixture
def contoso_member(db):
    org = OrganizationFactory(
        name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED, domains=["contoso.example"]
    )
    # The member's sign-in address is a personal one, outside the organization's domains.
    return UserFactory(email="chloe.personal@gmail.example", organization=org)


def test_sso_required_member_cannot_sign_in_with_a_password_from_a_personal_address(client, contoso_member):
    response = client.post("/accounts/login/", {"login": contoso_member.email, "password": TEST_PASSWORD}, follow=True)
    assert not response.wsgi_request.user.is_authenticated
    assert "Contoso requires single sign-on" in response.content.decode()


def test_sso_required_member_gets_no_reset_link_at_a_personal_address(client, contoso_member):
    response = client.post("/accounts/password/reset/", {"email": contoso_member.email}, follow=True)
    assert response.status_code == 200
    assert mail.outbox == []
    # The page is the one any address gets: nothing says whether an account exists.
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@gmail.example"}, follow=True)
    assert response.templates[0].name == unknown.templates[0].name
