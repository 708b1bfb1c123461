"""The request a signed-in page receives, for annotating views.

`login_required` (and the staff checks) guarantee `request.user` is a `User`, which `HttpRequest`
alone types as `User | AnonymousUser`; django-htmx's middleware adds `request.htmx`.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def signed_in_user(request: HttpRequest) -> User:
    """`request.user` where a sign-in is required (a ModelAdmin hook, whose signature says HttpRequest)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user
