"""Set-based recompute of metrics, scores and levels, in a constant number of SQL statements.

Discourse's `directory_item.rb` refreshes every member in a handful of statements; this does the
same: mark the members with new activity, then ONE `UPDATE ... FROM (SELECT ... GROUP BY)` computes
metrics, both scores and the level (one CASE built from the ladder) from the daily aggregates and
writes only the rows whose values change, records the changes with `INSERT ... SELECT`, notifies
and credits set-based (arrays into one statement each) and applies the new levels. The number of
statements does not depend on the number of members, and a full recompute that changes nothing
writes (almost) nothing.
"""

# SQL here is built from table and column names fixed in this module; every value is a parameter.
# ruff: noqa: S608

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from community_levels.marks import marks_take
from community_levels.metrics import CONTRIBUTION_CODES, METRICS
from community_levels.models import CommunityMember, DailyActivity, LevelChange, RecomputeRun
from community_levels.rules import Rules, level_case_sql, load_rules, score_sql

logger = logging.getLogger(__name__)

# Table names come from the models (never typed): a renamed table changes the SQL with it.
MEMBER = CommunityMember._meta.db_table
DAILY = DailyActivity._meta.db_table
LEVELCHANGE = LevelChange._meta.db_table
EPOCH = date(1970, 1, 1)
# The members a run takes (their marks), one row each: a temporary table of the session.
SCOPE = "community_recompute_scope"


class _Notifications(TypedDict):
    """One `notifications_create_many` batch: the same kind of notification to many members."""

    user_ids: list[int]
    titles: list[str]
    bodies: list[str]
    dedupe_keys: list[str]


@dataclass
class RecomputeResult:
    members: int = 0
    changed: int = 0
    raised: int = 0
    lowered: int = 0
    # Member rows the recompute wrote: the ones whose metrics, scores or level changed (PostgreSQL).
    written: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None

    def as_dict(self) -> dict:
        return {"members": self.members, "changed": self.changed, "levels": self.levels}


def metrics_select_sql(rules: Rules, *, full: bool) -> tuple[str, list]:
    """One row per member in scope (everyone with `full`, else those marked `recomputing`) with every metric.

    The daily aggregates are grouped by member first (one pass in their index order) and only then
    joined to the members: an excluded member or one without activity gets zeros.
    """
    params: list = []
    cap = rules.caps.get("likes_given")
    if cap is None:
        likes_given = "d.quantity"
    else:
        likes_given = "CASE WHEN d.quantity > %s THEN %s ELSE d.quantity END"
        params.extend([cap, cap])
    day_visited = "CASE WHEN d.kind <> 'like_received' THEN d.day END"

    def total(kind: str) -> str:
        return f"SUM(CASE WHEN d.kind = '{kind}' THEN d.quantity ELSE 0 END)"

    columns = {
        "member_days": f"MAX({day_visited}) - MIN({day_visited}) + 1",
        "days_visited": f"COUNT(DISTINCT {day_visited})",
        "reading_minutes": "SUM(CASE WHEN d.kind IN ('visit', 'read') THEN d.minutes ELSE 0 END)",
        "pages_read": total("read"),
        "posts": total("post"),
        "replies": total("reply"),
        "articles": total("article"),
        "comments": total("comment"),
        "ideas": total("idea"),
        "accepted_solutions": total("accepted_solution"),
        "likes_given": f"SUM(CASE WHEN d.kind = 'like_given' THEN {likes_given} ELSE 0 END)",
        "likes_received": total("like_received"),
    }
    # Only likes_given carries parameters, so their order is the order of the SELECT list.
    grouped = ", ".join(columns[metric.code] + f" AS {metric.column}" for metric in METRICS)
    metrics = ", ".join(f"COALESCE(a.{metric.column}, 0) AS {metric.column}" for metric in METRICS)
    daily_scope = "TRUE" if full else f"d.member_id IN (SELECT id FROM {MEMBER} WHERE recomputing)"
    sql = (
        f"SELECT m.id AS mid, {metrics} FROM {MEMBER} m "
        f"LEFT JOIN (SELECT d.member_id, {grouped} FROM {DAILY} d WHERE {daily_scope} GROUP BY d.member_id) a "
        f"ON a.member_id = m.id AND NOT m.is_excluded WHERE {'TRUE' if full else 'm.recomputing'}"
    )
    return sql, params


