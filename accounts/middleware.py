from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _


class StaffMFARequiredMiddleware:
    """Staff reach /admin/ only once they have set up an authenticator app (TOTP).

    The admin's own login is replaced by allauth's (see mahome/urls.py), so the password,
    the rate limits and the MFA code are checked by the same flow everyone uses.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.path.startswith("/admin/")
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()
        ):
            messages.warning(
                request,
                _(
                    "Staff must set up two-factor authentication before using the admin. "
                    "Add MA Home to your authenticator app."
                ),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class SSOProviderUnavailableMiddleware:
    """An identity provider whose metadata cannot be fetched gives a friendly 503, not a 500.

    allauth fetches a SAML IdP's metadata URL while serving /accounts/saml/<slug>/...; when the
    provider is down or unreachable that fetch raises an OSError (URLError, timeout).
    """

    PREFIXES = ("/accounts/saml/", "/accounts/oidc/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (isinstance(exception, OSError) and request.path.startswith(self.PREFIXES)):
            return None
        import logging

        from django.shortcuts import render

        logging.getLogger(__name__).warning("Identity provider unreachable for %s: %s", request.path, exception)
        response = render(request, "accounts/sso_unavailable.html", status=503)
        response["Retry-After"] = "60"
        return response
