"""The program team's home page at /admin/ (issue 17): what needs attention today, in one screen.

Composed from each app's selectors (the project composes the apps; no app imports this): the
verification queue, the current year's members by status, failed emails, the scheduled jobs with
their last run and result, the community connectors' last sync. Django's list of apps follows.
A fixed number of queries, whatever the number of members, items or jobs.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cron_descriptor import (
    ExpressionDescriptor,
    FormatException,
    MissingFieldException,
    Options,
    WrongArgumentException,
)
from django.contrib import admin
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_celery_beat.models import PeriodicTask

from accounts import selectors as account_selectors
from accounts.models import MACertification, Notification
from community_levels import selectors as community_selectors
from contributions import rules
from contributions import selectors as contribution_selectors
from contributions.models import ProgramYear
from mahome.models import ScheduledJobRun

HOME_STATUSES = (rules.ON_TRACK, rules.AT_RISK, rules.MET, rules.OPTED_OUT)
VERIFIER_WINDOW_DAYS = 7


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class JobRow:
    name: str
    description: str
    when: str
    enabled: bool
    last_run_at: datetime | None
    state: str  # "", running, succeeded, failed
    state_label: str
    error: str

    @property
    def failed(self) -> bool:
        return self.state == ScheduledJobRun.State.FAILED


@dataclass(frozen=True)
class Home:
    today: date
    program_year: ProgramYear | None
    queue_size: int
    queue_oldest_days: int | None
    queue_url: str
    decided_by_verifier: list
    verifier_window_days: int
    statuses: list[StatusCount]
    report_url: str
    failed_emails: int
    failed_emails_url: str
    jobs: list[JobRow]
    jobs_url: str
    sources: list


_PLAIN_NUMBER = re.compile(r"\d+")
_TWENTY_FOUR_HOURS = Options()
_TWENTY_FOUR_HOURS.use_24hour_time_format = True
# How an interval's period reads as the next larger unit (60 seconds: "every minute").
_LARGER_UNIT = {"seconds": ("minutes", 60), "minutes": ("hours", 60), "hours": ("days", 24)}


def schedule_in_words(task: PeriodicTask) -> str:
    """When a scheduled job runs, from the schedule the admin set, in the site's 24-hour clock: "Daily at
    03:05 UTC", "At 06:00, only on Monday (UTC)", "Every 5 minutes". The one place the timing is written (the
    jobs' descriptions say what they do, never when)."""
    if task.crontab_id:
        cron = task.crontab
        if (
            _PLAIN_NUMBER.fullmatch(cron.minute)
            and _PLAIN_NUMBER.fullmatch(cron.hour)
            and cron.day_of_month == cron.month_of_year == cron.day_of_week == "*"
        ):
            return f"Daily at {int(cron.hour):02d}:{int(cron.minute):02d} {cron.timezone}"
        expression = " ".join((cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week))
        try:
            words = ExpressionDescriptor(expression, _TWENTY_FOUR_HOURS).get_description()
        except (FormatException, MissingFieldException, WrongArgumentException):
            return cron.human_readable  # django-celery-beat's own fallback: the expression as written
        return words if words.startswith("Every") else f"{words} ({cron.timezone})"
    if task.interval_id:
        every, period = task.interval.every, task.interval.period
        while period in _LARGER_UNIT and every % _LARGER_UNIT[period][1] == 0:
            every, period = every // _LARGER_UNIT[period][1], _LARGER_UNIT[period][0]
        return f"Every {period.rstrip('s')}" if every == 1 else f"Every {every} {period}"
    return str(task.schedule) if task.clocked_id or task.solar_id else ""


def _jobs() -> list[JobRow]:
    runs = {run.periodic_task_name: run for run in ScheduledJobRun.objects.all()}
    rows = []
    for task in PeriodicTask.objects.select_related("crontab", "interval", "solar", "clocked").order_by("name"):
        run = runs.get(task.name)
        rows.append(
            JobRow(
                name=task.name,
                description=task.description,
                when=schedule_in_words(task),
                enabled=task.enabled,
                last_run_at=(run.finished_at or run.started_at) if run else task.last_run_at,
                state=run.state if run else "",
                state_label=run.get_state_display() if run else "",
                error=run.error if run else "",
            )
        )
    return rows


def program_home(*, request: HttpRequest, today: date | None = None) -> Home:
    today = today or timezone.localdate()
    program_year = contribution_selectors.program_year_current(today=today)
    queue = contribution_selectors.queue_stats()
    statuses: list[StatusCount] = []
    report_url = ""
    if program_year is not None:
        counts = contribution_selectors.program_year_status_counts(program_year=program_year, today=today)
        report_url = reverse("admin:contributions_programyear_report", args=[program_year.pk])
        roster_url = reverse("admin:accounts_macertification_changelist")
        statuses = [
            StatusCount(
                status=status,
                label=rules.status_label(status),
                count=counts.get(status, 0),
                url=f"{roster_url}?{RosterYearStatusFilter.parameter_name}={status}",
            )
            for status in HOME_STATUSES
        ]
    may_see_jobs = request.user.has_perm("django_celery_beat.view_periodictask")
    return Home(
        today=today,
        program_year=program_year,
        queue_size=queue["size"],
        queue_oldest_days=queue["oldest_days"],
        queue_url=reverse("admin:contributions_contribution_changelist"),
        decided_by_verifier=contribution_selectors.decisions_by_verifier(
            since=timezone.now() - timedelta(days=VERIFIER_WINDOW_DAYS)
        ),
        verifier_window_days=VERIFIER_WINDOW_DAYS,
        statuses=statuses,
        report_url=report_url,
        failed_emails=account_selectors.failed_email_count(),
        failed_emails_url=reverse("admin:accounts_notification_changelist")
        + f"?email_state__exact={Notification.EmailState.FAILED}",
        jobs=_jobs(),
        jobs_url=reverse("admin:django_celery_beat_periodictask_changelist") if may_see_jobs else "",
        sources=list(community_selectors.sources_last_sync()),
    )


class RosterYearStatusFilter(admin.SimpleListFilter):
    """The MA roster by this year's status (on track, at risk, met, opted out…), computed as the report does.

    Added to the roster (an `accounts` page) here, where the project composes the apps: `accounts`
    knows nothing of program years."""

    parameter_name = "year_status"
    title = gettext_lazy("status this year")

    def lookups(self, request, model_admin):
        return [(status, rules.STATUS_LABELS[status]) for status in rules.STATUS_LABELS]

    def queryset(self, request, queryset):
        value = self.value()
        if not value or value not in rules.STATUS_LABELS:
            return queryset
        program_year = contribution_selectors.program_year_current()
        if program_year is None:
            return queryset.none()
        sql, params = contribution_selectors.member_ids_with_status_sql(program_year=program_year, status=value)
        return queryset.filter(user_id__in=RawSQL(sql, params))  # noqa: S611 - the selector's SQL, values as parameters


def install(site: admin.AdminSite) -> None:
    """The MA roster gains a filter by this year's status, which the home page's counts open (the home
    page itself is the site's index: `mahome.admin_site`)."""
    roster = site._registry.get(MACertification)
    if roster is not None and RosterYearStatusFilter not in roster.list_filter:
        # list_filter is a class attribute of the roster's ModelAdmin, registered once on this site.
        type(roster).list_filter = [*roster.list_filter, RosterYearStatusFilter]
