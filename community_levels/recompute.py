"""Set-based recompute of metrics, scores and levels, in a constant number of SQL statements.

Discourse's `directory_item.rb` refreshes every member in a handful of statements; this does the
same. A run takes the marks ingestion left (community_levels/marks.py), then ONE pass over the daily
aggregates (`CREATE TEMP TABLE ... AS SELECT ... GROUP BY`, on PostgreSQL a statement of its own) sums
every metric and the program year's credited counts of each member in scope, and one `CREATE TEMP
TABLE` joins them to the members with both scores and the level (one CASE built from the ladder),
keeping the members whose values change and those of MA accounts. From that table: each changed member
row written once (levels included; no indexed column changes, so PostgreSQL writes it heap-only), the
level history (`INSERT ... SELECT`), the notifications (one set-based insert per kind) and
the credits (one upsert). The number of statements does not depend on the number of members, and a
full recompute that changes nothing writes (almost) nothing.
"""

# SQL here is built from table and column names fixed in this module; every value is a parameter.
# ruff: noqa: S608

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict

from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from community_levels.marks import marks_take
from community_levels.metrics import CONTRIBUTION_CODES, KINDS, METRICS
from community_levels.models import CommunityMember, DailyActivity, Level, LevelChange, RecomputeRun
from community_levels.rules import Rules, level_case_sql, load_rules, score_sql

logger = logging.getLogger(__name__)

# Table names come from the models (never typed): a renamed table changes the SQL with it.
MEMBER = CommunityMember._meta.db_table
DAILY = DailyActivity._meta.db_table
LEVELCHANGE = LevelChange._meta.db_table
LEVEL = Level._meta.db_table
EPOCH = date(1970, 1, 1)
# The members an incremental run takes (their marks), one row each: a temporary table of the session.
SCOPE = "community_recompute_scope"
# Every member in scope computed once (metrics, scores, level, the year's credited counts).
PLACED = "community_placed"
# The sums of each member's daily rows, from the one pass over them (PostgreSQL).
GROUPED = "community_grouped"
_TEMP = {"postgresql": "pg_temp.", "sqlite": "temp."}
# An incremental run of at most this many marked members reads their daily rows member by member (about
# 0.15 ms each) rather than in one pass over the table (about 0.4 s for the bench's 1.9M rows).
PER_MEMBER_UP_TO = 2500


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


def metrics_select_sql(
    rules: Rules,
    *,
    full: bool,
    year: tuple[int, int] | None = None,
    per_member: bool = False,
    grouped: str | None = None,
) -> tuple[str, list]:
    """One row per member in scope (everyone with `full`, else those in the run's scope table) with every
    metric and, with `year` (its first and past-last day), the year's count of each credited kind.

    The daily aggregates are grouped by member first (one pass; or read from the table `grouped` that
    `grouping_sql` filled) and only then joined to the members: an excluded member or one without
    activity gets zeros (and no counts).
    """
    aggregates, coded, params = _aggregates(rules, year=year)
    outer = [f"COALESCE(a.{metric.column}, 0) AS {metric.column}" for metric in METRICS]
    outer += [f"a.c{n}" for n in range(len(CONTRIBUTION_CODES) if year is not None else 0)]
    # What the member row holds now, to compare with (`o_`), from the same read of the member table.
    outer += ["m.user_id", "m.level_id AS old_level_id", "m.passive_score AS o_passive", "m.active_score AS o_active"]
    outer += [f"m.{metric.column} AS o_{metric.column}" for metric in METRICS]
    if per_member and not full and connection.vendor == "postgresql":
        per_member_rows = " WHERE r.member_id = m.id"
        # A few members: each one's daily rows through the unique index (the planner, which cannot know
        # how few rows those members have, would otherwise read the whole table to hash-join them).
        sql = (
            f"SELECT m.id AS mid, {', '.join(outer)} FROM {SCOPE} s JOIN {MEMBER} m ON m.id = s.member_id "
            f"LEFT JOIN LATERAL (SELECT {', '.join(aggregates)} FROM {coded.format(where=per_member_rows)}) a "
            "ON NOT m.is_excluded"
        )
        return sql, params
    if grouped is None:
        source, params = _grouping(aggregates, coded, full=full), params
    else:
        source, params = grouped, []
    sql = (
        f"SELECT m.id AS mid, {', '.join(outer)} FROM {MEMBER} m LEFT JOIN {source} a "
        f"ON a.member_id = m.id AND NOT m.is_excluded WHERE {'TRUE' if full else 'm.id ' + _IN_SCOPE}"
    )
    return sql, params


