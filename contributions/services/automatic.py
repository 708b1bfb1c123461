"""Auto-tracked credits: one verified contribution per source (engagements) and the community
recount's set-based upsert (community_levels). Other apps credit points only through these."""

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from accounts.models import User
from contributions.errors import ContributionError
from contributions.models import (
    ActivityType,
    Contribution,
    ProgramYear,
)
from contributions.rules import points_for, whole_units_refusal


def activity_type_for_date(*, activity_type: ActivityType, day: date) -> ActivityType:
    """The type a contribution of `activity_type` dated `day` is credited as (see below); for other apps."""
    return _activity_type_of_the_year(activity_type=activity_type, day=day)


def _activity_type_of_the_year(*, activity_type: ActivityType, day: date) -> ActivityType:
    """A contribution counts toward the program year its date falls in.

    An engagement planned under one year's catalogue but held in the next (a January keynote
    booked in November) is credited to the same activity type of the year it happened in,
    when that year's catalogue has one; otherwise to the type it was planned under.
    """
    year = activity_type.program_year
    if year.opens_on <= day < year.deadline:
        return activity_type
    same_type = (
        ActivityType.objects.select_related("program_year")
        .filter(code=activity_type.code, program_year__opens_on__lte=day, program_year__deadline__gt=day)
        .order_by("-program_year__year")
        .first()
    )
    return same_type or activity_type


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
    activity_type = _activity_type_of_the_year(activity_type=activity_type, day=occurred_on)
    refusal = whole_units_refusal(activity_type=activity_type, quantity=quantity)
    if refusal:
        raise ContributionError(refusal)
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


class CommunityCredit(NamedTuple):
    """One member's credit for one community activity type in a year: a row of the upsert.

    Each field is named after the `Contribution` field it fills; the fields, with the constants of
    `_community_credit_constants`, generate the upsert's column list (tests compare it with the model).
    """

    member: int
    activity_type: int
    title: str
    quantity: Decimal
    claimed_points: int
    awarded_points: int
    source_key: str


# What a staff correction may have changed is not overwritten; what the recount changes is.
_COMMUNITY_CREDIT_UPDATED = ("quantity", "claimed_points", "awarded_points", "title", "occurred_on", "updated_at")


def _community_credit_constants(
    *, program_year: ProgramYear, occurred_on: date, now: datetime | None
) -> dict[str, int | str | date | None]:
    """The values every community credit shares, by `Contribution` field name."""
    return {
        "program_year": program_year.pk,
        "description": "Counted automatically from community activity.",
        "occurred_on": occurred_on,
        "evidence_url": "",
        "evidence_file": "",
        "evidence_name": "",
        "state": Contribution.State.VERIFIED,
        "decision_note": "Credited automatically from community activity.",
        "decided_at": now,
        "source": Contribution.Source.COMMUNITY,
        "created_at": now,
        "submitted_at": now,
        "updated_at": now,
    }


def _column(name: str) -> str:
    field = Contribution._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise LookupError(f"Contribution.{name} has no column")
    return field.column


def community_credit_columns() -> list[str]:
    """The columns the community upsert writes, in its order: the row's fields, then the constants."""
    constants = _community_credit_constants(program_year=ProgramYear(), occurred_on=date.min, now=None)
    return [_column(name) for name in (*CommunityCredit._fields, *constants)]


def _sync_community_portable(*, program_year: ProgramYear, rows: list[CommunityCredit], occurred_on: date, now) -> int:
    """The embedded local run (SQLite): the same upsert as below, row by row through the ORM
    (a demo's few dozen MAs); the same rule that a credit staff corrected is theirs from then on."""
    constants = _community_credit_constants(program_year=program_year, occurred_on=occurred_on, now=now)
    written = 0
    for row in rows:
        existing = Contribution.objects.filter(source_key=row.source_key).first()
        if existing is None:
            contribution = Contribution(
                **{_column(name): value for name, value in row._asdict().items()},
                **{
                    _column(name): value
                    for name, value in constants.items()
                    if name not in ("created_at", "updated_at")
                },
            )
        elif existing.decided_by_id is None and (
            existing.quantity != row.quantity or existing.awarded_points != row.awarded_points
        ):
            contribution = existing
            for name in _COMMUNITY_CREDIT_UPDATED:
                if name != "updated_at":
                    setattr(contribution, name, getattr(row, name) if name in row._fields else constants[name])
        else:
            continue
        contribution._change_reason = "Community recompute"
        contribution.save()
        written += 1
    return written


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
    type's points for the count, capped at the type's annual cap (`community_credit_rows`).
    Set-based whatever the number of members: on PostgreSQL the counts travel as arrays into
    `contributions_sync_community_query`. Returns how many contributions were created or changed.
    """
    if connection.vendor == "postgresql":
        return contributions_sync_community_query(
            program_year=program_year,
            counts_sql="SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[])",
            counts_params=[list(column) for column in zip(*counts, strict=True)] if counts else [[], [], []],
            occurred_on=occurred_on,
        )
    types = {
        activity_type.code: activity_type
        for activity_type in ActivityType.objects.filter(
            program_year=program_year, tracking=ActivityType.Tracking.COMMUNITY, is_active=True
        )
    }
    rows = community_credit_rows(year=program_year.year, types=types, counts=counts)
    if not rows:
        return 0
    return _sync_community_portable(program_year=program_year, rows=rows, occurred_on=occurred_on, now=timezone.now())


def community_credit_rows(
    *, year: int, types: dict[str, ActivityType], counts: list[tuple[int, str, int]]
) -> list[CommunityCredit]:
    """The credits `counts` earn (pure): one row per member and community type of the year's catalogue
    (`types` by code) with a positive count; points are the type's for the count, capped at its annual cap."""
    rows = []
    for user_id, code, quantity in counts:
        activity_type = types.get(code)
        if activity_type is None or quantity <= 0:
            continue
        awarded = points_for(activity_type=activity_type, quantity=quantity)
        if activity_type.annual_cap is not None:
            awarded = min(awarded, activity_type.annual_cap)
        rows.append(
            CommunityCredit(
                member=user_id,
                activity_type=activity_type.pk,
                title=f"{activity_type.name}: {quantity} in the community ({year})"[:200],
                quantity=Decimal(quantity),
                claimed_points=awarded,
                awarded_points=awarded,
                source_key=f"community:{year}:{code}:{user_id}",
            )
        )
    return rows


