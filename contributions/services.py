"""Every write of points: member submissions, verification and auto-tracked credits.

Other apps (engagements, community_levels) credit points only through these functions.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from contributions.models import ActivityType, Contribution, ProgramYear


class ContributionError(Exception):
    """A rule of the program refused the change; the message is for the member."""


def points_for(*, activity_type: ActivityType, quantity: Decimal | int) -> int:
    """Claimed points: the type's points times the quantity, rounded half up."""
    return int((Decimal(activity_type.points) * Decimal(quantity)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def program_year_for_date(*, day: date) -> ProgramYear | None:
    """The program year a contribution dated `day` counts toward."""
    return ProgramYear.objects.filter(opens_on__lte=day, deadline__gt=day).order_by("-year").first()


@transaction.atomic
def contribution_credit_automatic(
    *,
    member: User,
    activity_type: ActivityType,
    occurred_on: date,
    title: str,
    source_key: str,
    source: str,
    quantity: Decimal | int = 1,
    points: int | None = None,
    description: str = "",
) -> tuple[Contribution, bool]:
    """Credit an auto-tracked, already verified contribution exactly once per `source_key`.

    The unique constraint on `source_key` decides: a second call (a retry, a second admin tab,
    a concurrent job) finds the existing row and returns it with `created=False`.
    """
    if not source_key:
        raise ValueError("An automatic credit needs a source_key.")
    claimed = points if points is not None else points_for(activity_type=activity_type, quantity=quantity)
    contribution = Contribution(
        member=member,
        program_year=activity_type.program_year,
        activity_type=activity_type,
        title=title[:200],
        description=description,
        occurred_on=occurred_on,
        quantity=quantity,
        state=Contribution.State.VERIFIED,
        claimed_points=claimed,
        awarded_points=claimed,
        source=source,
        source_key=source_key,
        submitted_at=timezone.now(),
        decided_at=timezone.now(),
        decision_note="Credited automatically.",
    )
    contribution.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            contribution.save()
    except IntegrityError:
        existing = Contribution.objects.filter(source_key=source_key).first()
        if existing is None:
            raise
        return existing, False
    return contribution, True
