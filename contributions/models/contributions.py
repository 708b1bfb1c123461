"""What members claim: a contribution (with its evidence and its limits) and its message thread."""

import secrets
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contributions.models.years import ActivityType, ProgramYear
from mahome.history import HistoryAttribution

# Free text a member writes: the form, the model and the database (a CHECK) hold the same limit.
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 5000
# Extensions the server itself gives a stored evidence file, from its sniffed content type
# (contributions.evidence.KINDS); whatever the client called the file never reaches the disk.
# The name PostgreSQL's trigger gives its refusal of part of an item or a session (migration 0024;
# the rule is `ActivityType.takes_fractions`).
WHOLE_UNITS_CONSTRAINT = "contribution_whole_units"
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
            # A year's queue size (the year report) counted from the index alone, not the table's rows.
            models.Index(fields=["program_year", "state"], name="contribution_year_state"),
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
    def is_requirement_report(self) -> bool:
        """A member's report of a technical requirement: it earns no points (a constraint says so), so the
        pages that decide or correct it and the member's notices name none."""
        return self.requirement_id is not None

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
