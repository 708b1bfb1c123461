"""The year-end review's records: each member's outcome and the run that recorded them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from contributions.models.years import ProgramYear


class ReviewOutcomeQuerySet(models.QuerySet):
    def ending_certification_before(self, *, program_year: ProgramYear, qualified_on) -> "ReviewOutcomeQuerySet":
        """The one "certification ended in an earlier review" rule: outcomes of years before
        `program_year` that lapsed or opted out the certification held since `qualified_on` (the year's
        deadline came after it; re-qualifying on or after that deadline starts a new certification).

        `qualified_on` may be a date or an `OuterRef` to it (the review's member list asks per member).
        """
        return self.filter(
            program_year__year__lt=program_year.year,
            program_year__deadline__gt=qualified_on,
            outcome__in=ReviewOutcome.ENDING_OUTCOMES,
        )


class ReviewOutcome(models.Model):
    """What the year-end review decided for one member, with the numbers it decided on."""

    class Outcome(models.TextChoices):
        RECERTIFIED = "recertified", _("Recertified")
        LAPSED = "lapsed", _("Lapsed")
        OPTED_OUT = "opted_out", _("Opted out")

    # Outcomes after which the member is no longer an MA (until they qualify again).
    ENDING_OUTCOMES = (Outcome.LAPSED, Outcome.OPTED_OUT)

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_outcomes")
    program_year = models.ForeignKey(ProgramYear, on_delete=models.PROTECT, related_name="review_outcomes")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    target_points = models.PositiveIntegerField(_("target"))
    verified_points = models.PositiveIntegerField(_("verified"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)

    objects = ReviewOutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["program_year", "member"]
        verbose_name = _("year-end review outcome")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "program_year"],
                name="reviewoutcome_once_per_year",
                violation_error_message=_("This member already has a review outcome for this program year."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_outcome_display()} ({self.program_year})"


class ReviewRun(models.Model):
    """The final year-end review of a program year: who ran it, when, and what it produced.

    One per program year: the review page shows it and offers no second final run.
    """

    program_year = models.ForeignKey(ProgramYear, on_delete=models.PROTECT, related_name="review_runs")
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ran_at = models.DateTimeField(_("ran at"))
    outcomes = models.PositiveIntegerField(_("review outcomes recorded"))
    certificates = models.PositiveIntegerField(_("certificates issued"))
    notifications = models.PositiveIntegerField(_("members to notify"))
    counts = models.JSONField(_("members by outcome"), default=dict)

    class Meta:
        verbose_name = _("year-end review run")
        constraints = [
            models.UniqueConstraint(
                fields=["program_year"],
                name="reviewrun_once_per_year",
                violation_error_message=_("The final year-end review of this program year has already run."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_year}: {self.ran_at:%Y-%m-%d}"
