"""The request a signed-in page receives, for annotating views.

`login_required` (and the staff checks) guarantee `request.user` is a `User`, which `HttpRequest`
alone types as `User | AnonymousUser`; django-htmx's middleware adds `request.htmx`.
"""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
