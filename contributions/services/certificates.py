"""Every write of certificates: issue (on certification and renewal), revoke, re-issue, hide.

Re-exported by `contributions.services`, so callers write `services.certificate_revoke(...)`.
A certificate is never deleted: revocation and replacement keep the row, and its public page
and its bit in the status list say what happened.
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    MACertification,
    User,
    issued_certificate_number,
    issued_certificate_number_member_id,
)
from contributions.errors import ContributionError
from contributions.models import Certificate, ProgramYear, ReviewOutcome
from mahome.locks import locked_or_busy

LOCK_TIMEOUT = "2s"


def certificate_number(*, year: int, member_id: int) -> str:
    """The one number format: MA-<certified year>-<member number, six digits> (reserved for certificates,
    see `accounts.models.ISSUED_CERTIFICATE_NUMBER_REGEX`)."""
    return issued_certificate_number(year=year, member_id=member_id)


def member_id_from_number(number: str) -> int | None:
    """The member a number in the one format belongs to (None for anything else)."""
    return issued_certificate_number_member_id(number)


def certificate_period(*, year: int, program_years: dict[int, ProgramYear]) -> tuple[date, date]:
    """First day and expiry day of a certified year: its program year's dates, else the calendar year."""
    program_year = program_years.get(year)
    if program_year is not None:
        return program_year.opens_on, program_year.deadline
    return date(year, 1, 1), date(year + 1, 1, 1)


def _period_year_of(*, day: date, program_years: dict[int, ProgramYear]) -> int:
    for year, program_year in program_years.items():
        if program_year.opens_on <= day < program_year.deadline:
            return year
    return day.year


