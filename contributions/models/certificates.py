"""Certificates: one per member and certified period, never deleted."""

import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import ISSUED_CERTIFICATE_NUMBER_REGEX
from contributions.models.years import ProgramYear, last_day_before
from mahome.history import HistoryAttribution


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
    `valid_until` is that first expired day (the year's deadline, an exclusive bound, which the
    signed credential's `validUntil` also names); every page, document and export shows
    `last_valid_day`, the day before.
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
                condition=Q(number__regex=ISSUED_CERTIFICATE_NUMBER_REGEX),
                name="certificate_number_form",
                violation_error_message=_(
                    "A certificate number has the form MA-<year>-<member number, six digits>, which no "
                    "certification record may use."
                ),
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
    def last_valid_day(self) -> date:
        """The last day it is valid, the one people read (`valid_until` is the first day it is not)."""
        return last_day_before(self.valid_until)