_IN_SCOPE = f"IN (SELECT member_id FROM {SCOPE})"


def grouping_sql(rules: Rules, *, full: bool, year: tuple[int, int] | None = None) -> tuple[str, list]:
    """The one pass over the daily rows of everyone (`full`) or of the scope's members: a row of sums per
    member with activity (columns named as the metrics, `c0`... the year's counts), excluded or not."""
    aggregates, coded, params = _aggregates(rules, year=year)
    return _grouping(aggregates, coded, full=full)[1:-1], params


def _grouping(aggregates: list[str], coded: str, *, full: bool) -> str:
    where = "" if full else f" WHERE r.member_id {_IN_SCOPE}"
    return f"(SELECT d.member_id, {', '.join(aggregates)} FROM {coded.format(where=where)} GROUP BY d.member_id)"


def _aggregates(rules: Rules, *, year: tuple[int, int] | None) -> tuple[list[str], str, list]:
    """The aggregates of one member's daily rows (`d`), the subquery `d` that gives each row's kind as a
    number (`{where}` left to fill), and the aggregates' parameters."""
    params: list = []
    # Each daily row's kind as a small number, found once per row (a hash join with the list of kinds); the
    # aggregates then compare integers and skip the rows of other kinds (FILTER) instead of comparing the
    # kind's text in every one of them: a fifth less CPU for the pass over all the daily rows.
    code = {kind: n for n, kind in enumerate(KINDS, start=1)}  # 0: a kind the ladder does not know
    visited = f"d.k <> {code['like_received']}"

    def total(kind: str) -> str:
        return f"SUM(d.quantity) FILTER (WHERE d.k = {code[kind]})"

    cap = rules.caps.get("likes_given")
    likes_given = "d.quantity" if cap is None else "CASE WHEN d.quantity > %s THEN %s ELSE d.quantity END"
    columns = {
        "member_days": f"MAX(d.day) FILTER (WHERE {visited}) - MIN(d.day) FILTER (WHERE {visited}) + 1",
        "days_visited": f"COUNT(DISTINCT d.day) FILTER (WHERE {visited})",
        "reading_minutes": f"SUM(d.minutes) FILTER (WHERE d.k IN ({code['visit']}, {code['read']}))",
        "pages_read": total("read"),
        "posts": total("post"),
        "replies": total("reply"),
        "articles": total("article"),
        "comments": total("comment"),
        "ideas": total("idea"),
        "accepted_solutions": total("accepted_solution"),
        "likes_given": f"SUM({likes_given}) FILTER (WHERE d.k = {code['like_given']})",
        "likes_received": total("like_received"),
    }
    if cap is not None:
        params.extend([cap, cap])
    # Only likes_given carries parameters among the metrics, so their order is the order of the SELECT list.
    # A metric without rows of its kind is NULL here and 0 once joined to the member (COALESCE).
    aggregates = [columns[metric.code] + f" AS {metric.column}" for metric in METRICS]
    if year is not None:
        # NULL where the member has no such activity in the year: no credit row at all, as no daily row.
        for n, kind in enumerate(CONTRIBUTION_CODES.values()):
            aggregates.append(
                f"SUM(d.quantity) FILTER (WHERE d.k = {code[kind]} AND d.day >= %s AND d.day < %s) AS c{n}"
            )
            params.extend(year)
    kinds = " UNION ALL ".join(f"SELECT '{kind}' AS kind, {n} AS k" for kind, n in code.items())
    coded = (
        f"(SELECT r.member_id, r.day, r.quantity, r.minutes, COALESCE(c.k, 0) AS k FROM {DAILY} r "
        f"LEFT JOIN ({kinds}) c ON c.kind = r.kind{{where}}) d"
    )
    return aggregates, coded, params


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
            # The history's references to levels are no foreign keys (migration 0018): every level is
            # locked before the rules are read, so none the run places members on or records can be
            # deleted before it commits (a deletion waits, then its guard refuses: the history refers to it).
            cursor.execute(f"SELECT 1 FROM {LEVEL} ORDER BY id FOR KEY SHARE")
    rules = load_rules()
    run = RecomputeRun.objects.create(started_at=now, full=full, reason=reason[:200], is_rule_change=is_rule_change)
    result = RecomputeResult(run_id=run.pk)
    program_year = _program_year(timezone.localdate(now))
    with connection.cursor() as cursor:
        # The members with new activity, whatever the mode: a later ingestion marks them again.
        dirty = _take_marks(cursor, full=full)
        if full or dirty:
            # Up to a few thousand members, reading each one's daily rows costs less than one pass over them all.
            per_member = not full and dirty <= PER_MEMBER_UP_TO
            _place(cursor, rules, full=full, program_year=program_year, per_member=per_member)
            result.written = _apply(cursor, run=run, now=now, reason=reason)
    if full or dirty:
        with connection.cursor() as cursor:
            result.changed, result.raised, result.lowered = _count_changes(cursor)
        _notify(run=run, is_rule_change=is_rule_change)
        if program_year is not None:
            _sync_contributions(program_year=program_year, today=timezone.localdate(now))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {_TEMP[connection.vendor]}{PLACED}")
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


