"""'A password is allowed for this organization' is one rule (accounts.models.password_allowed) that the
sign-in page, the sign-in form, the reset page, the reset mail and the invitation all ask."""

import pytest
from django.core import mail
from django.core.cache import cache

from accounts import services
from accounts.forms import SignInForm
from accounts.models import Organization, password_allowed
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

POLICIES = [
    (None, True),  # a personal address: no organization
    (Organization.FallbackPolicy.FALLBACK_ALLOWED, True),
    (Organization.FallbackPolicy.SSO_REQUIRED, False),
]


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


def _member(policy):
    if policy is None:
        return UserFactory(email="pat@personal.example")
    organization = OrganizationFactory(name=f"Org {policy}", fallback_policy=policy, domains=["work.example"])
    return UserFactory(email="pat@work.example", organization=organization)


@pytest.mark.parametrize(("policy", "allowed"), POLICIES)
def test_the_password_rule_and_every_layer_that_asks_it(client, rf, policy, allowed):
    member = _member(policy)
    organization = member.organization
    assert password_allowed(organization) is allowed
    if organization is not None:
        assert organization.allows_password is allowed
        assert organization.sso_required is not allowed
    assert (services.password_refusal(organization=organization) is None) is allowed

    page = client.get("/accounts/login/", {"email": member.email})
    assert page.context["password_allowed"] is allowed

    form = SignInForm(data={"login": member.email, "password": "whatever-it-is"}, request=rf.post("/"))
    assert not form.is_valid()
    refusal = services.password_refusal(organization=organization)
    assert (refusal in form.non_field_errors()) is not allowed

    client.post("/accounts/password/reset/", {"email": member.email})
    assert (len(mail.outbox) == 1) is allowed

    invitation = services.member_invite(user=member)
    assert ("/accounts/password/reset/key/" in invitation.notification.email_url) is allowed
