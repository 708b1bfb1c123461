"""The accounts app's refusals are `AccountError`s (a `DomainError`), and each reaches the person who
asked in words, beside the field it is about (issue 15, finding 6)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.errors import AccountError
from accounts.models import SSOConnection
from accounts.services import sso_connection_sync
from tests.factories import MACertificationFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_the_provision_page_shows_every_refusal_beside_its_field(admin_client, member):
    MACertificationFactory(user=member, certificate_number="MA-9")
    response = admin_client.post(
        "/admin/accounts/macertification/provision/",
        {
            "email": member.email,
            "first_name": "Again",
            "last_name": "Someone",
            "certificate_number": "MA-9",
            "qualified_on": (timezone.localdate() + timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["email"] == [f"{member.email} already has an account."]
    assert errors["certificate_number"] == ["Certificate number MA-9 belongs to another member."]
    assert errors["qualified_on"] == ["The qualification date cannot be in the future."]


def test_an_oidc_connection_without_its_client_is_refused_by_the_service_with_the_field():
    organization = OrganizationFactory(name="Fabrikam")
    connection = SSOConnection(
        organization=organization, kind=SSOConnection.Kind.OIDC, slug="fabrikam", server_url="https://idp.example"
    )
    with pytest.raises(AccountError, match="required for this protocol") as refused:
        sso_connection_sync(connection=connection)
    assert refused.value.field == "client_id"
    assert not SSOConnection.objects.exists()


def test_the_admin_says_which_sso_fields_are_missing_instead_of_failing(admin_client):
    organization = OrganizationFactory(name="Fabrikam")
    response = admin_client.post(
        "/admin/accounts/ssoconnection/add/",
        {
            "organization": organization.pk,
            "kind": SSOConnection.Kind.OIDC,
            "slug": "fabrikam",
            "button_label": "",
            "server_url": "https://idp.example",
            "client_id": "",
            "client_secret": "",
            "idp_entity_id": "",
            "idp_metadata_url": "",
            "saml_attribute_mapping": "{}",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "required for this protocol" in errors["client_id"][0]
    assert "required for this protocol" in errors["client_secret"][0]
    assert not SSOConnection.objects.exists()


def test_the_sso_connection_page_shows_its_help_texts_readably(admin_client):
    # The admin renders help text as HTML: "<slug>" and "<organization>" vanished from them.
    html = admin_client.get("/admin/accounts/ssoconnection/add/").content.decode()
    assert "/accounts/saml/acme/acs/ and /accounts/oidc/acme/login/ for the slug acme" in html
    assert 'Defaults to "Sign in with" and the organization\'s name.' in html
    assert "/accounts/saml//acs/" not in html
