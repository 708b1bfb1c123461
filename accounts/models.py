from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.managers import UserManager


class User(AbstractUser):
    """A person who signs in: a certified MA, a verifier or a program admin.

    Signs in by email; there is no username.
    """

    username = None
    email = models.EmailField(_("email address"), unique=True)
    preferred_name = models.CharField(_("preferred name"), max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def display_name(self) -> str:
        """What we call the member in the interface: preferred name, first name, or email."""
        return self.preferred_name or self.first_name or self.email.split("@")[0]


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
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class MACertification(models.Model):
    """A person's certification as a Master Anaplanner: when they qualified and their number.

    The qualification date decides the pro-rated target of their first program year.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="certification")
    certificate_number = models.CharField(_("certificate number"), max_length=64, unique=True)
    qualified_on = models.DateField(_("qualified on"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("MA certification")
        ordering = ["-qualified_on"]

    def __str__(self) -> str:
        return f"{self.certificate_number} ({self.user})"