@transaction.atomic
def levels_recompute(*, full: bool = False, reason: str = "", is_rule_change: bool = False) -> RecomputeResult:
    """Recompute the members with new activity (or everyone with `full`) and record level changes."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # One recompute at a time; ingestion keeps running beside it.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('community_levels.recompute'))")
            # A few set-based statements over every member: compiling them (JIT) costs more than it saves.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
    rules = load_rules()
    run = RecomputeRun.objects.create(started_at=now, full=full, reason=reason[:200], is_rule_change=is_rule_change)
    result = RecomputeResult(run_id=run.pk)
    with connection.cursor() as cursor:
        # The members with new activity, whatever the mode: a later ingestion marks them again.
        dirty = _take_marks(cursor)
        cursor.execute(f"UPDATE {MEMBER} SET recomputing = TRUE WHERE id IN (SELECT member_id FROM {SCOPE})")
        if full or dirty:
            result.written = _refresh(cursor, rules, run=run, now=now, reason=reason, full=full)
    if full or dirty:
        counts = LevelChange.objects.filter(run=run).aggregate(
            changed=Count("pk"),
            raised=Count("pk", filter=Q(from_level__isnull=False, to_level__rank__gt=F("from_level__rank"))),
            lowered=Count("pk", filter=Q(from_level__isnull=False, to_level__rank__lt=F("from_level__rank"))),
        )
        result.changed, result.raised, result.lowered = counts["changed"], counts["raised"], counts["lowered"]
        _notify(run=run, is_rule_change=is_rule_change)
        _sync_contributions(today=timezone.localdate(now), full=full)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {MEMBER} SET level_id = computed_level_id, recomputing = FALSE, level_changed_at = "
                f"CASE WHEN level_id IS NULL OR level_id <> computed_level_id THEN %s ELSE level_changed_at END "
                f"WHERE recomputing",
                [now],
            )
    # Every member by level (None: no level yet); a full recompute had them all in scope.
    per_level = dict(CommunityMember.objects.values_list("level").annotate(n=Count("pk")).order_by())
    result.members = sum(per_level.values()) if full else dirty
    result.levels = {level.name: per_level.get(level.id, 0) for level in rules.levels}
    RecomputeRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        members=result.members,
        changed=result.changed,
        raised=result.raised,
        lowered=result.lowered,
    )
    return result


def _take_marks(cursor) -> int:
    """The marked members into the session's scope table (emptied first); returns how many."""
    postgres = connection.vendor == "postgresql"
    suffix = " ON COMMIT DELETE ROWS" if postgres else ""
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SCOPE} (member_id bigint PRIMARY KEY){suffix}")
    # Empty even inside an outer transaction (tests, a command's), where ON COMMIT has not fired yet.
    cursor.execute(f"TRUNCATE {SCOPE}" if postgres else f"DELETE FROM {SCOPE}")
    return marks_take(cursor, SCOPE)


def placed_sql(rules: Rules, *, full: bool) -> tuple[str, list]:
    """Metrics, both scores and the level (column `level_id`) of every member in scope, in one SELECT."""
    select_sql, select_params = metrics_select_sql(rules, full=full)
    passive_sql, passive_params = score_sql("passive", rules, prefix="agg.")
    active_sql, active_params = score_sql("active", rules, prefix="agg.")
    case_sql, case_params = level_case_sql(rules, ("scored.passive", []), ("scored.active", []), prefix="scored.")
    # Each step a subquery kept apart by OFFSET 0: flattened, every reference to a score in the
    # ladder's CASE would evaluate the weighted sum again (14 levels: ten times slower than the GROUP BY).
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT scored.*, {case_sql} AS level_id FROM (SELECT agg.*, "
        f"CAST({passive_sql} AS NUMERIC(14, 2)) AS passive, CAST({active_sql} AS NUMERIC(14, 2)) AS active "
        f"FROM ({select_sql}{fence}) agg{fence}) scored"
    )
    # Parameters in the order of the text: the CASE, the scores, then the metrics.
    return sql, case_params + passive_params + active_params + select_params


