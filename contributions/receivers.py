"""Where the contributions app acts on other apps' events; each receiver only calls a service."""

from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import MACertification, User
from contributions.selectors import certificate_current
from contributions.services.certificates import certificates_issue_missing


def issue_certificates_on_certification(sender, *, user: User, certification: MACertification, **kwargs) -> str:
    """A person was just certified: their certificate exists from this moment (spec 20-maintenance).

    Returns the invitation's line about it: the number and the public page of the current one.
    """
    certificates_issue_missing(member=user)
    current = certificate_current(member=user)
    if current is None:
        return ""
    return _("Your certificate: %(number)s, valid until %(date)s. Its public page: %(url)s") % {
        "number": current.number,
        "date": date_format(current.last_valid_day),
        "url": f"{settings.SITE_URL}{reverse('certificate_verify', args=[current.verification_code])}",
    }
