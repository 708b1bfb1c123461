"""The member's current certificate, for pages of other apps (the profile) that may not import this one."""

from django import template
from django.utils import timezone

from contributions import selectors
from contributions.models import Certificate

register = template.Library()

# Like Credly's expiry banners: the card warns in the last two months of a certificate.
EXPIRY_NOTICE_DAYS = 60


@register.inclusion_tag("contributions/_current_certificate.html")
def current_certificate(member, certificate=None) -> dict:
    """Pass `certificate` when the page already read it (the dashboard), to spare the query."""
    today = timezone.localdate()
    certificate = certificate or selectors.certificate_current(member=member, today=today)
    status = certificate.status_on(today) if certificate else ""
    days_left = (certificate.valid_until - today).days if certificate else 0
    return {
        "expiring_in": days_left if status == Certificate.Status.VALID and days_left <= EXPIRY_NOTICE_DAYS else None,
        "certificate": certificate,
        "status": status,
        "status_label": Certificate.Status(status).label if certificate else "",
        "status_text": selectors.certificate_status_text(certificate=certificate, today=today) if certificate else "",
    }


# The status pill's colour, one rule for every page that shows a certificate's status.
STATUS_PILLS: dict[str, str] = {Certificate.Status.VALID: "pill-ok", Certificate.Status.REVOKED: "pill-danger"}


@register.filter
def certificate_pill(status: str) -> str:
    """`{{ status|certificate_pill }}`: the pill class for a `Certificate.Status` (muted for the others)."""
    return STATUS_PILLS.get(status, "pill-muted")
