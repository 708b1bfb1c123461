from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contributions.models import DESCRIPTION_MAX_LENGTH, ActivityType, text_within
from mahome.history import HistoryAttribution

# Paths under /engagements/ that are pages of their own, so no opportunity may take them as slug.
RESERVED_SLUGS = frozenset({"mine", "signups", "suggestions", "new"})


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("“%(slug)s” is a reserved address; choose another slug."), params={"slug": value})


class Opportunity(HistoryAttribution, models.Model):
    """Something members can sign up for: a blog post, a speaking slot, a training, an ongoing programme."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    class Category(models.TextChoices):
        BLOG = "blog", _("Community blog post")
        SPEAKING = "speaking", _("Public speaking")
        TRAINING = "training", _("Training and enablement")
        MENTORING = "mentoring", _("Mentoring")
        COMMUNITY = "community", _("Community programme")
        OTHER = "other", _("Other")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, validators=[validate_slug_not_reserved])
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    activity_type = models.ForeignKey(
        ActivityType,
        on_delete=models.PROTECT,
        related_name="opportunities",
        limit_choices_to={"tracking": ActivityType.Tracking.ENGAGEMENT},
        verbose_name=_("activity type credited"),
    )
    points = models.PositiveIntegerField(
        _("points"), null=True, blank=True, help_text=_("Leave empty to credit the activity type's points.")
    )
    summary = models.CharField(_("summary"), max_length=300, help_text=_("One sentence shown in the list."))
    description = models.TextField(_("what it is"))
    participation = models.TextField(_("what participation entails"))
    crediting = models.TextField(_("how it is tracked and credited"))
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True, help_text=_("Empty for ongoing."))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True, help_text=_("Empty when virtual."))
    capacity = models.PositiveIntegerField(
        _("slots"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1, _("The number of slots must be at least 1; leave it empty for unlimited."))],
        help_text=_("Number of slots; empty for unlimited."),
    )
    signup_opens_at = models.DateTimeField(_("sign-up opens"), null=True, blank=True)
    signup_closes_at = models.DateTimeField(_("sign-up closes"), null=True, blank=True)
    waitlist_enabled = models.BooleanField(_("waitlist"), default=True)
    offer_hours = models.PositiveSmallIntegerField(
        _("offer held for (hours)"), default=48, help_text=_("How long a freed slot is held for the next in line.")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    cancellation_reason = models.TextField(_("reason for cancelling"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = [models.F("starts_at").asc(nulls_last=True), "title"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [models.Index(fields=["state", "starts_at"], name="opportunity_state_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0),
                name="opportunity_capacity_positive",
                violation_error_message=_("The number of slots must be at least 1; leave it empty for unlimited."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=False, ends_at__gte=models.F("starts_at")),
                name="opportunity_ends_after_start",
                violation_error_message=_("An opportunity must end after it starts, and needs a start to have an end."),
            ),
            models.CheckConstraint(
                condition=Q(signup_opens_at__isnull=True)
                | Q(signup_closes_at__isnull=True)
                | Q(signup_closes_at__gt=models.F("signup_opens_at")),
                name="opportunity_window_ordered",
                violation_error_message=_("Sign-up must close after it opens."),
            ),
            models.CheckConstraint(
                condition=Q(offer_hours__gt=0),
                name="opportunity_offer_hours_positive",
                violation_error_message=_("A freed slot must be held for at least one hour."),
            ),
            models.CheckConstraint(
                condition=~Q(state="cancelled") | ~Q(cancellation_reason=""),
                name="opportunity_cancellation_has_reason",
                violation_error_message=_("A cancelled opportunity needs a reason for the members signed up."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("engagements:opportunity_detail", kwargs={"slug": self.slug})

    @property
    def credited_points(self) -> int:
        return self.points if self.points is not None else self.activity_type.points

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED

    @property
    def is_cancelled(self) -> bool:
        return self.state == self.State.CANCELLED

    @property
    def is_ongoing(self) -> bool:
        return self.starts_at is None

    @property
    def is_unlimited(self) -> bool:
        return self.capacity is None


class Slot(models.Model):
    """One of a limited opportunity's places: as many rows as its capacity, kept so by PostgreSQL.

    A sign-up holding a slot (SignUp.SLOT_STATES) points at a slot of its own; `taken` says so, for the
    query that finds a free one. Sign-ups for the same opportunity each take a different slot row (`FOR
    UPDATE SKIP LOCKED`), so they do not wait for one another's commit, where one lock on the opportunity
    made them queue. PostgreSQL does all of it, on every path that writes (migration 0005's triggers):
    the capacity's slots on saving an opportunity, a free slot for a sign-up entering a slot-holding
    state (refused when none is left), and giving it back when the sign-up leaves that state. An
    unlimited opportunity has no slots. On SQLite (the laptop's run) there are no slots: one writer at a
    time, the held sign-ups are counted instead.
    """

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="slots")
    taken = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        indexes = [models.Index(fields=["opportunity", "id"], name="slot_free", condition=Q(taken=False))]
        # What a sign-up's (slot, opportunity) refers to (migration 0005): its slot is its opportunity's.
        constraints = [
            models.UniqueConstraint(
                fields=["id", "opportunity"],
                name="slot_of_opportunity",
                violation_error_message=_("This slot belongs to another opportunity."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.opportunity} — slot {self.pk}"


class SignUp(HistoryAttribution, models.Model):
    """One member's place (or place in line) for one opportunity.

    Waitlist positions are not stored: a member's position is 1 + the number of waitlisted
    sign-ups of the same opportunity created before theirs (the primary key is assigned as the
    sign-up is written, once it is known that no slot is free: the order requests were served). Positions are
    therefore always 1..N with no gaps, whatever leaves the line.
    """

    class State(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("Waitlisted")
        OFFERED = "offered", _("Slot offered")
        SCHEDULED = "scheduled", _("Scheduled")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CANCELLED = "cancelled", _("Cancelled")

    class EndReason(models.TextChoices):
        NONE = "", _("—")
        MEMBER = "member", _("Withdrawn by the member")
        STAFF = "staff", _("Withdrawn by staff")
        OFFER_DECLINED = "offer_declined", _("Offer declined")
        OFFER_EXPIRED = "offer_expired", _("Offer expired")
        OPPORTUNITY_CANCELLED = "opportunity_cancelled", _("Opportunity cancelled")

    LIVE_STATES = (State.CONFIRMED, State.WAITLISTED, State.OFFERED, State.SCHEDULED)
    # States that hold one of the opportunity's slots. A completed sign-up used its slot.
    SLOT_STATES = (State.CONFIRMED, State.OFFERED, State.SCHEDULED, State.COMPLETED)

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="signups")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="engagement_signups")
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("offer expires at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=32, choices=EndReason.choices, blank=True)
    end_note = models.TextField(
        _("reason given"),
        blank=True,
        help_text=_("Staff's reason for withdrawing the sign-up, as the member was told."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Written by PostgreSQL alone (see Slot): whatever the ORM sends here is replaced by the triggers.
    slot = models.OneToOneField(
        Slot, null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="signup"
    )
    history = HistoricalRecords(excluded_fields=["slot"])

    class Meta:
        ordering = ["opportunity", "pk"]
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        indexes = [
            models.Index(fields=["opportunity", "state"], name="signup_opportunity_state"),
            models.Index(fields=["offer_expires_at"], name="signup_offer_expiry", condition=Q(state="offered")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "member"],
                condition=Q(state__in=["confirmed", "waitlisted", "offered", "scheduled"]),
                name="signup_one_live_per_member",
                violation_error_message=_("This member is already signed up for this opportunity."),
            ),
            models.CheckConstraint(
                condition=~Q(state="offered") | Q(offer_expires_at__isnull=False),
                name="signup_offer_has_expiry",
                violation_error_message=_("An offered slot needs the time the offer expires."),
            ),
            models.CheckConstraint(
                condition=~Q(state="scheduled") | Q(scheduled_for__isnull=False),
                name="signup_scheduled_has_date",
                violation_error_message=_("A scheduled sign-up needs its date."),
            ),
            models.CheckConstraint(
                condition=~Q(end_reason="staff") | ~Q(end_note=""),
                name="signup_staff_withdrawal_has_reason",
                violation_error_message=_("A withdrawal by staff needs a reason for the member."),
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=True) | Q(state__in=["confirmed", "offered", "scheduled", "completed"]),
                name="signup_slot_only_when_holding",
                violation_error_message=_("Only a sign-up holding a slot can have one."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.opportunity}"

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE_STATES

    # The states as the pages ask them (templates name no state; issue 15, finding 7).
    @property
    def is_confirmed(self) -> bool:
        return self.state == self.State.CONFIRMED

    @property
    def is_waitlisted(self) -> bool:
        return self.state == self.State.WAITLISTED

    @property
    def is_offered(self) -> bool:
        return self.state == self.State.OFFERED

    @property
    def is_scheduled(self) -> bool:
        return self.state == self.State.SCHEDULED

    @property
    def is_completed(self) -> bool:
        return self.state == self.State.COMPLETED

    @property
    def ended_because(self) -> str:
        """Why it ended, in the words the member was told: staff's note, or the reason the opportunity was
        cancelled (kept on the opportunity; the cancellation notice said it). Reads `opportunity`."""
        if self.end_note:
            return self.end_note
        if self.end_reason == self.EndReason.OPPORTUNITY_CANCELLED:
            return self.opportunity.cancellation_reason
        return ""


class Suggestion(HistoryAttribution, models.Model):
    """A member's proposal for a new engagement activity, and staff's decision on it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Under review")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="engagement_suggestions"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what the activity is"), max_length=DESCRIPTION_MAX_LENGTH)
    proposed_category = models.CharField(_("proposed category"), max_length=16, choices=ActivityType.Category.choices)
    why_it_matters = models.TextField(_("why it matters"), max_length=DESCRIPTION_MAX_LENGTH)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    decision_reason = models.TextField(_("reason / note to the member"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    points = models.PositiveIntegerField(_("points decided"), null=True, blank=True)
    created_activity_type = models.ForeignKey(
        ActivityType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_opportunity = models.ForeignKey(
        Opportunity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("suggested at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("suggestion")
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="declined") | ~Q(decision_reason=""),
                name="suggestion_decline_has_reason",
                violation_error_message=_("A declined suggestion needs a reason for the member."),
            ),
            models.CheckConstraint(
                condition=text_within("description", DESCRIPTION_MAX_LENGTH),
                name="suggestion_description_length",
                violation_error_message=_("A description can be at most 5,000 characters."),
            ),
            models.CheckConstraint(
                condition=text_within("why_it_matters", DESCRIPTION_MAX_LENGTH),
                name="suggestion_why_length",
                violation_error_message=_("“Why it matters” can be at most 5,000 characters."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING

    @property
    def is_accepted(self) -> bool:
        return self.state == self.State.ACCEPTED
