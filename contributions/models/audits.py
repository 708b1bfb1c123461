"""Risk-based audits: each sampling run and each audit of a verified contribution."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contributions.models.contributions import DESCRIPTION_MAX_LENGTH, Contribution
from contributions.models.years import ProgramYear
from mahome.history import HistoryAttribution


class AuditRun(models.Model):
    """One run of the audit sampling for a program year: what it looked at and with which seed."""

    program_year = models.ForeignKey(ProgramYear, on_delete=models.PROTECT, related_name="audit_runs")
    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)
    verified_until = models.DateTimeField(
        _("verified until"), help_text=_("Contributions verified before this moment were considered.")
    )
    rate = models.PositiveSmallIntegerField(_("audit rate (%)"))
    seed = models.BigIntegerField(_("seed"))
    considered = models.PositiveIntegerField(_("contributions considered"), default=0)
    sampled = models.PositiveIntegerField(_("contributions sampled"), default=0)

    class Meta:
        ordering = ["-ran_at", "-pk"]
        verbose_name = _("audit run")

    def __str__(self) -> str:
        return f"{self.program_year} {self.ran_at:%Y-%m-%d}"


class Audit(HistoryAttribution, models.Model):
    """A verified contribution chosen for an audit: the member is asked for evidence by a date, then
    a verifier confirms the claim or reverses it (through the decision correction). Never deleted."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Evidence requested")
        ANSWERED = "answered", _("Answered by the member")
        CONFIRMED = "confirmed", _("Confirmed")
        REVERSED = "reversed", _("Reversed")

    OPEN_STATES = (State.REQUESTED, State.ANSWERED)

    contribution = models.ForeignKey(Contribution, on_delete=models.PROTECT, related_name="audits")
    run = models.ForeignKey(AuditRun, on_delete=models.PROTECT, related_name="audits", null=True, blank=True)
    reasons = models.JSONField(_("risk reasons"), default=list, blank=True)
    probability = models.FloatField(_("chance of being chosen"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.REQUESTED)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    evidence_due_on = models.DateField(_("evidence due on"))
    answer = models.TextField(_("member's answer"), max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    answer_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    concluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome_note = models.TextField(_("outcome note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("audit")
        constraints = [
            models.UniqueConstraint(
                fields=["contribution"],
                condition=Q(state__in=["requested", "answered"]),
                name="audit_one_open_per_contribution",
                violation_error_message=_("This contribution already has an open audit."),
            ),
            models.CheckConstraint(
                condition=Q(probability__gt=0) & Q(probability__lte=1),
                name="audit_probability_is_a_chance",
                violation_error_message=_("The chance of being chosen is between 0 and 1."),
            ),
            models.CheckConstraint(
                condition=Q(state__in=["requested", "answered"])
                | (Q(concluded_at__isnull=False) & ~Q(outcome_note="")),
                name="audit_concluded_with_a_note",
                violation_error_message=_("A concluded audit needs the date and a note on what was found."),
            ),
        ]

    def __str__(self) -> str:
        return _("Audit of “%(title)s”") % {"title": self.contribution.title}