def _take_marks(cursor, *, full: bool) -> int:
    """Take the marks; an incremental run puts the marked members in its scope table with the other
    members of their MA accounts (an account's credits add up all its members). Returns how many."""
    if full:
        return marks_take(cursor, None)
    postgres = connection.vendor == "postgresql"
    suffix = " ON COMMIT DELETE ROWS" if postgres else ""
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SCOPE} (member_id bigint PRIMARY KEY){suffix}")
    # Empty even inside an outer transaction (tests, a command's), where ON COMMIT has not fired yet.
    cursor.execute(f"TRUNCATE {SCOPE}" if postgres else f"DELETE FROM {SCOPE}")
    taken = marks_take(cursor, SCOPE)
    if taken:
        scoped = f"SELECT member_id FROM {SCOPE}"
        cursor.execute(
            f"INSERT INTO {SCOPE} (member_id) SELECT o.id FROM {MEMBER} o WHERE o.user_id IN "
            f"(SELECT m.user_id FROM {MEMBER} m WHERE m.user_id IS NOT NULL AND m.id IN ({scoped})) "
            f"AND o.id NOT IN ({scoped})"
        )
        if postgres:  # its size, for the plans that read the daily aggregates of these members only
            cursor.execute(f"ANALYZE {SCOPE}")
    return taken


def placed_sql(
    rules: Rules,
    *,
    full: bool,
    year: tuple[int, int] | None = None,
    per_member: bool = False,
    grouped: str | None = None,
) -> tuple[str, list]:
    """Metrics, both scores and the level (column `level_id`) of every member in scope, in one SELECT."""
    select_sql, select_params = metrics_select_sql(rules, full=full, year=year, per_member=per_member, grouped=grouped)
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