def _refresh(cursor, rules: Rules, *, run: RecomputeRun, now: datetime, reason: str, full: bool) -> int:
    """Metrics, scores and level of every member in scope in one statement; returns how many were written.

    Only rows whose metrics, scores or level change (or that had new activity) are written; of
    those, the ones whose level changes or who are linked to an MA stay marked `recomputing` for
    the later steps (level history, credits, applying the level).
    """
    sql, params = placed_sql(rules, full=full)
    columns = [metric.column for metric in METRICS]
    assignments = ", ".join(f"{column} = placed.{column}" for column in columns)
    update = (
        f"UPDATE {MEMBER} SET {assignments}, passive_score = placed.passive, active_score = placed.active, "
        f"computed_level_id = placed.level_id, "
        # Still marked afterwards only where a later step needs the member: a level to record and
        # apply, or an MA account to credit; the final UPDATE then touches those rows alone.
        f"recomputing = ({MEMBER}.level_id IS DISTINCT FROM placed.level_id OR {MEMBER}.user_id IS NOT NULL) "
    )
    if connection.vendor == "postgresql":
        stored = ", ".join(f"{MEMBER}.{column}" for column in columns)
        computed = ", ".join(f"placed.{column}" for column in columns)
        cursor.execute(
            f"{update} FROM ({sql}) AS placed WHERE {MEMBER}.id = placed.mid AND ({MEMBER}.recomputing "
            f"OR ({stored}, {MEMBER}.passive_score, {MEMBER}.active_score, {MEMBER}.level_id) "
            f"IS DISTINCT FROM ({computed}, placed.passive, placed.active, placed.level_id))",
            params,
        )
        written = cursor.rowcount
    else:
        # The embedded local run (SQLite): the placed rows go through a temporary table and every
        # member in scope is written (a demo's few hundred rows).
        cursor.execute("DROP TABLE IF EXISTS temp.community_placed")
        cursor.execute(f"CREATE TEMP TABLE community_placed AS {sql}", params)
        cursor.execute(f"{update} FROM community_placed AS placed WHERE {MEMBER}.id = placed.mid")
        written = cursor.rowcount
        cursor.execute("DROP TABLE temp.community_placed")
    cursor.execute(
        f"INSERT INTO {LEVELCHANGE} (member_id, run_id, from_level_id, to_level_id, changed_at, reason) "
        f"SELECT id, %s, level_id, computed_level_id, %s, %s FROM {MEMBER} "
        f"WHERE recomputing AND computed_level_id IS NOT NULL "
        f"AND (level_id IS NULL OR level_id <> computed_level_id)",
        [run.pk, now, (reason or _("New community activity"))[:200]],
    )
    return written


