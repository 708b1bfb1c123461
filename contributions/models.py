from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ProgramYear(models.Model):
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
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("program year")
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("opens_on")), name="programyear_deadline_after_open"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ActivityType(models.Model):
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

    program_year = models.ForeignKey(ProgramYear, on_delete=models.PROTECT, related_name="activity_types")
    code = models.SlugField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    description = models.TextField(_("what counts and what evidence"), blank=True)
    points = models.PositiveIntegerField(_("points"))
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.ITEM)
    annual_cap = models.PositiveIntegerField(_("annual cap per member"), null=True, blank=True)
    evidence_required = models.BooleanField(_("evidence required"), default=True)
    tracking = models.CharField(_("tracking"), max_length=16, choices=Tracking.choices, default=Tracking.MANUAL)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["program_year", "category", "name"]
        verbose_name = _("activity type")
        constraints = [
            models.UniqueConstraint(fields=["program_year", "code"], name="activitytype_code_unique_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program_year})"


class Contribution(models.Model):
    """Something a member did that earns points in a program year."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        NEEDS_INFO = "needs_info", _("Needs more information")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Submitted by the member")
        ENGAGEMENT = "engagement", _("Opportunity completed")
        COMMUNITY = "community", _("Community activity")

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contributions")
    program_year = models.ForeignKey(ProgramYear, on_delete=models.PROTECT, related_name="contributions")
    activity_type = models.ForeignKey(ActivityType, on_delete=models.PROTECT, related_name="contributions")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    occurred_on = models.DateField(_("date"))
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2, default=1)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_file = models.FileField(_("evidence file"), upload_to="evidence/%Y/%m/", blank=True)
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
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = _("contribution")
        indexes = [
            models.Index(fields=["member", "program_year", "state"], name="contribution_member_year"),
            models.Index(fields=["state", "submitted_at"], name="contribution_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"], condition=~Q(source_key=""), name="contribution_source_key_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="contribution_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def counted_points(self) -> int:
        """Points toward the target before caps: awarded when verified, else nothing."""
        if self.state == self.State.VERIFIED:
            return self.awarded_points if self.awarded_points is not None else self.claimed_points
        return 0
