"""Certificates and the years behind them, as the dashboard, the admin and the verification page read them."""

from datetime import date, timedelta

from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from contributions.models import (
    Certificate,
    ProgramYear,
    ReviewOutcome,
)
from contributions.selectors.common import _today

# --- For the member dashboard (mahome.dashboard, which composes them) ---------------------------

RECENT_CONTRIBUTIONS = 8


def current_among(certificates: list[Certificate], *, today: date) -> Certificate | None:
    """The certificate a member's pages point at, among theirs: the one covering today (revoked
    included, so the member sees the revocation); otherwise the latest already started."""
    live = [c for c in certificates if c.state != Certificate.State.SUPERSEDED and c.valid_from <= today]
    live.sort(key=lambda c: c.year, reverse=True)
    covering = [c for c in live if today < c.valid_until]
    shown = covering or live
    return shown[0] if shown else None


def current_certificate_number(*, member_ref: str = "pk", today: date | None = None) -> Subquery:
    """The number of the member's current certificate as a subquery, for lists and exports.

    The same choice as `current_among`, in SQL: a certificate not replaced that has started, the
    one covering today first, then the latest period. `member_ref` names the member's id in the
    outer query ("pk" on users, "member_id" on contributions, "user_id" on certifications).
    """
    today = _today(today)
    live = (
        Certificate.objects.filter(member_id=OuterRef(member_ref), valid_from__lte=today)
        .exclude(state=Certificate.State.SUPERSEDED)
        .annotate(covering=Case(When(valid_until__gt=today, then=1), default=0))
        .order_by("-covering", "-year")
    )
    return Subquery(live.values("number")[:1])


def certificate_current(*, member: User, today: date | None = None) -> Certificate | None:
    """The member's current certificate (see `current_among`), in one query."""
    live = Certificate.objects.filter(member=member).exclude(state=Certificate.State.SUPERSEDED)
    return current_among(list(live), today=_today(today))


def certificates_of_member(*, member: User) -> QuerySet[Certificate]:
    """All the member's certificates, replaced ones included, newest period first."""
    return Certificate.objects.filter(member=member).select_related("superseded_by").order_by("-year", "-issued_at")


def member_contribution_years(*, user: User, current: ProgramYear | None) -> list[ProgramYear]:
    """Years the member has contributions in, plus the current one, newest first."""
    years = ProgramYear.objects.filter(Q(contributions__member=user) | Q(pk=current.pk if current else -1)).distinct()
    return list(years.order_by("-year"))


def reviewed_program_year_ids(*, within_days: int = 90) -> list[int]:
    """Program years reviewed recently: their outcome notifications may still be due (sent once each)."""
    since = timezone.now() - timedelta(days=within_days)
    return list(
        ReviewOutcome.objects.filter(reviewed_at__gte=since)
        .values_list("program_year_id", flat=True)
        .distinct()
        .order_by("program_year_id")
    )


# --- Certificates in words ------------------------------------------------------------------------


def certificate_status_text(*, certificate: Certificate, today: date | None = None) -> str:
    """The status as a reader should read it, with its date and, for a revocation, the reason."""
    today = _today(today)
    status = certificate.status_on(today)
    if status == Certificate.Status.REVOKED:
        return _("Revoked on %(date)s because: %(reason)s") % {
            "date": date_format(timezone.localdate(certificate.revoked_at)),
            "reason": certificate.revoked_reason,
        }
    if status == Certificate.Status.SUPERSEDED:
        return _("Replaced on %(date)s by a corrected certificate with the same number.") % {
            "date": date_format(timezone.localdate(certificate.superseded_at))
        }
    if status == Certificate.Status.EXPIRED:
        return _("Expired after %(date)s.") % {"date": date_format(certificate.last_valid_day)}
    if status == Certificate.Status.NOT_YET_VALID:
        return _("Valid from %(date)s.") % {"date": date_format(certificate.valid_from)}
    return _("Valid until %(date)s.") % {"date": date_format(certificate.last_valid_day)}
