"""Template filters of the account pages."""

import copy

from django import template
from django.utils.translation import gettext as _

register = template.Library()

# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


@register.filter
def device(user_agent: str) -> str:
    """A browser's User-Agent as a member reads it: "Chrome on Windows" (the raw string stays in a title)."""
    user_agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown browser")


@register.filter
def without_placeholder(field):
    """Render a bound field's widget without allauth's Title Case placeholder (the label says it)."""
    widget = copy.copy(field.field.widget)
    widget.attrs = {name: value for name, value in widget.attrs.items() if name != "placeholder"}
    return field.as_widget(widget=widget)


@register.filter
def any_unverified(addresses) -> bool:
    return any(not address.verified for address in addresses)
