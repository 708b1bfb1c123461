"""What a certificate says to the world: one set of facts for the public page, its JSON, the
signed Open Badges credential and the PDF, so that all four always agree.

Reads only; the writes are in `certificate_services`.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import MACertification
from contributions import selectors
from contributions.models import Certificate, TechnicalRequirement

CREDENTIAL_NAME = "Certified Master Anaplanner"
CATEGORIES = (
    "developing customers' connected planning landscapes",
    "directly enabling emerging talent",
    "amplifying the brand",
    "contributing to the documented enablement record",
)


@dataclass(frozen=True)
class CertificateFacts:
    code: str
    number: str
    year: int
    holder: str
    credential_name: str
    issuer_name: str
    issuer_url: str
    description: str
    criteria: str
    basis: str
    issued_on: date
    valid_from: date
    last_valid_day: date
    status: str
    status_label: str
    status_text: str
    checked_at: datetime
    is_public: bool
    page_url: str
    json_url: str
    badge_url: str
    credential_url: str
    baked_badge_url: str
    pdf_url: str
    linkedin_url: str
    replaced_by_url: str = ""

    @property
    def is_valid(self) -> bool:
        return self.status == Certificate.Status.VALID

    @property
    def is_revoked(self) -> bool:
        return self.status == Certificate.Status.REVOKED

    def as_json(self) -> dict:
        """The same facts for scripts (GET /verify/<code>.json); nothing the page does not show."""
        if not self.is_public and not self.is_revoked:
            return {"code": self.code, "public": False, "status": "not_public", "checked_at": _iso(self.checked_at)}
        links = {"page": self.page_url, "badge": self.badge_url, "credential": self.credential_url, "pdf": self.pdf_url}
        data = {
            "code": self.code,
            "public": self.is_public,
            "number": self.number,
            "credential": self.credential_name,
            "certified_for": self.year,
            "issuer": {"name": self.issuer_name, "url": self.issuer_url},
            "criteria": self.criteria,
            "basis": self.basis,
            "issued_on": self.issued_on.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.last_valid_day.isoformat(),
            "status": self.status,
            "status_text": self.status_text,
            "checked_at": _iso(self.checked_at),
            "links": links,
        }
        if self.is_public:
            data["holder"] = self.holder
        if self.replaced_by_url:
            links["replaced_by"] = self.replaced_by_url
        return data


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def issuer_name() -> str:
    return settings.MAHOME_ISSUER_NAME


def issuer_url() -> str:
    return settings.MAHOME_ISSUER_URL


def badge_url() -> str:
    return absolute(static("img/ma-badge.png"))


def achievement_description() -> str:
    return _(
        "Master Anaplanners are the certified experts of Anaplan connected planning; the certificate "
        "is renewed each year the holder meets the program's maintenance requirements."
    )


def criteria_narrative() -> str:
    """What every certificate stands for, in words (the Achievement's criteria)."""
    return _(
        "A Certified Master Anaplanner passed the Master Anaplanner certification and keeps it year by "
        "year: before each program year's deadline they earn that year's target of maintenance points "
        "(pro-rated for the year they qualified), verified by the program team, from %(categories)s, "
        "and meet the year's technical requirements (credentials held and mandatory trainings)."
    ) % {"categories": ", ".join(CATEGORIES[:-1]) + " and " + CATEGORIES[-1]}


def basis_text(*, certificate: Certificate, qualified_on: date | None) -> str:
    """Why this period's certificate was issued: the year's target and requirements, in words."""
    reviewed = certificate.program_year
    if reviewed is not None:
        requirements = [r.name for r in reviewed.requirements.all()]
        text = _(
            "Renewed for %(year)s by the %(reviewed)s year-end review: the %(reviewed)s requirements were "
            "%(target)s maintenance points"
        ) % {"year": certificate.year, "reviewed": reviewed.year, "target": reviewed.target_points}
        if requirements:
            text += _(" and %(requirements)s") % {"requirements": "; ".join(requirements)}
        text += "."
    elif qualified_on is not None and qualified_on.year == certificate.year:
        text = _("Certified on %(date)s: passed the Master Anaplanner certification.") % {
            "date": date_format(qualified_on, "j F Y")
        }
    else:
        text = _(
            "Certified for %(year)s: the certification continued from %(previous)s, a year whose "
            "maintenance was not tracked in MA Home."
        ) % {"year": certificate.year, "previous": certificate.year - 1}
    if certificate.source == Certificate.Source.REISSUE:
        text += " " + _("Re-issued on %(date)s after a correction.") % {
            "date": date_format(timezone.localdate(certificate.issued_at), "j F Y")
        }
    return text


LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def linkedin_add_url(*, certificate: Certificate, page_url: str) -> str:
    """LinkedIn's "Add to profile" link for a certification (addtoprofile.linkedin.com, the filled
    form): name, the program as organization (its LinkedIn id when configured), issue and expiry
    month and year, the public page as credential URL and the certificate number as credential ID.
    The expiry month is the last valid day's (a 2026 certificate: "Expires Dec 2026", not Jan 2027).

    The issue month is the period's first day (when the holder was certified for it): a certificate
    recorded later for a past period must not show an issue date after its expiry.
    """
    params = {"startTask": "CERTIFICATION_NAME", "name": CREDENTIAL_NAME}
    if settings.MAHOME_LINKEDIN_ORGANIZATION_ID:
        params["organizationId"] = settings.MAHOME_LINKEDIN_ORGANIZATION_ID
    else:
        params["organizationName"] = issuer_name()
    params |= {
        "issueYear": str(certificate.valid_from.year),
        "issueMonth": str(certificate.valid_from.month),
        "expirationYear": str(certificate.last_valid_day.year),
        "expirationMonth": str(certificate.last_valid_day.month),
        "certUrl": page_url,
        "certId": certificate.number,
    }
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params)}"


