"""The request a signed-in page receives, for annotating views.

`login_required` (and the staff checks) guarantee `request.user` is a `User`, which `HttpRequest`
alone types as `User | AnonymousUser`; django-htmx's middleware adds `request.htmx`.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User

# Set on the session that began with the member's first sign-in ever (`AccountAdapter.login`: by
# password, after the invitation, or by single sign-on). It is known only then: Django stamps
# `last_login` while signing in, before any page renders.
FIRST_SIGN_IN_SESSION_KEY = "mahome_first_sign_in"


class AuthenticatedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def signed_in_user(request: HttpRequest) -> User:
    """`request.user` where a sign-in is required (a ModelAdmin hook, whose signature says HttpRequest)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def is_first_visit(request: HttpRequest) -> bool:
    """Whether this is the member's first visit: their session began with their first sign-in ever."""
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(FIRST_SIGN_IN_SESSION_KEY))
