"""The member's current certificate, for pages of other apps (the profile) that may not import this one."""

from django import template
from django.utils import timezone

from contributions import selectors

register = template.Library()


@register.inclusion_tag("contributions/_current_certificate.html")
def current_certificate(member, certificate=None) -> dict:
    """Pass `certificate` when the page already read it (the dashboard), to spare the query."""
    today = timezone.localdate()
    certificate = certificate or selectors.certificate_current(member=member, today=today)
    return {
        "certificate": certificate,
        "status": certificate.status_on(today) if certificate else "",
        "status_text": selectors.certificate_status_text(certificate=certificate, today=today) if certificate else "",
    }
