"""The project's template helpers: which navigation link is the page being shown (from the resolved URL,
never from slices of the path), what kind of input a form field is (never by its name), and how long ago
something happened, in words."""

from datetime import datetime, timedelta

from django import forms, template
from django.http import HttpRequest
from django.urls import ResolverMatch
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext

register = template.Library()


def matches(match: ResolverMatch | None, pattern: str) -> bool:
    """`pattern` is a URL namespace ("contributions:"), a URL name ("profile") or a URL-name prefix ("mfa_*")."""
    if match is None:  # a 404 for a path that resolves to nothing
        return False
    if pattern.endswith(":"):
        return match.namespace == pattern[:-1]
    if match.namespace:
        return False
    if pattern.endswith("*"):
        return (match.url_name or "").startswith(pattern[:-1])
    return match.url_name == pattern


@register.simple_tag(takes_context=True)
def aria_current(context: template.Context, *patterns: str) -> SafeString:
    """` aria-current="page"` on a link when the request's view is one of `patterns` (see `matches`).

    `<a href="{% url 'contributions:list' %}"{% aria_current "contributions:" %}>`: every page of the
    contributions app marks its section, the way the header's navigation shows where the member is.
    Pages rendered without a request (the 500 page) mark nothing.
    """
    request: HttpRequest | None = context.get("request")
    match = getattr(request, "resolver_match", None)
    return mark_safe(' aria-current="page"') if any(matches(match, p) for p in patterns) else mark_safe("")


@register.filter
def is_checkbox(field: forms.BoundField) -> bool:
    """A single checkbox, which sits inside its label."""
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_file_input(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.FileInput)


@register.simple_tag(takes_context=True)
def admin_app_list(context: template.Context, app_list: list[dict]) -> SafeString:
    """The admin sidebar's app list (`mahome.admin_app_list`): Django's `admin/app_list.html`, built in Python."""
    from mahome.admin_app_list import app_list_html

    return app_list_html(app_list, path=context["request"].path)


@register.filter
def ago(moment: datetime | None) -> str:
    """How long ago `moment` was: "3 minutes ago", and "less than a minute ago" where Django's `timesince`
    says "0 minutes" (a notification just sent, a worker's heartbeat, a sync that just ran)."""
    if moment is None:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return gettext("less than a minute ago")
    return gettext("%(time)s ago") % {"time": timesince(moment)}
