"""One member in one program year: requirement statuses, a target override, an opt-out, and the counted
totals the year report reads."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contributions.models.contributions import Contribution
from contributions.models.years import ProgramYear, TechnicalRequirement
from mahome.history import HistoryAttribution


class RequirementStatus(HistoryAttribution, models.Model):
    """Whether one member met one technical requirement, and when; recorded by staff."""

    requirement = models.ForeignKey(TechnicalRequirement, on_delete=models.CASCADE, related_name="statuses")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requirement_statuses")
    met_on = models.DateField(_("met on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    report = models.ForeignKey(
        Contribution,
        verbose_name=_("member's report"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The verified report this was recorded from, if the member reported it."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["requirement", "member"]
        verbose_name = _("member's technical requirement")
        verbose_name_plural = _("members' technical requirements")
        permissions = [
            ("override_requirement_date", _("Record a completion after the requirement's due date (with a reason)")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "member"],
                name="requirementstatus_once_per_member",
                violation_error_message=_("This member already has a status for this requirement; change that one."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.requirement.name}"

    @property
    def is_met(self) -> bool:
        return self.met_on is not None


class TargetOverride(HistoryAttribution, models.Model):
    """An admin's decision that a member owes a different target this year (leave, special case)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="target_overrides")
    program_year = models.ForeignKey(ProgramYear, on_delete=models.CASCADE, related_name="target_overrides")
    target_points = models.PositiveIntegerField(_("target points"))
    reason = models.CharField(_("reason"), max_length=300)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target override")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "program_year"],
                name="targetoverride_once_per_year",
                violation_error_message=_(
                    "This member already has a target override for this program year; change that one."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.target_points} ({self.program_year})"


class OptOut(HistoryAttribution, models.Model):
    """A member's choice not to maintain their certification this year; undone by deleting it."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opt_outs")
    program_year = models.ForeignKey(ProgramYear, on_delete=models.CASCADE, related_name="opt_outs")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("opt-out")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "program_year"],
                name="optout_once_per_year",
                violation_error_message=_("This member has already opted out of this program year."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.program_year})"


class StandingTotals(models.Model):
    """A member's counted points in a program year: the year report's standing reads these, not every contribution.

    Written by PostgreSQL alone (triggers of migration 0015, `contributions.standing` explains why): every
    statement that inserts, updates or deletes contributions, or changes an activity type's cap, recomputes
    the rows of the member-years it touched. `verified` is capped per type (`rules.capped`); `pending` counts
    submitted and needs-info claims up to each type's remaining headroom. No application code writes here.
    """

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    program_year = models.ForeignKey(ProgramYear, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    verified = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "program_year"],
                name="standing_totals_unique",
                violation_error_message=_("This member already has standing totals for this program year."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.program_year_id}: {self.verified} + {self.pending}"


class StandingVersion(models.Model):
    """How many committed statements changed a table the year's standing reads: the key under which its
    status counts are stored (`StatusCounts`, `contributions.standing` says why and how).

    Written by triggers alone (migrations 0020, 0022), never by application code. A writing statement adds one to
    the slot of its database session (`pg_backend_pid() % VERSION_SLOTS`; SQLite has one writer and one
    slot), so concurrent writers seldom wait for each other's commit on the same row; the version is the sum.
    """

    slot = models.PositiveSmallIntegerField(primary_key=True)
    changes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.slot}: {self.changes}"


class StatusCounts(models.Model):
    """A year's members by status as last computed, kept with the standing's version they were computed at.

    Served again only while `fingerprint` (the standing's SQL and its parameters: the year, today, the rules,
    the filters) and the version both match; written by `contributions.standing` alone.
    """

    fingerprint = models.CharField(max_length=32, primary_key=True)
    version = models.BigIntegerField()
    counts = models.TextField()  # JSON: {status: members}
    stored_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.fingerprint} @ {self.version}: {self.counts}"