def certificate_for_code(*, code: str) -> Certificate | None:
    """The certificate with its holder and the reviewed year's requirements, in two queries.

    Codes are URL-safe tokens: anything else (a NUL, spaces, SQL) matches nothing without a query.
    """
    from django.db.models import Prefetch

    if not code or len(code) > 64 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        return None

    return (
        Certificate.objects.select_related("member", "program_year", "superseded_by")
        .prefetch_related(
            Prefetch("program_year__requirements", queryset=TechnicalRequirement.objects.order_by("name"))
        )
        .filter(verification_code=code)
        .first()
    )


def facts_for(*, certificate: Certificate, now: datetime | None = None) -> CertificateFacts:
    now = now or timezone.now()
    today = timezone.localdate(now)
    member = certificate.member
    qualified_on = (
        MACertification.objects.filter(user_id=member.pk).values_list("qualified_on", flat=True).first()
        if certificate.program_year_id is None
        else None
    )
    status = certificate.status_on(today)
    code = certificate.verification_code
    return CertificateFacts(
        code=code,
        number=certificate.number,
        year=certificate.year,
        holder=member.get_full_name() or member.display_name,
        credential_name=CREDENTIAL_NAME,
        issuer_name=issuer_name(),
        issuer_url=issuer_url(),
        description=_("%(name)s of the %(issuer)s, certified for %(year)s.")
        % {"name": CREDENTIAL_NAME, "issuer": issuer_name(), "year": certificate.year},
        criteria=criteria_narrative(),
        basis=basis_text(certificate=certificate, qualified_on=qualified_on),
        issued_on=timezone.localdate(certificate.issued_at),
        valid_from=certificate.valid_from,
        last_valid_day=certificate.last_valid_day,
        status=status,
        status_label=str(Certificate.Status(status).label),
        status_text=selectors.certificate_status_text(certificate=certificate, today=today),
        checked_at=now,
        is_public=certificate.is_public,
        page_url=absolute(reverse("certificate_verify", args=[code])),
        json_url=absolute(reverse("certificate_verify_json", args=[code])),
        badge_url=badge_url(),
        credential_url=absolute(reverse("certificate_credential", args=[code])),
        baked_badge_url=absolute(reverse("certificate_badge", args=[code])),
        pdf_url=absolute(reverse("certificate_pdf", args=[code])),
        linkedin_url=linkedin_add_url(
            certificate=certificate, page_url=absolute(reverse("certificate_verify", args=[code]))
        )
        if status == Certificate.Status.VALID
        else "",
        replaced_by_url=absolute(reverse("certificate_verify", args=[certificate.superseded_by.verification_code]))
        if certificate.superseded_by is not None and certificate.superseded_by.is_public
        else "",
    )
