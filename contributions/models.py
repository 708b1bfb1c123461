import secrets
from datetime import date, timedelta
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from mahome.history import HistoryAttribution

# "A year and a few weeks": the longest a program year may run from opening to deadline.
PROGRAM_YEAR_MAX_LENGTH = timedelta(days=400)


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
    def is_published(self) -> bool:
        return self.published_at is not None

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


class ActivityType(HistoryAttribution, models.Model):
    """One line of a year's catalogue: what counts, how many points, how it is tracked."""

    class Category(models.TextChoices):
        LANDSCAPE = "landscape", _("Develop a customer's connected planning landscape")
        TALENT = "talent", _("Directly enable emerging talent")
        BRAND = "brand", _("Amplify the brand")
        ENABLEMENT = "enablement", _("Contribute to the documented enablement record")

    class Unit(models.TextChoices):
        ITEM = "item", _("per item")
        HOUR = "hour", _("per hour")
        SESSION = "session", _("per session")

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
        help_text=_("The most items, hours or sessions one contribution may claim; longer work is split by date."),
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
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program_year})"

    @property
    def is_manual(self) -> bool:
        """Submitted by the member (the catalogue's "evidence required" applies to these)."""
        return self.tracking == self.Tracking.MANUAL


# Free text a member writes: the form, the model and the database (a CHECK) hold the same limit.
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 5000
# Extensions the server itself gives a stored evidence file, from its sniffed content type
# (contributions.evidence.KINDS); whatever the client called the file never reaches the disk.
STORED_EVIDENCE_SUFFIXES = (".pdf", ".png", ".jpg", ".gif", ".webp", ".docx", ".xlsx", ".pptx")


def text_within(field: str, limit: int) -> LessThanOrEqual:
    """The database's side of a text limit: CHAR_LENGTH(field) <= limit."""
    return LessThanOrEqual(Length(field), limit)


def evidence_upload_to(instance: "Contribution", filename: str) -> str:
    """A random name under a private folder: nobody can guess another member's file.

    The services rename an upload after the type sniffed from its content before saving it;
    a suffix the server did not choose is dropped here too, so no client-chosen `.html` is stored.
    """
    suffix = PurePath(filename).suffix.lower()
    return f"evidence/{secrets.token_urlsafe(24)}{suffix if suffix in STORED_EVIDENCE_SUFFIXES else ''}"


