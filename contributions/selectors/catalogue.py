"""Program years, their catalogue of activity types, and the contribution form's live preview."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import Case, F, Prefetch, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import User
from contributions.models import (
    ActivityType,
    Contribution,
    ProgramYear,
)
from contributions.selectors.common import _today

# --- Program years and the catalogue ---------------------------------------------------


def program_year_current(*, today: date | None = None) -> ProgramYear | None:
    """The year running today; between years, the one that just ended (awaiting review)."""
    return ProgramYear.objects.current(_today(today))


def program_year_get(*, year: int) -> ProgramYear | None:
    return ProgramYear.objects.filter(year=year).first()


def catalogue_years(*, today: date | None = None) -> list[ProgramYear]:
    """This year's catalogue and, once published, next year's, each with its types and requirements."""
    today = _today(today)
    current = program_year_current(today=today)
    upcoming = Q(opens_on__gt=today, published_at__isnull=False)
    years = ProgramYear.objects.filter(upcoming | Q(pk=current.pk)) if current else ProgramYear.objects.filter(upcoming)
    return list(years.order_by("year").prefetch_related("requirements", _active_types_prefetch())[:2])


def catalogue_types() -> QuerySet[ActivityType]:
    """The types a catalogue shows: active, and not MA Home's own hidden requirement-report type (the one
    rule for the members' catalogue and the check before a year is published)."""
    return ActivityType.objects.filter(is_active=True).exclude(tracking=ActivityType.Tracking.REQUIREMENT)


def _active_types_prefetch() -> Prefetch:
    return Prefetch(
        "activity_types", queryset=catalogue_types().order_by("category", "-points", "name"), to_attr="catalogue"
    )


def activity_types_open_for_submission(*, today: date | None = None) -> QuerySet[ActivityType]:
    """Types a member may submit today: manual tracking, active, in a year still taking submissions."""
    today = _today(today)
    open_years = Q(program_year__opens_on__lte=today) & ProgramYear.takes_submissions_q(
        today=today, prefix="program_year__"
    )
    return (
        ActivityType.objects.filter(open_years, is_active=True, tracking=ActivityType.Tracking.MANUAL)
        .select_related("program_year")
        .order_by("-program_year__year", "category", "name")
    )


# --- The contribution form's live preview ---------------------------------------------------------


@dataclass
class ClaimPreview:
    """What a claim would earn, shown beside the form before the member submits it."""

    activity_type: ActivityType | None = None
    quantity: Decimal | None = None
    points: int | None = None
    cap_left: int | None = None  # of the type's annual cap, after what already counts or waits
    counted: int | None = None  # the points of this claim that would count under the cap
    refusal: str = ""  # the quantity is over the type's maximum per claim
    hint: str = ""


def claim_preview(*, user: User, activity_type_id: int | None, quantity) -> ClaimPreview:
    """The preview for a type and quantity as typed (anything unreadable becomes a hint, never an error)."""
    from contributions.rules import points_for, quantity_refusal

    activity_type = (
        activity_types_open_for_submission().filter(pk=activity_type_id).first() if activity_type_id else None
    )
    if activity_type is None:
        return ClaimPreview(hint=_("Choose an activity type to see the points it earns."))
    try:
        amount = Decimal(str(quantity).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= Decimal(10) ** 6:
        return ClaimPreview(activity_type=activity_type, hint=_("Enter a quantity (a number above 0)."))
    preview = ClaimPreview(activity_type=activity_type, quantity=amount)
    refusal = quantity_refusal(activity_type=activity_type, quantity=amount)
    if refusal:
        preview.refusal = refusal
        return preview
    preview.points = points_for(activity_type=activity_type, quantity=amount)
    preview.counted = preview.points
    if activity_type.annual_cap is not None:
        used = (
            Contribution.objects.filter(
                member=user,
                activity_type=activity_type,
                state__in=[Contribution.State.VERIFIED, *Contribution.PENDING_STATES],
            ).aggregate(
                points=Sum(
                    Case(
                        When(state=Contribution.State.VERIFIED, then=Coalesce("awarded_points", "claimed_points")),
                        default=F("claimed_points"),
                    )
                )
            )["points"]
            or 0
        )
        preview.cap_left = max(0, activity_type.annual_cap - used)
        preview.counted = min(preview.points, preview.cap_left)
    return preview
