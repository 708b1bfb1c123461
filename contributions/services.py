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


# --- Auto-tracked community contributions (used by community_levels) ---


def contributions_sync_community(
    *,
    program_year: ProgramYear,
    counts: list[tuple[int, str, int]],
    occurred_on: date,
) -> int:
    """Keep one auto-tracked, verified contribution per MA, community activity type and year.

    `counts` holds `(user_id, activity type code, count of that activity in the year)`. Each
    row becomes (or updates) the contribution keyed `community:{year}:{code}:{user_id}`, so a
    member's forum replies are counted once however often the recompute runs; points are the
    type's points for the count, capped at the type's annual cap. Set-based: one multi-row
    `INSERT ... ON CONFLICT (source_key) DO UPDATE` per 500 rows, and one history insert for
    the rows that actually changed. Returns how many contributions were created or changed.
    """
    from django.db import connection

    types = {
        activity_type.code: activity_type
        for activity_type in ActivityType.objects.filter(
            program_year=program_year, tracking=ActivityType.Tracking.COMMUNITY, is_active=True
        )
    }
    now = timezone.now()
    rows = []
    for user_id, code, quantity in counts:
        activity_type = types.get(code)
        if activity_type is None or quantity <= 0:
            continue
        points = points_for(activity_type=activity_type, quantity=quantity)
        if activity_type.annual_cap is not None:
            points = min(points, activity_type.annual_cap)
        rows.append(
            (
                user_id,
                program_year.pk,
                activity_type.pk,
                f"{activity_type.name}: {quantity} in the community ({program_year.year})"[:200],
                "Counted automatically from community activity.",
                occurred_on,
                Decimal(quantity),
                "",
                "",
                Contribution.State.VERIFIED,
                points,
                points,
                "Credited automatically from community activity.",
                now,
                Contribution.Source.COMMUNITY,
                f"community:{program_year.year}:{code}:{user_id}",
                now,
                now,
                now,
            )
        )
    if not rows:
        return 0
    table = Contribution._meta.db_table
    columns = (
        "member_id, program_year_id, activity_type_id, title, description, occurred_on, quantity, evidence_url, "
        "evidence_file, state, claimed_points, awarded_points, decision_note, decided_at, source, source_key, "
        "created_at, submitted_at, updated_at"
    )
    history = Contribution.history.model
    tracked = [f.column for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    created_ids: list[int] = []
    updated_ids: list[int] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            existing = set(
                Contribution.objects.filter(source_key__in=[row[15] for row in chunk]).values_list(
                    "source_key", flat=True
                )
            )
            placeholders = ", ".join(["(" + ", ".join(["%s"] * 19) + ")"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {placeholders} "  # noqa: S608 - names from the model
                f"ON CONFLICT (source_key) WHERE NOT (source_key = '') DO UPDATE SET "
                f"quantity = excluded.quantity, claimed_points = excluded.claimed_points, "
                f"awarded_points = excluded.awarded_points, title = excluded.title, "
                f"occurred_on = excluded.occurred_on, updated_at = excluded.updated_at "
                f"WHERE {table}.quantity <> excluded.quantity "
                f"OR {table}.awarded_points IS DISTINCT FROM excluded.awarded_points "
                f"RETURNING id, source_key",
                [value for row in chunk for value in row],
            )
            for pk, source_key in cursor.fetchall():
                (updated_ids if source_key in existing else created_ids).append(pk)
        for history_type, ids_of_type in (("+", created_ids), ("~", updated_ids)):
            for start in range(0, len(ids_of_type), 1000):
                ids = ids_of_type[start : start + 1000]
                cursor.execute(
                    f"INSERT INTO {history._meta.db_table} ({', '.join(tracked)}, history_date, "  # noqa: S608
                    f"history_change_reason, history_type, history_user_id) SELECT {', '.join(tracked)}, %s, %s, "
                    f"%s, NULL FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})",
                    [now, "Community recompute", history_type, *ids],
                )
    return len(created_ids) + len(updated_ids)