def _place(cursor, rules: Rules, *, full: bool, program_year, per_member: bool = False) -> None:
    """Compute every member in scope once, into the temporary table PLACED: the members whose metrics,
    scores or level change, with their level before (`old_level_id`), and the members of MA accounts
    (their year's counts, `c0`..., make the credits)."""
    year = None
    if program_year is not None:
        year = (_epoch_day(program_year.opens_on), _epoch_day(program_year.deadline))
    postgres = connection.vendor == "postgresql"
    grouped = None
    if postgres and not per_member:
        grouped = _group(cursor, rules, full=full, year=year)
    sql, params = placed_sql(rules, full=full, year=year, per_member=per_member, grouped=grouped)
    level_changed = "COALESCE(p.level_id, 0) <> COALESCE(p.old_level_id, 0)"
    changed = " OR ".join(
        [
            *(f"p.{metric.column} <> p.o_{metric.column}" for metric in METRICS),
            "p.passive <> p.o_passive",
            "p.active <> p.o_active",
            level_changed,
        ]
    )
    kept = [
        "mid",
        *(metric.column for metric in METRICS),
        "passive",
        "active",
        "level_id",
        "user_id",
        "old_level_id",
        *(f"c{n}" for n in range(len(CONTRIBUTION_CODES) if year else 0)),
    ]
    # Fenced (OFFSET 0) as in placed_sql: flattened into this statement, the ladder's CASE behind `level_id`
    # would run once per reference (the filter, the column and both comparisons) and the comparisons twice.
    fence = " OFFSET 0" if postgres else ""
    cursor.execute(f"DROP TABLE IF EXISTS {_TEMP[connection.vendor]}{PLACED}")
    cursor.execute(
        f"CREATE TEMP TABLE {PLACED}{' ON COMMIT DROP' if postgres else ''} AS "
        f"SELECT {', '.join(f'q.{column}' for column in kept)}, q.changed, q.level_changed FROM "
        f"(SELECT p.*, ({changed}) AS changed, ({level_changed}) AS level_changed FROM ({sql}{fence}) p{fence}) q "
        "WHERE q.user_id IS NOT NULL OR q.changed",
        params,
    )
    if grouped is not None:
        cursor.execute(f"DROP TABLE {_TEMP[connection.vendor]}{grouped}")


def _group(cursor, rules: Rules, *, full: bool, year: tuple[int, int] | None) -> str:
    """The one pass over the daily rows (PostgreSQL), into the temporary table GROUPED; returns its name.

    A statement of its own so that it alone is compiled (JIT, without inlining): the per-row work of its
    18 aggregates runs a fifth faster compiled, for 0.13 s of compiling, where compiling the statement
    that places the members (scores, the ladder's CASE, the comparisons) would cost a second.
    """
    sql, params = grouping_sql(rules, full=full, year=year)
    cursor.execute(f"DROP TABLE IF EXISTS {_TEMP[connection.vendor]}{GROUPED}")
    # Every daily row of everyone: read in the unique index's order, each row is a random visit to the
    # heap (twice as slow as reading the table in order and sorting it).
    if full:
        cursor.execute("SET LOCAL enable_indexscan = off")
    cursor.execute("SET LOCAL jit = on")
    cursor.execute("SET LOCAL jit_inline_above_cost = -1")
    cursor.execute(f"CREATE TEMP TABLE {GROUPED} ON COMMIT DROP AS {sql}", params)
    cursor.execute("SET LOCAL jit = off")
    if full:
        cursor.execute("SET LOCAL enable_indexscan = on")
    return GROUPED


def _apply(cursor, *, run: RecomputeRun, now: datetime, reason: str) -> int:
    """Each changed member row written once, then the level history; returns how many rows were written.

    The member rows first: their row locks keep the members whose history follows from being deleted
    before the run commits (the history's member is no foreign key, migration 0018).
    """
    assignments = ", ".join(f"{metric.column} = p.{metric.column}" for metric in METRICS)
    cursor.execute(
        f"UPDATE {MEMBER} SET {assignments}, passive_score = p.passive, active_score = p.active, "
        f"level_id = p.level_id, level_changed_at = CASE WHEN p.level_changed THEN %s ELSE level_changed_at END "
        f"FROM {PLACED} p WHERE {MEMBER}.id = p.mid AND p.changed",
        [now],
    )
    written = cursor.rowcount
    cursor.execute(
        f"INSERT INTO {LEVELCHANGE} (member_id, run_id, from_level_id, to_level_id, changed_at, reason) "
        f"SELECT mid, %s, old_level_id, level_id, %s, %s FROM {PLACED} "
        f"WHERE level_changed AND level_id IS NOT NULL ORDER BY mid",
        [run.pk, now, (reason or _("New community activity"))[:200]],
    )
    return written


# The run's changes of level as its history records them (`_apply`), read from PLACED, which holds them
# beside each member's account, not from the history rows just written (a member lookup per row).
_CHANGES = (
    f"FROM {PLACED} p JOIN {LEVEL} t ON t.id = p.level_id LEFT JOIN {LEVEL} f ON f.id = p.old_level_id "
    "WHERE p.level_changed"
)