def _notify(*, run: RecomputeRun, is_rule_change: bool) -> None:
    """Tell MAs about a level-up (once per level) and about a level lowered by a rule change.

    One read of the run's changes and one set-based insert per kind (accounts' outbox emails them).
    """
    from accounts.services import notifications_create_many

    changes = (
        LevelChange.objects.filter(
            run=run, member__user__isnull=False, from_level__isnull=False, to_level__isnull=False
        )
        .order_by("pk")
        .values_list(
            "member__user_id", "to_level_id", "from_level__name", "to_level__name", "from_level__rank", "to_level__rank"
        )
    )
    ups: _Notifications = {"user_ids": [], "titles": [], "bodies": [], "dedupe_keys": []}
    lowered: _Notifications = {"user_ids": [], "titles": [], "bodies": [], "dedupe_keys": []}
    for user_id, to_level_id, from_name, to_name, from_rank, to_rank in changes:
        names = {"from": from_name, "to": to_name}
        if to_rank > from_rank:
            ups["user_ids"].append(user_id)
            ups["titles"].append(_("You reached %(level)s in the community") % {"level": to_name})
            ups["bodies"].append(
                _("Your community activity moved you from %(from)s to %(to)s. See what the next level needs.") % names
            )
            ups["dedupe_keys"].append(f"community-level-up:{to_level_id}")
        elif is_rule_change:
            lowered["user_ids"].append(user_id)
            lowered["titles"].append(_("The community level rules changed: you are now %(level)s") % {"level": to_name})
            lowered["bodies"].append(
                _(
                    "The program team changed the level criteria. Your level moved from %(from)s to %(to)s; "
                    "your activity itself is unchanged."
                )
                % names
            )
            lowered["dedupe_keys"].append(f"community-level-rule:{run.pk}")
    me = reverse("community_levels:me")
    notifications_create_many(kind="community.level_up", url=me, **ups)
    notifications_create_many(kind="community.level_changed", url=me, **lowered)


def _epoch_day(day: date) -> int:
    return (day - EPOCH).days


def _sync_contributions(*, today: date, full: bool) -> int:
    """Auto-tracked contributions of the current program year for MAs among the recomputed members.

    A full recompute syncs every linked MA (the program year may have turned), the incremental one
    those whose values changed. On PostgreSQL the year's counts go from the daily aggregates straight
    into the contributions' upsert (one statement, only new or changed credits written).
    """
    from contributions.services import (
        contributions_sync_community,
        contributions_sync_community_query,
        program_year_for_date,
    )

    program_year = program_year_for_date(day=today)
    if program_year is None:
        return 0
    codes = " ".join("WHEN %s THEN %s" for _kind in CONTRIBUTION_CODES)
    linked = (
        "m.user_id IS NOT NULL"
        if full
        else (f"m.user_id IN (SELECT user_id FROM {MEMBER} WHERE recomputing AND user_id IS NOT NULL)")
    )
    counts_sql = (
        f"SELECT m.user_id, CASE d.kind {codes} END, SUM(d.quantity) FROM {DAILY} d "
        f"JOIN {MEMBER} m ON m.id = d.member_id WHERE {linked} AND NOT m.is_excluded "
        f"AND d.day >= %s AND d.day < %s AND d.kind IN ({', '.join(['%s'] * len(CONTRIBUTION_CODES))}) "
        f"GROUP BY m.user_id, d.kind"
    )
    params: list[int | str] = [
        *(value for code, kind in CONTRIBUTION_CODES.items() for value in (kind, code)),
        _epoch_day(program_year.opens_on),
        _epoch_day(program_year.deadline),
        *CONTRIBUTION_CODES.values(),
    ]
    occurred_on = min(today, program_year.deadline)
    if connection.vendor == "postgresql":
        return contributions_sync_community_query(
            program_year=program_year, counts_sql=counts_sql, counts_params=params, occurred_on=occurred_on
        )
    with connection.cursor() as cursor:
        cursor.execute(counts_sql, params)
        counts = [(user_id, code, int(total)) for user_id, code, total in cursor.fetchall()]
    return contributions_sync_community(program_year=program_year, counts=counts, occurred_on=occurred_on)


def levels_preview(*, rules: Rules) -> dict[int, int]:
    """How many members each level would hold under `rules` (not saved), from the stored metrics."""
    passive = score_sql("passive", rules, prefix="m.")
    active = score_sql("active", rules, prefix="m.")
    case_sql, case_params = level_case_sql(rules, passive, active, prefix="m.")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lvl, COUNT(*) FROM (SELECT {case_sql} AS lvl FROM {MEMBER} m) placed GROUP BY lvl", case_params
        )
        return {level_id: count for level_id, count in cursor.fetchall() if level_id is not None}