class Contribution(HistoryAttribution, models.Model):
    """Something a member did that earns points in a program year."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        NEEDS_INFO = "needs_info", _("Needs more information")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # Waiting on a verifier (submitted) or on the member's answer to one (needs info): "pending".
    PENDING_STATES = (State.SUBMITTED, State.NEEDS_INFO)
    # Not yet decided (a draft or pending): the member may still withdraw it; a requirement report is open.
    OPEN_STATES = (State.DRAFT, *PENDING_STATES)
    DECIDED_STATES = (State.VERIFIED, State.REJECTED)

    class Source(models.TextChoices):
        MANUAL = "manual", _("Submitted by the member")
        ENGAGEMENT = "engagement", _("Opportunity completed")
        COMMUNITY = "community", _("Community activity")

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contributions")
    program_year = models.ForeignKey(ProgramYear, on_delete=models.PROTECT, related_name="contributions")
    activity_type = models.ForeignKey(ActivityType, on_delete=models.PROTECT, related_name="contributions")
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    occurred_on = models.DateField(_("date"))
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2, default=1)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_file = models.FileField(_("evidence file"), upload_to=evidence_upload_to, blank=True)
    evidence_name = models.CharField(
        _("evidence file name"),
        max_length=255,
        blank=True,
        default="",
        db_default="",  # set-based inserts (the community sync) name their columns and leave this out
        help_text=_("The name the member's file had, shown to people; never used to store or serve it."),
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    claimed_points = models.PositiveIntegerField(_("claimed points"), default=0)
    awarded_points = models.PositiveIntegerField(_("awarded points"), null=True, blank=True)
    decision_note = models.TextField(_("note from the verifier"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    # Identifies an auto-tracked contribution ("signup:42", "community:2021:replies:7") so it
    # is credited exactly once, whatever retries or concurrent jobs do.
    source_key = models.CharField(max_length=200, blank=True)
    requirement = models.ForeignKey(
        "TechnicalRequirement",
        verbose_name=_("technical requirement reported"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        help_text=_("Set when the member reports a training or credential; verifying it records the requirement."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = _("contribution")
        permissions = [
            (
                "override_award_bounds",
                _("Award more points than the type allows for the quantity or its annual cap (with a reason)"),
            ),
        ]
        indexes = [
            models.Index(fields=["member", "program_year", "state"], name="contribution_member_year"),
            models.Index(fields=["state", "submitted_at"], name="contribution_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~Q(source_key=""),
                name="contribution_source_key_unique",
                violation_error_message=_("This activity has already been credited."),
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="contribution_quantity_positive",
                violation_error_message=_("The quantity must be more than zero."),
            ),
            models.CheckConstraint(
                condition=text_within("description", DESCRIPTION_MAX_LENGTH),
                name="contribution_description_length",
                violation_error_message=_("A description can be at most 5,000 characters."),
            ),
            models.CheckConstraint(
                condition=Q(requirement__isnull=True) | Q(claimed_points=0),
                name="contribution_requirement_report_no_points",
                violation_error_message=_("A reported technical requirement earns no points."),
            ),
            models.UniqueConstraint(
                fields=["member", "requirement"],
                condition=Q(requirement__isnull=False, state__in=["draft", "submitted", "needs_info"]),
                name="contribution_one_open_requirement_report",
                violation_error_message=_("You already reported this requirement; it is waiting for the program team."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # The states as the pages ask them (templates name no state; issue 15, finding 7).
    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def is_submitted(self) -> bool:
        return self.state == self.State.SUBMITTED

    @property
    def is_needs_info(self) -> bool:
        return self.state == self.State.NEEDS_INFO

    @property
    def is_verified(self) -> bool:
        return self.state == self.State.VERIFIED

    @property
    def is_rejected(self) -> bool:
        return self.state == self.State.REJECTED

    @property
    def is_pending(self) -> bool:
        """Waiting on a verifier or on the member's answer (`PENDING_STATES`)."""
        return self.state in self.PENDING_STATES

    @property
    def is_decided(self) -> bool:
        return self.state in self.DECIDED_STATES

    @property
    def counted_points(self) -> int:
        """Points toward the target before caps: awarded when verified, else nothing."""
        if self.is_verified:
            return self.awarded_points if self.awarded_points is not None else self.claimed_points
        return 0


class ContributionMessage(models.Model):
    """One message of the thread on a contribution: a verifier's question or the member's answer."""

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question from the verifier")
        ANSWER = "answer", _("Answer from the member")

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    body = models.TextField(_("message"), max_length=DESCRIPTION_MAX_LENGTH)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message about a contribution")
        constraints = [
            models.CheckConstraint(
                condition=~Q(body=""),
                name="contributionmessage_body_not_empty",
                violation_error_message=_("A message cannot be empty."),
            ),
            models.CheckConstraint(
                condition=text_within("body", DESCRIPTION_MAX_LENGTH),
                name="contributionmessage_body_length",
                violation_error_message=_("A message can be at most 5,000 characters."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.body[:60]}"

    @property
    def is_question(self) -> bool:
        return self.kind == self.Kind.QUESTION


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


def certificate_code() -> str:
    """The public verification code: 144 random bits, so codes cannot be guessed or enumerated."""
    return secrets.token_urlsafe(18)


def certificate_subject_salt() -> str:
    """The salt of the holder's hashed email in the Open Badges credential (one per certificate)."""
    return secrets.token_hex(16)


class Certificate(HistoryAttribution, models.Model):
    """A member's certificate for one certified period (a program year), never deleted.

    The period's first certificate is issued when the person is certified (provisioning or
    import) and each later one by the year-end review that renews them. Expiry is not stored: a
    certificate is expired once its `valid_until` day has come, so the status can never be stale.
    Staff may revoke one (with a reason) or re-issue it after a correction; the re-issued one
    keeps the number (it is the same period) and gets a new verification code, and the old one
    is kept, marked superseded.
    """

    class Source(models.TextChoices):
        QUALIFICATION = "qualification", _("Issued on qualification")
        RENEWAL = "renewal", _("Renewed by the year-end review")
        CARRIED_OVER = "carried_over", _("Certified period without a review in MA Home")
        REISSUE = "reissue", _("Re-issued after a correction")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    class Status(models.TextChoices):
        """What a reader is told: `State` combined with today's date."""

        VALID = "valid", _("Valid")
        NOT_YET_VALID = "not_yet_valid", _("Not yet valid")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Replaced")

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    program_year = models.ForeignKey(
        ProgramYear,
        on_delete=models.PROTECT,
        related_name="certificates",
        null=True,
        blank=True,
        help_text=_("The year whose review renewed the certificate (empty for other sources)."),
    )
    year = models.PositiveSmallIntegerField(_("certified for year"))
    number = models.CharField(_("number"), max_length=32)
    verification_code = models.CharField(_("verification code"), max_length=64, unique=True, default=certificate_code)
    source = models.CharField(_("issued by"), max_length=16, choices=Source.choices, default=Source.RENEWAL)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), help_text=_("The day it expires (the year's deadline)."))
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.ACTIVE)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason for revocation"), max_length=300, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(_("replaced at"), null=True, blank=True)
    superseded_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )
    correction = models.CharField(
        _("correction"), max_length=300, blank=True, help_text=_("Why this certificate replaced an earlier one.")
    )
    is_public = models.BooleanField(
        _("public"), default=True, help_text=_("The holder may hide the public page; a revocation always shows.")
    )
    subject_salt = models.CharField(max_length=32, default=certificate_subject_salt, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "-issued_at"]
        verbose_name = _("certificate")
        indexes = [models.Index(fields=["member", "year"], name="certificate_member_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "year"],
                condition=~Q(state="superseded"),
                name="certificate_one_live_per_member_year",
                violation_error_message=_("This member already has a certificate for that year."),
            ),
            models.UniqueConstraint(
                fields=["number"],
                condition=~Q(state="superseded"),
                name="certificate_number_unique_live",
                violation_error_message=_("Another certificate already has this number."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")),
                name="certificate_valid_until_after_from",
                violation_error_message=_("A certificate must expire after the day it becomes valid."),
            ),
            models.CheckConstraint(
                condition=~Q(state="revoked") | (Q(revoked_at__isnull=False) & ~Q(revoked_reason="")),
                name="certificate_revoked_has_reason",
                violation_error_message=_("A revoked certificate needs the date and the reason."),
            ),
            models.CheckConstraint(
                condition=~Q(state="superseded") | Q(superseded_at__isnull=False),
                name="certificate_superseded_has_date",
                violation_error_message=_("A replaced certificate needs the date it was replaced."),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def status_on(self, day: date) -> str:
        """Valid, not yet valid, expired, revoked or replaced on `day` (revocation wins over dates)."""
        if self.state == self.State.REVOKED or self.revoked_at is not None:
            return self.Status.REVOKED
        if self.state == self.State.SUPERSEDED:
            return self.Status.SUPERSEDED
        if day < self.valid_from:
            return self.Status.NOT_YET_VALID
        if day >= self.valid_until:
            return self.Status.EXPIRED
        return self.Status.VALID

    @property
    def expires_on(self) -> date:
        """The last day it is valid (`valid_until` is the first day it is not)."""
        return self.valid_until - timedelta(days=1)


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
        constraints = [models.UniqueConstraint(fields=["member", "program_year"], name="standing_totals_unique")]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.program_year_id}: {self.verified} + {self.pending}"
