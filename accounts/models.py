import re
import zoneinfo
from datetime import date
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.managers import UserManager
from mahome.history import HistoryAttribution

# Notification areas: a notification kind is "<area>.<event>" and members choose emails per area.
NOTIFICATION_AREAS = ("account", "maintenance", "engagement", "community")
# The invitation's notification: it creates the account, so it is emailed whatever the member's settings.
INVITATION_KIND = "account.invitation"

TIME_ZONE_CHOICES = [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class CompanyType(models.TextChoices):
    PARTNER = "partner", _("Partner")
    CUSTOMER = "customer", _("Customer")
    ANAPLAN = "anaplan", _("Anaplan")
    INDEPENDENT = "independent", _("Independent")


class InterestTopic(models.TextChoices):
    MODEL_BUILDING = "model-building", _("Model building and reviews")
    MENTORING = "mentoring", _("Mentoring new Master Anaplanners")
    SPEAKING = "speaking", _("Speaking at events and webinars")
    WRITING = "writing", _("Writing articles and guides")
    COMMUNITY = "community", _("Answering community questions")
    PRODUCT = "product", _("Product feedback and betas")
    EXAMS = "exams", _("Certification exams and assessments")


class ChangesOnlyHistoricalRecords(HistoricalRecords):
    """simple-history that keeps a version only when a tracked field changed.

    Django saves the user on every sign-in (`last_login`) and allauth on every password change;
    neither is a change of the profile, and an empty version would read "changed by you".
    """

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if (
            not created
            and not kwargs.get("raw", False)
            and not self.tracked_change(instance, using=using, update_fields=update_fields)
        ):
            return
        super().post_save(instance, created, using=using, **kwargs)

    def tracked_change(self, instance, *, using, update_fields) -> bool:
        if update_fields is not None and set(update_fields) <= set(self.excluded_fields):
            return False
        latest = getattr(instance, self.manager_name).using(using).order_by("-history_date", "-history_id").first()
        if latest is None:
            return True
        return any(
            getattr(latest, field.attname) != getattr(instance, field.attname)
            for field in self.fields_included(instance)
        )


def email_preference_field(kind: str) -> str | None:
    """The member's preference (`email_<area>`) that decides whether a notification of `kind`
    ("<area>.<event>") is emailed; None: always emailed (kinds outside the four areas, and the
    invitation, which creates the account). `User.wants_email` and the set-based insert ask this."""
    if kind == INVITATION_KIND:
        return None
    area = kind.split(".", 1)[0]
    return f"email_{area}" if area in NOTIFICATION_AREAS else None


class User(HistoryAttribution, AbstractUser):
    """A person who signs in: a certified MA, a verifier or a program admin.

    Signs in by email; there is no username.
    """

    # Django's way to drop AbstractUser's field; the stubs type it as always a str.
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    preferred_name = models.CharField(_("preferred name"), max_length=150, blank=True)
    # Work and contact information the member keeps current ("update your work and contact information").
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    company_type = models.CharField(_("company type"), max_length=16, choices=CompanyType.choices, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    phone = models.CharField(
        _("phone"),
        max_length=32,
        blank=True,
        validators=[
            RegexValidator(
                r"^\+?[0-9 ().-]{6,31}$",
                _("Enter a phone number with digits, spaces and an optional leading +, e.g. +44 20 7946 0000."),
            )
        ],
    )
    linkedin_url = models.URLField(_("LinkedIn profile"), max_length=300, blank=True)
    bio = models.TextField(_("short bio"), max_length=1000, blank=True)
    interests = models.JSONField(_("engagement interests"), default=list, blank=True)
    email_account = models.BooleanField(_("account and security emails"), default=True)
    email_maintenance = models.BooleanField(_("certification maintenance emails"), default=True)
    email_engagement = models.BooleanField(_("engagement opportunity emails"), default=True)
    email_community = models.BooleanField(_("community level emails"), default=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organization"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )

    history = ChangesOnlyHistoricalRecords(excluded_fields=["password", "last_login"])

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Email instead of username: Django lets a custom user replace the manager; the stubs pin
    # AbstractUser's to django.contrib.auth's UserManager (whose create_user takes a username).
    objects: ClassVar[UserManager["User"]] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]
        # The year report's pages (and the roster's default order) walk this index: a page of 100 MAs
        # reads ~100 entries, not every MA sorted (issue 16).
        indexes = [models.Index(fields=["last_name", "first_name", "email"], name="user_name_order_idx")]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("Another account already uses this email address."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("bio"), 1000),
                name="user_bio_length",
                violation_error_message=_("A short bio can be at most 1,000 characters."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def display_name(self) -> str:
        """What we call the member in the interface: preferred name, first name, or email."""
        return self.preferred_name or self.first_name or self.email.split("@")[0]

    def wants_email(self, kind: str) -> bool:
        """Whether the member wants an email for a notification of `kind` ("<area>.<event>").

        Kinds outside the four areas (and the invitation, which creates the account) are always sent.
        """
        field = email_preference_field(kind)
        return True if field is None else bool(getattr(self, field))

    def get_interests_display(self) -> list[str]:
        labels = dict(InterestTopic.choices)
        return [str(labels[i]) for i in self.interests if i in labels]


class Organization(models.Model):
    """An employer whose people may sign in through their own identity provider.

    Its policy decides whether members with one of its email domains may also use a
    local password (set through the normal reset flow) or must use single sign-on.
    """

    class FallbackPolicy(models.TextChoices):
        FALLBACK_ALLOWED = "fallback_allowed", _("Fallback allowed: members may also set a local password")
        SSO_REQUIRED = "sso_required", _("SSO required: no local password")

    name = models.CharField(_("name"), max_length=200, unique=True)
    fallback_policy = models.CharField(
        _("fallback policy"), max_length=20, choices=FallbackPolicy.choices, default=FallbackPolicy.FALLBACK_ALLOWED
    )
    contact_name = models.CharField(
        _("contact name"), max_length=200, blank=True, help_text=_("Who members call when single sign-on fails.")
    )
    contact_email = models.EmailField(_("contact email"), blank=True)

    class Meta:
        verbose_name = _("organization")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(fallback_policy="sso_required") | ~models.Q(contact_name=""),
                name="organization_sso_required_has_contact",
                violation_error_message=_("An organization that requires SSO must name a contact."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def allows_password(self) -> bool:
        """The one "a password is allowed here" rule; `password_allowed` adds members with no organization."""
        return self.fallback_policy != self.FallbackPolicy.SSO_REQUIRED

    @property
    def sso_required(self) -> bool:
        return not self.allows_password


def password_allowed(organization: Organization | None) -> bool:
    """May a member of `organization` (None: a personal address) sign in with a local password?

    The sign-in page, the sign-in form, the reset page and mail, the invitation and the demo ask this.
    """
    return organization is None or organization.allows_password


class OrganizationDomain(models.Model):
    """An email domain (e.g. "example.com") whose addresses belong to the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(
        _("email domain"),
        max_length=253,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
                _("Enter a lowercase domain such as example.com, without @."),
            )
        ],
    )

    class Meta:
        verbose_name = _("email domain")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class SSOConnection(models.Model):
    """One identity provider of an organization; kept in sync with an allauth SocialApp."""

    class Kind(models.TextChoices):
        SAML = "saml", _("SAML 2.0")
        OIDC = "openid_connect", _("OpenID Connect")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sso_connections")
    kind = models.CharField(_("protocol"), max_length=20, choices=Kind.choices)
    slug = models.SlugField(
        _("slug"),
        max_length=60,
        unique=True,
        help_text=_(
            "Used in the sign-in URLs, e.g. /accounts/saml/acme/acs/ and /accounts/oidc/acme/login/ for the slug acme."
        ),
    )
    button_label = models.CharField(
        _("button label"),
        max_length=40,
        blank=True,
        help_text=_('Defaults to "Sign in with" and the organization\'s name.'),
    )
    # OpenID Connect
    server_url = models.URLField(_("OIDC issuer URL"), blank=True)
    client_id = models.CharField(_("OIDC client ID"), max_length=191, blank=True)
    client_secret = models.CharField(_("OIDC client secret"), max_length=191, blank=True)
    # SAML 2.0
    idp_entity_id = models.CharField(_("SAML IdP entity ID"), max_length=200, blank=True)
    idp_metadata_url = models.URLField(_("SAML IdP metadata URL"), blank=True)
    saml_attribute_mapping = models.JSONField(
        _("SAML attribute mapping"),
        default=dict,
        blank=True,
        help_text=_(
            'Maps allauth fields to the IdP\'s attribute names, e.g. {"email": "email", "first_name": "firstName"}. '
            "Empty: the standard URN/OID names."
        ),
    )
    social_app = models.OneToOneField(
        "socialaccount.SocialApp", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        verbose_name = _("SSO connection")
        ordering = ["organization__name", "slug"]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_kind_display()})"

    @property
    def label(self) -> str:
        return self.button_label or _("Sign in with %(organization)s") % {"organization": self.organization.name}

    @property
    def provider_id(self) -> str:
        """What allauth stores in SocialAccount.provider for logins through this connection."""
        return self.idp_entity_id if self.kind == self.Kind.SAML else self.slug


class Notification(models.Model):
    """One message to a member: always shown in the app, optionally emailed.

    The email state is an outbox: a Celery task sends it after the transaction commits,
    and a beat sweep resends whatever stayed `pending` (broker down, worker lost).
    """

    class EmailState(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not emailed")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # The email's own text and link where they are not the app's (empty: the email says what the app
    # says). The app's copy is read signed in: an invitation's set-password link, which signing in
    # ends, and the paragraph about it belong to the email only. Set-based inserts leave them out.
    email_body = models.TextField(_("email body"), blank=True, default="", db_default="")
    email_url = models.CharField(_("email link"), max_length=500, blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_state = models.CharField(_("email"), max_length=16, choices=EmailState.choices, default=EmailState.SKIPPED)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Set when the same message must never be sent twice (e.g. "reminder-2021-60d").
    dedupe_key = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_unread"),
            models.Index(
                fields=["created_at"],
                name="notification_email_pending",
                condition=models.Q(email_state="pending"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_once_per_key",
                violation_error_message=_("This member has already been sent this message."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


# The numbers MA Home gives certificates (`contributions.Certificate.number`): MA-<certified year>-<the
# member's number, six digits or more>. They are derived from member numbers, so the form is reserved:
# a certification's own number (typed at provisioning or import) never has it, whatever its case, and
# a number names one person. PostgreSQL holds both sides (a check constraint on each table).
ISSUED_CERTIFICATE_NUMBER_REGEX = r"^MA-[0-9]{4}-[0-9]{6,}$"
ISSUED_CERTIFICATE_NUMBER_FORM = "MA-<year>-<member number, six digits>"
MAX_MEMBER_ID = 2**63 - 1  # the largest primary key PostgreSQL's bigint holds

# The earliest qualification date MA Home accepts. The seeds attest certified Master Anaplanners by
# 2019 (MA Home's beta, December 2019) without dating the first certification; the program dates
# from the mid-2010s, so 1 January 2015 is before any real certification and still catches a date
# typed with the wrong century or decade (1900, 2002 for 2022).
FIRST_QUALIFICATION_DAY = date(2015, 1, 1)


def issued_certificate_number(*, year: int, member_id: int) -> str:
    """The number of a member's certificate for a certified year (see ISSUED_CERTIFICATE_NUMBER_REGEX)."""
    return f"MA-{year}-{member_id:06d}"


def is_issued_certificate_number(number: str) -> bool:
    """Whether `number` (stripped, in any case) has the form of the certificate numbers MA Home issues."""
    return re.fullmatch(ISSUED_CERTIFICATE_NUMBER_REGEX[1:-1], (number or "").strip(), flags=re.IGNORECASE) is not None


def issued_certificate_number_member_id(number: str) -> int | None:
    """The member whose certificates a number in the issued form names (None for any other number, or
    for a member number no member can have)."""
    if not is_issued_certificate_number(number):
        return None
    member_id = int((number or "").strip().rsplit("-", 1)[1])
    return member_id if member_id <= MAX_MEMBER_ID else None


class MACertification(HistoryAttribution, models.Model):
    """A person's certification as a Master Anaplanner: when they qualified and their number.

    The qualification date decides the pro-rated target of their first program year. The number is
    the certification record's own (typed at provisioning or import, shown as the *legacy number*);
    it never has the form of the certificate numbers MA Home issues.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="certification")
    certificate_number = models.CharField(_("certificate number"), max_length=64, unique=True)
    qualified_on = models.DateField(_("qualified on"))
    created_at = models.DateTimeField(auto_now_add=True)
    # Who provisioned, imported or corrected it, and when (the staff member's request, through
    # simple-history's middleware): the date sets the member's pro-rated target.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("MA certification")
        ordering = ["-qualified_on"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(certificate_number__iregex=ISSUED_CERTIFICATE_NUMBER_REGEX),
                name="certification_number_not_a_certificate_number",
                violation_error_message=_(
                    "Numbers of the form MA-<year>-<member number, six digits> are the certificate numbers MA "
                    "Home issues; enter the number of the certification record."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_number} ({self.user})"


class Invitation(models.Model):
    """One invitation sent to a member: when, by whom (empty: MA Home at provisioning), until when its link works.

    Kept for every send, so the roster can say sent / accepted / expired and who resent it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
        help_text=_("Empty when MA Home sent it on provisioning."),
    )
    valid_until = models.DateTimeField(
        _("link valid until"),
        null=True,
        blank=True,
        help_text=_("Empty when the invitation is a sign-in by single sign-on, which does not expire."),
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("invitation")
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["user", "-sent_at"], name="invitation_user_latest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=models.F("sent_at")),
                name="invitation_expires_after_sent",
                violation_error_message=_("A link cannot expire before it was sent."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.sent_at:%Y-%m-%d})"


class SegmentMessage(models.Model):
    """A message a program admin sent to a segment of members (the filtered roster or report): kept
    with its author, the segment in words and every recipient, never edited or deleted."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"))
    author = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by"), null=True, blank=True
    )
    segment = models.CharField(_("segment"), max_length=300, help_text=_("Who was selected, in words."))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    # The compose page's one-time token: pressing Send twice (or re-posting the form) is one message.
    request_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("message to members")
        verbose_name_plural = _("messages to members")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_token"],
                condition=~models.Q(request_token=""),
                name="segment_message_sent_once_per_form",
                violation_error_message=_("This message was already sent."),
            )
        ]

    def __str__(self) -> str:
        return self.title


class SegmentMessageRecipient(models.Model):
    message = models.ForeignKey(SegmentMessage, on_delete=models.PROTECT, related_name="recipients")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("notification")
    )

    class Meta:
        verbose_name = _("recipient")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user"],
                name="segment_message_one_per_member",
                violation_error_message=_("This member is already a recipient of this message."),
            )
        ]

    def __str__(self) -> str:
        return str(self.user)
