"""A program year and its rules: the year's dates and target, its catalogue of activity types and its
technical requirements."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Floor
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from mahome.history import HistoryAttribution

# "A year and a few weeks": the longest a program year may run from opening to deadline.
PROGRAM_YEAR_MAX_LENGTH = timedelta(days=400)


def last_day_before(end: date) -> date:
    """The last day of a period whose end is stored as its first day after, [start, end): a program
    year's deadline and a certificate's `valid_until` are such exclusive bounds, and comparisons use
    them as they are, but a person is shown the last day the period includes (31 Dec 2026, not the
    deadline 1 Jan 2027)."""
    return end - timedelta(days=1)


def program_years_overlapping(*, opens_on: date, deadline: date, exclude_pk: int | None = None):
    """Program years whose [opens_on, deadline) shares a day with the given one (the one overlap rule)."""
    overlapping = ProgramYear.objects.filter(opens_on__lt=deadline, deadline__gt=opens_on)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    return overlapping.order_by("opens_on")


class ProgramYearQuerySet(models.QuerySet):
    def current(self, today: date) -> "ProgramYear | None":
        """The one "current program year": the latest to have opened by `today`.

        Between years (from a deadline to the next opening) that is the year that just ended, which
        awaits its review. Every page, selector and service that means "this year" asks this.
        """
        return self.filter(opens_on__lte=today).order_by("-opens_on").first()

    def containing(self, day: date) -> "ProgramYear | None":
        """The year whose [opens_on, deadline) holds `day`: the year a contribution dated `day` counts
        toward. None between years (years never overlap, see `ProgramYear.clean`)."""
        return self.filter(opens_on__lte=day, deadline__gt=day).order_by("-opens_on").first()


class ProgramYear(HistoryAttribution, models.Model):
    """The rules that holders of a year's certificate must meet to be certified for the next."""

    class ProratingMethod(models.TextChoices):
        MONTHLY = "monthly", _("Monthly (by qualification month)")
        DAILY = "daily", _("Daily (by qualification day)")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    target_points = models.PositiveIntegerField(_("target points"), default=400)
    prorating_method = models.CharField(
        _("pro-rating method"), max_length=16, choices=ProratingMethod.choices, default=ProratingMethod.MONTHLY
    )
    opens_on = models.DateField(_("opens on"))
    deadline = models.DateField(_("deadline"), help_text=_("The day the year's certificates expire."))
    grace_until = models.DateField(
        _("grace period until"), null=True, blank=True, help_text=_("Submissions stay open until this day.")
    )
    final_review_on = models.DateField(_("final review on"), null=True, blank=True)
    notification_on = models.DateField(_("notification on"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    audit_rate = models.PositiveSmallIntegerField(
        _("audit rate (%)"),
        default=0,
        help_text=_(
            "The share of verified contributions audited at random each week (0: no audits). Riskier claims "
            "are more likely to be chosen: see the program admin's guide."
        ),
    )
    history = HistoricalRecords()

    objects = ProgramYearQuerySet.as_manager()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("program year")
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("opens_on")),
                name="programyear_deadline_after_open",
                violation_error_message=_("The deadline must be after the day the program year opens."),
            ),
            models.CheckConstraint(
                condition=Q(deadline__lte=models.F("opens_on") + PROGRAM_YEAR_MAX_LENGTH),
                name="programyear_at_most_a_year_and_weeks",
                violation_error_message=_(
                    "A program year lasts at most a year and a few weeks: at most 400 days from opening to deadline."
                ),
            ),
            models.CheckConstraint(
                condition=Q(audit_rate__lte=100),
                name="programyear_audit_rate_percent",
                violation_error_message=_("The audit rate is a percentage: from 0 to 100."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)

    def clean(self) -> None:
        """Program years never overlap: a date belongs to one year (and its contributions to it)."""
        if self.opens_on and self.deadline and self.deadline > self.opens_on:
            other = program_years_overlapping(
                opens_on=self.opens_on, deadline=self.deadline, exclude_pk=self.pk
            ).first()
            if other is not None:
                raise ValidationError(
                    {
                        "opens_on": _(
                            "These dates overlap program year %(year)s (%(opens)s to %(deadline)s): "
                            "a year opens on or after the previous year's deadline."
                        )
                        % {
                            "year": other.year,
                            "opens": date_format(other.opens_on),
                            "deadline": date_format(other.deadline),
                        }
                    }
                )

    @property
    def last_day(self) -> date:
        """The year's last day, the last its certificates are valid: the day before the deadline."""
        return last_day_before(self.deadline)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def has_opened(self, today: date) -> bool:
        """The year has begun (its opening day included): before it, nothing of it can be reported or
        reviewed yet."""
        return today >= self.opens_on

    def takes_submissions(self, today: date) -> bool:
        """The one "submissions are open" rule: before the deadline (exclusive), or through the grace
        period an admin opened (inclusive). A year that has not opened yet is not closed either.

        `takes_submissions_q` is the same rule for a query; the two are tested against each other.
        """
        return today < self.deadline or (self.grace_until is not None and today <= self.grace_until)

    @staticmethod
    def takes_submissions_q(*, today: date, prefix: str = "") -> Q:
        """`takes_submissions` as a filter on program years (or, with `prefix="program_year__"`, on their rows)."""
        return Q(**{f"{prefix}deadline__gt": today}) | Q(**{f"{prefix}grace_until__gte": today})


# One claim of 20 items, hours or sessions is already a lot; a type may allow more (a bootcamp).
DEFAULT_MAX_QUANTITY_PER_CLAIM = Decimal(20)
# The names PostgreSQL gives its refusals of a type whose claims are whole (`ActivityType.takes_fractions`):
# a fractional maximum per claim (a check), and a change of unit while claims of the type count part
# of an hour (migration 0026's trigger).
WHOLE_MAXIMUM_CONSTRAINT = "activitytype_max_quantity_whole"
UNIT_CHANGE_CONSTRAINT = "activitytype_unit_whole_claims"


class ActivityUnit(models.TextChoices):
    """What one claim of an activity type counts (`ActivityType.Unit`)."""

    ITEM = "item", _("per item")
    HOUR = "hour", _("per hour")
    SESSION = "session", _("per session")


# The units a claim may split: an hour and a half of mentoring is work done; half a customer story
# or half a workshop session is not. Every layer asks `ActivityType.takes_fractions`; the type's
# check `activitytype_max_quantity_whole` reads this list, and the database's triggers (migrations
# 0024, `contribution_whole_units`, and 0026, `activitytype_unit_whole_claims`) hold copies of it,
# which tests compare with it.
FRACTIONAL_UNITS = frozenset({ActivityUnit.HOUR})


class ActivityType(HistoryAttribution, models.Model):
    """One line of a year's catalogue: what counts, how many points, how it is tracked."""

    class Category(models.TextChoices):
        LANDSCAPE = "landscape", _("Develop a customer's connected planning landscape")
        TALENT = "talent", _("Directly enable emerging talent")
        BRAND = "brand", _("Amplify the brand")
        ENABLEMENT = "enablement", _("Contribute to the documented enablement record")

    Unit = ActivityUnit

    class Tracking(models.TextChoices):
        MANUAL = "manual", _("Submitted by the member")
        ENGAGEMENT = "engagement", _("Earned through an opportunity sign-up")
        COMMUNITY = "community", _("Counted from community activity")
        # The one hidden type per year under which members report a technical requirement they
        # met: the report travels the contribution queue, earns no points, is not in the catalogue.
        REQUIREMENT = "requirement", _("A reported technical requirement (no points)")

    program_year = models.ForeignKey(ProgramYear, on_delete=models.PROTECT, related_name="activity_types")
    code = models.SlugField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    description = models.TextField(_("what counts and what evidence"), blank=True)
    points = models.PositiveIntegerField(_("points"))
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.ITEM)
    annual_cap = models.PositiveIntegerField(_("annual cap per member"), null=True, blank=True)
    max_quantity_per_claim = models.DecimalField(
        _("maximum quantity per claim"),
        max_digits=8,
        decimal_places=2,
        default=DEFAULT_MAX_QUANTITY_PER_CLAIM,
        db_default=DEFAULT_MAX_QUANTITY_PER_CLAIM,
        help_text=_(
            "The most items, hours or sessions one contribution may claim (a whole number, but for hours); "
            "longer work is split by date."
        ),
    )
    evidence_required = models.BooleanField(_("evidence required"), default=True)
    tracking = models.CharField(_("tracking"), max_length=16, choices=Tracking.choices, default=Tracking.MANUAL)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["program_year", "category", "name"]
        verbose_name = _("activity type")
        constraints = [
            models.UniqueConstraint(
                fields=["program_year", "code"],
                name="activitytype_code_unique_per_year",
                violation_error_message=_("This program year already has an activity type with this code."),
            ),
            models.CheckConstraint(
                condition=Q(max_quantity_per_claim__gt=0),
                name="activitytype_max_quantity_positive",
                violation_error_message=_("The maximum quantity per claim must be more than zero."),
            ),
            # `clean` says the same beside the field, with the unit.
            models.CheckConstraint(
                condition=Q(unit__in=sorted(FRACTIONAL_UNITS))
                | Q(max_quantity_per_claim=Floor("max_quantity_per_claim")),
                name=WHOLE_MAXIMUM_CONSTRAINT,
                violation_error_message=_(
                    "A type whose claims count whole units takes a whole maximum quantity per claim."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program_year})"

    def clean(self) -> None:
        """A type whose claims are whole (`takes_fractions`) has a whole maximum per claim: "at most 2.5
        items per claim" would name a claim no member may make. PostgreSQL's check
        (`WHOLE_MAXIMUM_CONSTRAINT`) refuses it too, for rows written past this."""
        limit = self.max_quantity_per_claim
        if self.takes_fractions or not isinstance(limit, Decimal) or limit == limit.to_integral_value():
            return
        raise ValidationError(
            {
                "max_quantity_per_claim": _(
                    "A type counted %(unit)s is claimed in whole numbers, so its maximum per claim must be a "
                    "whole number too, not %(limit)s."
                )
                % {"unit": self.get_unit_display(), "limit": f"{limit.normalize():f}"}
            }
        )

    @property
    def is_manual(self) -> bool:
        """Submitted by the member (the catalogue's "evidence required" applies to these)."""
        return self.tracking == self.Tracking.MANUAL

    @property
    def takes_fractions(self) -> bool:
        """Whether a claim may count part of one unit (`FRACTIONAL_UNITS`)."""
        return self.unit in FRACTIONAL_UNITS


class TechnicalRequirement(HistoryAttribution, models.Model):
    """A credential to hold or a mandatory training to complete, by its own due date."""

    class Kind(models.TextChoices):
        CREDENTIAL = "credential", _("Credential")
        TRAINING = "training", _("Mandatory training")

    program_year = models.ForeignKey(ProgramYear, on_delete=models.CASCADE, related_name="requirements")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    code = models.SlugField(
        _("code"),
        max_length=64,
        blank=True,
        help_text=_("A short name for imports and exports, e.g. csa-2027; unique within the year."),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_on = models.DateField(_("due on"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["program_year", "due_on", "name"]
        verbose_name = _("technical requirement")
        constraints = [
            models.UniqueConstraint(
                fields=["program_year", "name"],
                name="requirement_name_unique_per_year",
                violation_error_message=_("This program year already has a requirement with this name."),
            ),
            models.UniqueConstraint(
                fields=["program_year", "code"],
                condition=~Q(code=""),
                name="requirement_code_unique_per_year",
                violation_error_message=_("This program year already has a requirement with this code."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program_year})"

    @property
    def is_training(self) -> bool:
        return self.kind == self.Kind.TRAINING
