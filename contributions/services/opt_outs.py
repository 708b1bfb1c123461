"""A member opting out of maintaining a year, or back in, before the deadline."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contributions.errors import ContributionError
from contributions.models import (
    OptOut,
    ProgramYear,
    ReviewOutcome,
)


def _opt_out_window_check(*, program_year: ProgramYear, today: date) -> None:
    if today >= program_year.deadline:
        raise ContributionError(
            _("The %(year)s deadline has passed; opting out or back in is no longer possible.")
            % {"year": program_year.year}
        )
    if ReviewOutcome.objects.filter(program_year=program_year).exists():
        raise ContributionError(_("The year-end review has already run for %(year)s.") % {"year": program_year.year})


@transaction.atomic
def opt_out_create(*, member: User, program_year: ProgramYear, reason: str = "", today: date | None = None) -> OptOut:
    """The member stops maintaining this year: no more reminders; the certificate stays until it expires."""
    _opt_out_window_check(program_year=program_year, today=today or timezone.localdate())
    opt_out = OptOut(member=member, program_year=program_year, reason=reason[:300])
    opt_out._history_user = member
    opt_out.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            opt_out.save()
    except IntegrityError:
        return OptOut.objects.get(member=member, program_year=program_year)
    return opt_out


@transaction.atomic
def opt_out_undo(*, member: User, program_year: ProgramYear, today: date | None = None) -> bool:
    """Undo the opt-out before the deadline; returns False if there was none."""
    _opt_out_window_check(program_year=program_year, today=today or timezone.localdate())
    opt_out = OptOut.objects.filter(member=member, program_year=program_year).first()
    if opt_out is None:
        return False
    opt_out._history_user = member
    opt_out.delete()
    return True


# --- Year-end review ------------------------------------------------------------------------------