def _community_credit_select(*, year: int) -> tuple[str, list]:
    """`community_credit_rows` in SQL: the credit of each `counts` row `c(user_id, code, quantity)` whose code
    is a community type `t` of the year's catalogue, one expression per `CommunityCredit` field."""
    expressions = {
        "member": ("c.user_id", []),
        "activity_type": ("t.id", []),
        "title": ("left(t.name || ': ' || c.quantity || ' in the community (' || %s || ')', 200)", [str(year)]),
        "quantity": ("CAST(c.quantity AS numeric)", []),
        # points_for() of a whole count is the type's points times it; the cap, when there is one.
        "claimed_points": ("p.points", []),
        "awarded_points": ("p.points", []),
        "source_key": ("'community:' || %s || ':' || c.code || ':' || c.user_id", [str(year)]),
    }
    assert tuple(expressions) == CommunityCredit._fields
    sql = ", ".join(f"{expression} AS {_column(name)}" for name, (expression, _params) in expressions.items())
    return sql, [param for _expression, params in expressions.values() for param in params]


def contributions_sync_community_query(
    *, program_year: ProgramYear, counts_sql: str, counts_params: list, occurred_on: date
) -> int:
    """`contributions_sync_community` for the counts a query selects, `(user_id, code, quantity)` rows
    (PostgreSQL): the credits are computed in SQL and only the new or changed ones are written, by one
    `INSERT ... SELECT ... ON CONFLICT DO UPDATE` whose rows the same statement adds to the history; nothing
    travels through Python. Columns are named through `Contribution._meta` from `CommunityCredit`'s fields."""
    table, types = Contribution._meta.db_table, ActivityType._meta.db_table
    history = Contribution.history.model
    tracked = [f.column for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    now = timezone.now()
    constants = _community_credit_constants(program_year=program_year, occurred_on=occurred_on, now=now)
    select_sql, select_params = _community_credit_select(year=program_year.year)
    row_columns = [_column(name) for name in CommunityCredit._fields]
    updated = ", ".join(f"{_column(name)} = excluded.{_column(name)}" for name in _COMMUNITY_CREDIT_UPDATED)
    quantity, awarded, decided_by = _column("quantity"), _column("awarded_points"), _column("decided_by")
    source_key = _column("source_key")

    def changed(old: str, new: str) -> str:
        # A credit that staff corrected or reopened (decided_by set) is theirs from then on.
        return (
            f"{old}.{decided_by} IS NULL AND ({old}.{quantity} <> {new}.{quantity} "
            f"OR {old}.{awarded} IS DISTINCT FROM {new}.{awarded})"
        )

    with transaction.atomic(), connection.cursor() as cursor:
        # The rows the upsert writes go on to the history in the same statement, as the credit holds them
        # after it (`+` inserted, `~` updated): no second read of them by id, no ids through Python.
        cursor.execute(
            f"WITH c (user_id, code, quantity) AS ({counts_sql}), r AS (SELECT {select_sql} FROM c "  # noqa: S608
            f"JOIN {types} t ON t.code = c.code AND t.program_year_id = %s AND t.tracking = %s AND t.is_active "
            "CROSS JOIN LATERAL (SELECT CAST(LEAST(t.points * c.quantity, t.annual_cap) AS integer) AS points) p "
            "WHERE c.quantity > 0), "
            f"w AS (INSERT INTO {table} ({', '.join(community_credit_columns())}) "
            f"SELECT {', '.join(f'r.{c}' for c in row_columns)}, {', '.join(['%s'] * len(constants))} FROM r "
            # Only what is new or changed goes on to the insert (the conflict below still guards a race).
            # (the key's unique index is partial: saying the key is not empty lets the join use it)
            f"LEFT JOIN {table} e ON e.{source_key} = r.{source_key} AND NOT (e.{source_key} = '') "
            f"WHERE e.id IS NULL OR {changed('e', 'r')} "
            f"ON CONFLICT ({source_key}) WHERE NOT ({source_key} = '') DO UPDATE SET {updated} "
            f"WHERE {changed(table, 'excluded')} RETURNING {', '.join(tracked)}, (xmax = 0) AS inserted) "
            f"INSERT INTO {history._meta.db_table} ({', '.join(tracked)}, history_date, "
            f"history_change_reason, history_type, history_user_id) SELECT {', '.join(tracked)}, %s, %s, "
            "CASE WHEN inserted THEN '+' ELSE '~' END, NULL FROM w",
            [
                *counts_params,
                *select_params,
                program_year.pk,
                ActivityType.Tracking.COMMUNITY,
                *constants.values(),
                now,
                "Community recompute",
            ],
        )
        return cursor.rowcount
