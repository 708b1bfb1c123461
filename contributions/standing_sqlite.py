"""The year report's standing on SQLite: `scripts/serve`'s embedded database (the demo a newcomer opens).

`contributions.standing` builds the standing in PostgreSQL's SQL (array_agg, width_bucket, date
arithmetic, ::float8 casts) and reads `StandingTotals`, kept by PostgreSQL triggers; this module is the
same statement in SQLite's dialect, column for column and rule for rule, so the report, its filters, the
admin home page's counts and the roster's status filter work in the local run. PostgreSQL never reads it.
On SQLite the totals are kept by SQLite triggers (migration 0018, the same arithmetic per row written).

Differences of dialect only: dates are ISO text (julianday() for day counts, strftime for the month),
max()/min() with several arguments for GREATEST/LEAST, Django's CEILING function for CEIL, and the
requirements owed are counted with a subquery instead of width_bucket over the sorted due dates.
`tests/mahome/test_local_run_sqlite.py` checks on a fresh SQLite demo that it decides as `member_years`.
"""

# SQL here is built from table names of the models; every value is a parameter.
# ruff: noqa: S608

from datetime import date

from accounts.models import MACertification
from contributions import rules
from contributions.models import (
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    StandingTotals,
    TargetOverride,
    TechnicalRequirement,
)


def standing_sql_sqlite(
    *, program_year: ProgramYear, today: date, members_sql: str, members_params: tuple
) -> tuple[str, list]:
    """`standing._standing_sql` for SQLite: the same columns (id, last_name, first_name, email, opted_out,
    status) for every member `members_sql` selects, decided by the same rules."""
    totals, certification = StandingTotals._meta.db_table, MACertification._meta.db_table
    requirement, requirement_status = TechnicalRequirement._meta.db_table, RequirementStatus._meta.db_table
    override, opt_out, outcome = TargetOverride._meta.db_table, OptOut._meta.db_table, ReviewOutcome._meta.db_table
    opens, deadline, base = program_year.opens_on, program_year.deadline, program_year.target_points
    start = "max(%s, m.qualified_on)"  # rules.elapsed_share's start: max(opens, qualified_on); ISO text sorts
    params: list = [*members_params, program_year.pk, program_year.pk]
    # rules.prorated_target: full before the year opened, else daily or monthly share, rounded up.
    params += [opens, base, program_year.prorating_method == rules.DAILY, base, deadline, deadline, opens, base]
    # rules.elapsed_share.
    params += [deadline, opens, today, deadline, today, opens, today, opens, deadline, opens]
    params += [program_year.pk]
    params += [rules.OPTED_OUT, rules.MET]
    params += [today, rules.NEW_MEMBER_DAYS - 1, rules.ON_TRACK, rules.AT_RISK]
    params += [program_year.pk, program_year.pk, program_year.pk]
    sql = (
        f"WITH members AS ({members_sql}), "
        # rules.requirement_owed: a requirement due before the member qualified is not owed.
        f"met AS (SELECT s.member_id AS id, COUNT(*) AS n FROM {requirement_status} s "
        f"  JOIN {requirement} r ON r.id = s.requirement_id AND r.program_year_id = %s "
        f"  JOIN {certification} c ON c.user_id = s.member_id AND r.due_on >= c.qualified_on "
        f"  WHERE s.met_on IS NOT NULL GROUP BY s.member_id), "
        f"figures AS (SELECT m.*, COALESCE(tt.verified, 0) AS verified, COALESCE(tt.pending, 0) AS pending, "
        f"  (SELECT COUNT(*) FROM {requirement} r WHERE r.program_year_id = %s AND r.due_on >= m.qualified_on) "
        f"    AS owed, "
        f"  CASE WHEN m.qualified_on < %s THEN %s "
        f"    WHEN %s THEN CAST(CEILING(%s * max(0, julianday(%s) - julianday(m.qualified_on)) "
        f"      / (julianday(%s) - julianday(%s))) AS INTEGER) "
        f"    ELSE CAST(CEILING(%s * (13 - CAST(strftime('%%m', m.qualified_on) AS INTEGER)) / 12.0) AS INTEGER) "
        f"  END AS target, "
        f"  CASE WHEN julianday(%s) - julianday({start}) <= 0 OR %s >= %s THEN 1.0 "
        f"    WHEN %s <= {start} THEN 0.0 "
        f"    ELSE (julianday(%s) - julianday({start})) / (julianday(%s) - julianday({start})) "
        f"  END AS share "
        f"  FROM members m LEFT JOIN {totals} tt ON tt.member_id = m.id AND tt.program_year_id = %s) "
        # rules.status_for, in the same order.
        f"SELECT f.id, f.last_name, f.first_name, f.email, oo.id IS NOT NULL AS opted_out, "
        f"  CASE WHEN ro.outcome IS NOT NULL THEN ro.outcome WHEN oo.id IS NOT NULL THEN %s "
        f"    WHEN f.verified >= COALESCE(o.target_points, f.target) AND COALESCE(met.n, 0) >= f.owed THEN %s "
        # rules.is_new_member: settling in for NEW_MEMBER_DAYS, on track whatever the pace.
        f"    WHEN (julianday(%s) - julianday(f.qualified_on)) BETWEEN 0 AND %s "
        f"      OR f.verified + f.pending >= COALESCE(o.target_points, f.target) * f.share THEN %s "
        f"    ELSE %s END AS status "
        f"FROM figures f LEFT JOIN {override} o ON o.member_id = f.id AND o.program_year_id = %s "
        f"LEFT JOIN {opt_out} oo ON oo.member_id = f.id AND oo.program_year_id = %s "
        f"LEFT JOIN {outcome} ro ON ro.member_id = f.id AND ro.program_year_id = %s "
        f"LEFT JOIN met ON met.id = f.id"
    )
    return sql, params
