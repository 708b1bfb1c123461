"""What the contributions services share: an item's points, the year a date counts toward, and
saving an item with its history (who, why) and its evidence file."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from contributions.errors import ContributionError
from contributions.evidence import display_name, evidence_check, stored_name
from contributions.models import (
    ActivityType,
    Contribution,
    ProgramYear,
)


def points_for(*, activity_type: ActivityType, quantity: Decimal | int) -> int:
    """Claimed points: the type's points times the quantity, rounded half up."""
    return int((Decimal(activity_type.points) * Decimal(quantity)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# Keyed by the unit as stored (a TextChoices member equals its value).
UNITS_PLURAL: dict[str, Promise] = {
    ActivityType.Unit.ITEM: gettext_lazy("items"),
    ActivityType.Unit.HOUR: gettext_lazy("hours"),
    ActivityType.Unit.SESSION: gettext_lazy("sessions"),
}


def quantity_refusal(*, activity_type: ActivityType, quantity: Decimal | int) -> str | None:
    """Why one claim of `quantity` is refused for this type (over its maximum per claim), or None."""
    limit = activity_type.max_quantity_per_claim
    if Decimal(quantity) <= limit:
        return None
    return _(
        "“%(type)s” allows at most %(limit)s %(units)s per claim. For more, log separate contributions, "
        "each with its own date."
    ) % {"type": activity_type.name, "limit": f"{limit.normalize():f}", "units": UNITS_PLURAL[activity_type.unit]}


def program_year_for_date(*, day: date) -> ProgramYear | None:
    """The program year a contribution dated `day` counts toward (`ProgramYear.objects.containing`)."""
    return ProgramYear.objects.containing(day)


def _evidence_attach(contribution: Contribution, evidence_file: UploadedFile) -> None:
    """Check the file's real type, keep the member's name for display, store it under the server's name."""
    try:
        kind = evidence_check(evidence_file)
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    contribution.evidence_name = display_name(evidence_file.name or "")
    evidence_file.name = stored_name(kind)
    contribution.evidence_file = evidence_file


def _save(contribution: Contribution, *, actor: User | None, reason: str = "") -> None:
    contribution._history_user = actor  # simple-history records who made the change
    if reason:
        contribution._change_reason = reason
    try:
        contribution.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    contribution.save()
