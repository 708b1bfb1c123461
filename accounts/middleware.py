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
