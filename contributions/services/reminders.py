"""Maintenance reminders before the deadline and the monthly status message."""

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.services import notification_create
from contributions import rules
from contributions.models import (
    ProgramYear,
)

REMINDER_DAYS = (60, 30, 7)


def _members_to_remind(*, program_year: ProgramYear, today: date) -> list:
    from contributions import selectors

    members = list(selectors.eligible_members(program_year=program_year))
    standings = selectors.member_years(program_year=program_year, members=members, today=today)
    return [s for s in standings if s.status in (rules.ON_TRACK, rules.AT_RISK)]


def _status_body(standing) -> str:
    return _(
        "Target %(target)s points: %(verified)s verified, %(pending)s waiting for verification. "
        "Status: %(status)s. Last day: %(last_day)s (%(days)s days left)."
    ) % {
        "target": standing.target_points,
        "verified": standing.verified,
        "pending": standing.pending,
        "status": standing.status_label,
        "last_day": date_format(standing.program_year.last_day),
        "days": standing.days_to_deadline,
    }


def maintenance_deadline_reminders_send(*, today: date | None = None) -> int:
    """Reminders 60, 30 and 7 days before the deadline to members not yet met (each sent once).

    A member gets the reminder of the nearest threshold already reached, so a job that missed
    a day still sends it, and a second run sends nothing.
    """
    from contributions import selectors

    today = today or timezone.localdate()
    program_year = selectors.program_year_current(today=today)
    if program_year is None:
        return 0
    days_left = (program_year.deadline - today).days
    due = [days for days in REMINDER_DAYS if 0 < days_left <= days]
    if not due:
        return 0
    threshold = min(due)
    sent = 0
    for standing in _members_to_remind(program_year=program_year, today=today):
        created = notification_create(
            user=standing.member,
            kind="maintenance.reminder",
            title=_("%(days)s days left to keep your certification") % {"days": days_left},
            body=_status_body(standing),
            url=reverse("dashboard"),
            dedupe_key=f"maintenance-{program_year.year}-reminder-{threshold}d",
        )
        sent += created is not None
    return sent


def maintenance_monthly_status_send(*, today: date | None = None) -> int:
    """The monthly status email to members not yet met (once per member and month)."""
    from contributions import selectors

    today = today or timezone.localdate()
    program_year = selectors.program_year_current(today=today)
    if program_year is None or today >= program_year.deadline:
        return 0
    sent = 0
    for standing in _members_to_remind(program_year=program_year, today=today):
        created = notification_create(
            user=standing.member,
            kind="maintenance.status",
            title=_("Your certification status for %(month)s") % {"month": date_format(today, "F Y")},
            body=_status_body(standing),
            url=reverse("dashboard"),
            dedupe_key=f"maintenance-{program_year.year}-status-{today:%Y-%m}",
        )
        sent += created is not None
    return sent
