"""A member opting out of maintaining a year, or back in, before the deadline."""

from datetime import date

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import notification_create
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


# The reason a staff member gives is the history's change reason (simple-history keeps 100 characters).
TAKE_BACK_REASON_MAX_LENGTH = 100


@transaction.atomic
def opt_out_take_back(*, opt_out_id: int, by: User, reason: str, today: date | None = None) -> OptOut:
    """Staff take back a member's opt-out (the member asked, or it was made by mistake), in the same window
    as the member's own undo: the member maintains the year again and the reminders resume.

    The opt-out leaves the table as the member's own undo does, and its history keeps it: the row as it
    was, who took it back and why. The member is told, with the reason. Returns the opt-out as it was.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ContributionError(_("Give a reason: the member is told why their opt-out was taken back."))
    opt_out = OptOut.objects.select_for_update().select_related("member", "program_year").filter(pk=opt_out_id).first()
    if opt_out is None:
        raise ContributionError(_("This member is no longer opted out: the opt-out was already taken back or undone."))
    program_year = opt_out.program_year
    _opt_out_window_check(program_year=program_year, today=today or timezone.localdate())
    opt_out._history_user = by
    opt_out._change_reason = reason[:TAKE_BACK_REASON_MAX_LENGTH]
    opt_out.delete()
    notification_create(
        user=opt_out.member,
        kind="maintenance.opt_out_taken_back",
        title=_("You maintain your certification in %(year)s again") % {"year": program_year.year},
        body=_(
            "The program team took back your opt-out of %(year)s, so your target and reminders apply again. "
            "Their reason: %(reason)s"
        )
        % {"year": program_year.year, "reason": reason},
        url=reverse("dashboard"),
    )
    return opt_out


# --- Year-end review ------------------------------------------------------------------------------