def renewal_certificate(*, member: User, reviewed: ProgramYear, program_years: dict[int, ProgramYear]) -> Certificate:
    """The (unsaved) certificate the year-end review of `reviewed` issues to a recertified member."""
    year = reviewed.year + 1
    valid_from, valid_until = certificate_period(year=year, program_years=program_years)
    return Certificate(
        member=member,
        program_year=reviewed,
        year=year,
        number=certificate_number(year=year, member_id=member.pk),
        source=Certificate.Source.RENEWAL,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _missing_periods(
    *,
    member: User,
    qualified_on: date,
    program_years: dict[int, ProgramYear],
    outcomes: dict[int, ReviewOutcome],
    today: date,
) -> list[Certificate]:
    """The certificates of every period the member was certified for, up to today's.

    The qualification's period first; then each later period the review of the year before
    renewed. A year the program never ran in MA Home (no program year: before the app, or a
    gap) carries the certification over, as `eligible_members` does; a lapse or an opt-out
    ends it; a year still waiting for its review issues nothing (the review will).
    """
    first = _period_year_of(day=qualified_on, program_years=program_years)
    current = _period_year_of(day=today, program_years=program_years)
    certificates = []
    for year in range(first, current + 1):
        reviewed = program_years.get(year - 1)
        if year == first:
            source, reviewed = Certificate.Source.QUALIFICATION, None
        elif year - 1 in outcomes:
            if outcomes[year - 1].outcome != ReviewOutcome.Outcome.RECERTIFIED:
                break
            source = Certificate.Source.RENEWAL
        elif reviewed is not None or not program_years:
            break
        else:
            source = Certificate.Source.CARRIED_OVER
        valid_from, valid_until = certificate_period(year=year, program_years=program_years)
        if year == first:
            valid_from = max(valid_from, qualified_on)
        certificates.append(
            Certificate(
                member=member,
                program_year=reviewed,
                year=year,
                number=certificate_number(year=year, member_id=member.pk),
                source=source,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
    return certificates


@transaction.atomic
def certificates_issue_missing(*, member: User, today: date | None = None, by: User | None = None) -> list[Certificate]:
    """Issue the certificates a certified member should hold and does not (none of the others change).

    Called when a person is certified (provisioning, import) and safe to call again at any time:
    the partial unique constraint (one live certificate per member and year) makes a concurrent
    second call insert nothing. Returns the certificates created now.
    """
    certification = MACertification.objects.filter(user=member).first()
    if certification is None:
        return []
    today = today or timezone.localdate()
    program_years = {p.year: p for p in ProgramYear.objects.all()}
    outcomes = {
        o.program_year.year: o
        for o in ReviewOutcome.objects.filter(
            member=member, program_year__deadline__gt=certification.qualified_on
        ).select_related("program_year")
    }
    held = set(
        Certificate.objects.filter(member=member)
        .exclude(state=Certificate.State.SUPERSEDED)
        .values_list("year", flat=True)
    )
    created = []
    for certificate in _missing_periods(
        member=member,
        qualified_on=certification.qualified_on,
        program_years=program_years,
        outcomes=outcomes,
        today=today,
    ):
        if certificate.year in held:
            continue
        certificate._history_user = by
        certificate.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                certificate.save()
        except IntegrityError:
            continue  # issued meanwhile by a concurrent call
        created.append(certificate)
    return created


def _lock(*, certificate_id: int) -> Certificate:
    certificate = (
        Certificate.objects.select_for_update(no_key=True, of=("self",))
        .select_related("member")
        .filter(pk=certificate_id)
        .first()
    )
    if certificate is None:
        raise ContributionError(_("This certificate no longer exists."))
    return certificate


def _locked_or_busy():
    """The certificate's own durable transaction (staff's admin page is its entry point), waiting at
    most LOCK_TIMEOUT for a row another staff member holds."""
    return locked_or_busy(
        busy=_("Someone else is changing this certificate right now; try again in a moment."),
        error_class=ContributionError,
        durable=True,
        timeout=LOCK_TIMEOUT,
    )


def certificate_revoke(*, certificate: Certificate, reason: str, by: User) -> Certificate:
    """Withdraw a certificate with a reason; its page, its JSON and the status list say so from now on."""
    reason = (reason or "").strip()
    if not reason:
        raise ContributionError(_("A revocation needs a reason: it is shown on the public page."))
    with _locked_or_busy():
        locked = _lock(certificate_id=certificate.pk)
        if locked.revoked_at is not None:
            raise ContributionError(_("Certificate %(number)s is already revoked.") % {"number": locked.number})
        if locked.state == Certificate.State.SUPERSEDED:
            raise ContributionError(
                _("Certificate %(number)s was replaced; revoke the certificate that replaced it.")
                % {"number": locked.number}
            )
        locked.state = Certificate.State.REVOKED
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason[:300]
        locked.revoked_by = by
        locked._history_user = by
        locked._change_reason = "revoked"
        locked.full_clean(validate_constraints=False)
        locked.save()
    return locked


def certificate_reissue(*, certificate: Certificate, correction: str, by: User) -> Certificate:
    """Replace a certificate after a correction: same period and number, a new verification code.

    The old one is kept and marked superseded (its public page points to the replacement, and
    its credential's status bit is set, so a copy with the uncorrected facts no longer verifies).
    """
    correction = (correction or "").strip()
    if not correction:
        raise ContributionError(_("Say what was corrected: it is kept with both certificates."))
    with _locked_or_busy():
        old = _lock(certificate_id=certificate.pk)
        if old.state == Certificate.State.SUPERSEDED:
            raise ContributionError(_("Certificate %(number)s was already replaced.") % {"number": old.number})
        now = timezone.now()
        old.state = Certificate.State.SUPERSEDED
        old.superseded_at = now
        old._history_user = by
        old._change_reason = "replaced"
        old.save(update_fields=["state", "superseded_at"])
        new = Certificate(
            member=old.member,
            program_year=old.program_year,
            year=old.year,
            number=old.number,
            source=Certificate.Source.REISSUE,
            valid_from=old.valid_from,
            valid_until=old.valid_until,
            correction=correction[:300],
            is_public=old.is_public,
        )
        new._history_user = by
        new.full_clean(validate_constraints=False)
        new.save()
        old.superseded_by = new
        old.save(update_fields=["superseded_by"])
    return new


@transaction.atomic
def certificate_set_public(*, certificate: Certificate, member: User, is_public: bool) -> Certificate:
    """The holder shows or hides their certificate's public page (a revocation shows regardless)."""
    locked = (
        Certificate.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=certificate.pk, member=member)
        .first()
    )
    if locked is None:
        raise Certificate.DoesNotExist
    if locked.is_public != is_public:
        locked.is_public = is_public
        locked._history_user = member
        locked._change_reason = "shown" if is_public else "hidden"
        locked.save(update_fields=["is_public"])
    return locked
