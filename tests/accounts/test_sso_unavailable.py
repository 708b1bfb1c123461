"""An identity provider that cannot be reached gives the friendly 503 on the SSO views only, which the
middleware recognises by their URL names, not by typed path prefixes (issue 15, finding 7)."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve, reverse

from accounts.middleware import SSOProviderUnavailableMiddleware


def _request(path: str):
    request = RequestFactory().get(path)
    request.resolver_match = resolve(path)
    return request


@pytest.mark.parametrize(
    "path",
    [
        lambda: reverse("saml_login", kwargs={"organization_slug": "acme"}),
        lambda: reverse("saml_acs", kwargs={"organization_slug": "acme"}),
        lambda: reverse("openid_connect_login", kwargs={"provider_id": "acme"}),
        lambda: reverse("openid_connect_callback", kwargs={"provider_id": "acme"}),
    ],
)
def test_an_unreachable_provider_on_an_sso_view_is_a_503(path):
    middleware = SSOProviderUnavailableMiddleware(lambda request: HttpResponse())
    response = middleware.process_exception(_request(path()), OSError("metadata fetch timed out"))
    assert response.status_code == 503
    assert response["Retry-After"] == "60"


def test_other_views_and_other_errors_are_left_alone():
    middleware = SSOProviderUnavailableMiddleware(lambda request: HttpResponse())
    assert middleware.process_exception(_request(reverse("profile")), OSError("disk")) is None
    saml = _request(reverse("saml_login", kwargs={"organization_slug": "acme"}))
    assert middleware.process_exception(saml, ValueError("bug")) is None