def _count_changes(cursor) -> tuple[int, int, int]:
    """How many members changed level, were raised and were lowered (a first level is neither)."""
    cursor.execute(
        f"SELECT COUNT(*), COUNT(*) FILTER (WHERE t.rank > f.rank), COUNT(*) FILTER (WHERE t.rank < f.rank) {_CHANGES}"
    )
    changed, raised, lowered = cursor.fetchone()
    return changed, raised, lowered


def _notify(*, run: RecomputeRun, is_rule_change: bool) -> None:
    """Tell MAs about a level-up (once per level) and about a level lowered by a rule change.

    One read of the run's changes (in the history's order) and one set-based insert per kind (accounts'
    outbox emails them).
    """
    from accounts.services import notifications_create_many

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.user_id, p.level_id, f.name, t.name, f.rank, t.rank {_CHANGES} "
            "AND p.user_id IS NOT NULL AND f.id IS NOT NULL ORDER BY p.mid"
        )
        changes = cursor.fetchall()
    ups: _Notifications = {"user_ids": [], "titles": [], "bodies": [], "dedupe_keys": []}
    lowered: _Notifications = {"user_ids": [], "titles": [], "bodies": [], "dedupe_keys": []}
    # Each text translated once, then filled in per change (thousands of level-ups in a full recompute).
    up_title = _("You reached %(level)s in the community")
    up_body = _("Your community activity moved you from %(from)s to %(to)s. See what the next level needs.")
    lowered_title = _("The community level rules changed: you are now %(level)s")
    lowered_body = _(
        "The program team changed the level criteria. Your level moved from %(from)s to %(to)s; "
        "your activity itself is unchanged."
    )
    for user_id, to_level_id, from_name, to_name, from_rank, to_rank in changes:
        names = {"from": from_name, "to": to_name}
        if to_rank > from_rank:
            ups["user_ids"].append(user_id)
            ups["titles"].append(up_title % {"level": to_name})
            ups["bodies"].append(up_body % names)
            ups["dedupe_keys"].append(f"community-level-up:{to_level_id}")
        elif is_rule_change:
            lowered["user_ids"].append(user_id)
            lowered["titles"].append(lowered_title % {"level": to_name})
            lowered["bodies"].append(lowered_body % names)
            lowered["dedupe_keys"].append(f"community-level-rule:{run.pk}")
    me = reverse("community_levels:me")
    notifications_create_many(kind="community.level_up", url=me, **ups)
    notifications_create_many(kind="community.level_changed", url=me, **lowered)


def _epoch_day(day: date) -> int:
    return (day - EPOCH).days


def _program_year(today: date):
    from contributions.services import program_year_for_date

    return program_year_for_date(day=today)


def _sync_contributions(*, program_year, today: date) -> int:
    """Auto-tracked contributions of the current program year for the MAs among the placed members.

    A full recompute syncs every linked MA (the program year may have turned), the incremental one
    those with new activity. The year's counts were summed in the same pass as the metrics (PLACED's
    `c0`...); on PostgreSQL they go straight into the contributions' upsert (one statement, only new or
    changed credits written).
    """
    from contributions.services import contributions_sync_community, contributions_sync_community_query

    # One row per credited kind (its column in PLACED and its activity type's code).
    kinds = " UNION ALL ".join(f"SELECT {n} AS n, %s AS code" for n in range(len(CONTRIBUTION_CODES)))
    count = "CASE k.n " + " ".join(f"WHEN {n} THEN p.c{n}" for n in range(len(CONTRIBUTION_CODES))) + " END"
    counts_sql = (
        f"SELECT user_id, code, total FROM (SELECT p.user_id, k.code, SUM({count}) AS total FROM {PLACED} p "
        f"CROSS JOIN ({kinds}) k WHERE p.user_id IS NOT NULL GROUP BY p.user_id, k.code) t WHERE total IS NOT NULL"
    )
    params = list(CONTRIBUTION_CODES)
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
