"""Contributions as their member and the verifiers read them: a member's own, the verification queue,
its size and age, who decided how many, and what is left under a type's cap."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from accounts.models import User
from contributions.models import (
    ActivityType,
    Contribution,
    OptOut,
    ProgramYear,
)
from contributions.selectors.members import MemberYear

# --- Contributions ------------------------------------------------------------------------


def contribution_list(*, user: User, program_year: ProgramYear | None = None) -> QuerySet[Contribution]:
    queryset = Contribution.objects.filter(member=user).select_related("activity_type", "program_year")
    if program_year is not None:
        queryset = queryset.filter(program_year=program_year)
    return queryset.order_by("-occurred_on", "-pk")


def same_claims(*, contribution: Contribution) -> QuerySet[Contribution]:
    """The member's other claims that are the same claim as `contribution` (saved or not), oldest first:
    claims made by hand with the same type, date, title (case and surrounding spaces aside) and evidence link,
    still standing (not withdrawn, not rejected). The one rule of "the same claim": the submission refuses
    a second one, a decision never lets two count, and the verifier is shown the others."""
    return (
        Contribution.objects.annotate(same_title=Lower(Trim("title")))
        .filter(
            source=Contribution.Source.MANUAL,
            member_id=contribution.member_id,
            activity_type_id=contribution.activity_type_id,
            occurred_on=contribution.occurred_on,
            same_title=contribution.title.strip().lower(),
            evidence_url=contribution.evidence_url,
        )
        .exclude(state__in=[Contribution.State.WITHDRAWN, Contribution.State.REJECTED])
        .exclude(pk=contribution.pk)
        .order_by("pk")
    )


def contribution_get(*, user: User, pk: int) -> Contribution | None:
    """The member's own contribution, or None (another member's answers 404)."""
    return (
        Contribution.objects.select_related("activity_type", "program_year", "decided_by")
        .filter(member=user, pk=pk)
        .first()
    )


def contribution_history(*, contribution: Contribution) -> list:
    """Changes of state and points, oldest first, with who made them."""
    records = list(contribution.history.select_related("history_user").order_by("history_date", "history_id"))
    changes = []
    previous = None
    for record in records:
        if previous is None or (record.state, record.claimed_points, record.awarded_points) != (
            previous.state,
            previous.claimed_points,
            previous.awarded_points,
        ):
            changes.append(record)
        previous = record
    return changes


def verification_queue(*, program_year: ProgramYear | None = None) -> QuerySet[Contribution]:
    """Submitted items, oldest first (what verifiers work through)."""
    queryset = Contribution.objects.filter(state=Contribution.State.SUBMITTED)
    if program_year is not None:
        queryset = queryset.filter(program_year=program_year)
    return queryset.select_related("member", "activity_type").order_by("submitted_at", "pk")


def queue_next(*, after: Contribution) -> Contribution | None:
    """The oldest other item waiting in the queue: what "decide and open the next" opens."""
    return verification_queue().exclude(pk=after.pk).first()


def queue_waiting_besides(*, contribution: Contribution) -> int:
    return verification_queue().exclude(pk=contribution.pk).count()


def cap_left(*, member_year: MemberYear, activity_type: ActivityType) -> int | None:
    """Points of a type the member can still earn this year under its annual cap (None: no cap)."""
    if activity_type.annual_cap is None:
        return None
    verified = next(
        (total.verified_raw for total in member_year.type_totals if total.activity_type.pk == activity_type.pk), 0
    )
    return max(activity_type.annual_cap - verified, 0)


def queue_stats(*, program_year: ProgramYear | None = None) -> dict:
    """Size of the verification queue and age in days of its oldest item."""
    queue = verification_queue(program_year=program_year)
    oldest = queue.values_list("submitted_at", flat=True).first()
    size = queue.count()
    age_days = (timezone.now() - oldest).days if oldest else None
    return {"size": size, "oldest_days": age_days}


@dataclass(frozen=True)
class VerifierDecisions:
    name: str
    decided: int


def decisions_by_verifier(*, since: datetime) -> list[VerifierDecisions]:
    """How many items each verifier decided since `since` (one query), busiest first."""
    rows = (
        Contribution.objects.filter(decided_at__gte=since, decided_by__isnull=False, decided_by__is_staff=True)
        .values("decided_by__first_name", "decided_by__last_name", "decided_by__email")
        .annotate(decided=Count("pk"))
        .order_by("-decided", "decided_by__last_name", "decided_by__email")
    )
    return [
        VerifierDecisions(
            name=f"{row['decided_by__first_name']} {row['decided_by__last_name']}".strip() or row["decided_by__email"],
            decided=row["decided"],
        )
        for row in rows
    ]


# --- Opt-outs ----------------------------------------------------------------------------------------

OPT_OUTS_ENDED_SHOWN = 50


def opt_outs_ended(*, limit: int = OPT_OUTS_ENDED_SHOWN) -> list:
    """The opt-outs ended most recently, from their history (an ended opt-out leaves its table): the
    member's own undo or staff taking it back, with who ended it and the reason staff gave."""
    return list(
        OptOut.history.filter(history_type="-")
        .select_related("member", "program_year", "history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )
