"""Every MA's standing in a program year as one SQL statement: the report's counts, filters and pages.

`selectors.member_years` decides one member's standing in Python (`rules.prorated_target`,
`rules.capped`, `rules.elapsed_share`, `rules.status_for`); the year report needs the status of
every MA (10,000 and more) to count them by status, filter by status and show one page. Here the
same arithmetic runs in PostgreSQL over contributions, overrides, requirement statuses, opt-outs
and outcomes, so the report reads one page of ids and computes the full `MemberYear` (with its
type totals and requirements) for those rows only. `tests/contributions/test_standing.py` checks
row by row that both decide the same way; a change to one of the rules changes both.

Why computed and not a standing table maintained on each write: the status depends on today
(the pace line moves every day, "on track" turns "at risk" without any write), and the inputs are
written by five services (decisions, overrides, requirements, opt-outs, the review). One indexed
GROUP BY over the year's contributions is milliseconds at 100,000 contributions, always current,
and has no second copy to drift.
"""

# SQL here is built from table names of the models; every value is a parameter.
# ruff: noqa: S608

from datetime import date

from django.db import connection

from accounts.models import MACertification, User
from contributions import rules
from contributions.models import (
    ActivityType,
    Contribution,
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    TargetOverride,
    TechnicalRequirement,
)


def _standing_sql(
    *, program_year: ProgramYear, today: date, eligible_sql: str, eligible_params: tuple, search: str
) -> tuple[str, list]:
    """SELECT id, last_name, first_name, email, opted_out, status for every eligible member."""
    user, certification = User._meta.db_table, MACertification._meta.db_table
    contribution, activity_type = Contribution._meta.db_table, ActivityType._meta.db_table
    requirement, requirement_status = TechnicalRequirement._meta.db_table, RequirementStatus._meta.db_table
    override, opt_out, outcome = TargetOverride._meta.db_table, OptOut._meta.db_table, ReviewOutcome._meta.db_table
    State = Contribution.State
    opens, deadline, base = program_year.opens_on, program_year.deadline, program_year.target_points
    search_sql = ""
    params: list = [*eligible_params]
    if search:
        search_sql = "AND (u.email ILIKE %s OR u.first_name ILIKE %s OR u.last_name ILIKE %s)"
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like, like]
    params += [State.VERIFIED, State.VERIFIED, program_year.pk, State.DRAFT, State.WITHDRAWN, State.REJECTED]
    params += [program_year.pk, program_year.pk]
    # rules.prorated_target: full before the year opened, else daily or monthly share, rounded up.
    params += [opens, base, program_year.prorating_method == rules.DAILY, base, deadline, deadline, opens, base]
    # rules.elapsed_share with start = max(opens, qualified_on).
    params += [deadline, opens, today, deadline, today, opens, today, opens, deadline, opens]
    params += [rules.OPTED_OUT, rules.MET, today, rules.NEW_MEMBER_DAYS - 1, rules.ON_TRACK, rules.AT_RISK]
    params += [program_year.pk, program_year.pk, program_year.pk]
    sql = (
        f"WITH members AS (SELECT u.id, u.last_name, u.first_name, u.email, c.qualified_on "
        f"  FROM {user} u JOIN {certification} c ON c.user_id = u.id WHERE u.id IN ({eligible_sql}) {search_sql}), "
        f"per_type AS (SELECT member_id, activity_type_id, "
        f"  COALESCE(SUM(CASE WHEN state = %s THEN COALESCE(awarded_points, claimed_points) END), 0) AS verified, "
        f"  COALESCE(SUM(CASE WHEN state <> %s THEN claimed_points END), 0) AS pending "
        f"  FROM {contribution} WHERE program_year_id = %s AND state NOT IN (%s, %s, %s) "
        f"  AND member_id IN (SELECT id FROM members) GROUP BY member_id, activity_type_id), "
        # rules.capped per type; pending only up to the type's remaining headroom.
        f"totals AS (SELECT p.member_id, SUM(LEAST(p.verified, COALESCE(t.annual_cap, p.verified))) AS verified, "
        f"  SUM(CASE WHEN t.annual_cap IS NULL THEN p.pending "
        f"  ELSE LEAST(p.pending, t.annual_cap - LEAST(p.verified, t.annual_cap)) END) AS pending "
        f"  FROM per_type p JOIN {activity_type} t ON t.id = p.activity_type_id AND t.program_year_id = %s "
        f"  GROUP BY p.member_id), "
        # rules.requirement_owed: a requirement due before the member qualified is not owed.
        f"unmet AS (SELECT m.id AS member_id, COUNT(*) AS n FROM members m "
        f"  JOIN {requirement} r ON r.program_year_id = %s AND r.due_on >= m.qualified_on "
        f"  LEFT JOIN {requirement_status} s ON s.requirement_id = r.id AND s.member_id = m.id "
        f"  AND s.met_on IS NOT NULL WHERE s.id IS NULL GROUP BY m.id), "
        f"figures AS (SELECT m.*, COALESCE(tt.verified, 0) AS verified, COALESCE(tt.pending, 0) AS pending, "
        f"  COALESCE(unmet.n, 0) = 0 AS requirements_met, "
        f"  CASE WHEN m.qualified_on < %s THEN %s "
        f"    WHEN %s THEN CEIL((%s * GREATEST(0, %s - m.qualified_on))::float8 / (%s - %s)::float8)::int "
        f"    ELSE CEIL((%s * (13 - EXTRACT(MONTH FROM m.qualified_on)::int))::float8 / 12)::int END AS target, "
        f"  CASE WHEN %s - GREATEST(%s, m.qualified_on) <= 0 OR %s >= %s THEN 1.0::float8 "
        f"    WHEN %s <= GREATEST(%s, m.qualified_on) THEN 0.0::float8 "
        f"    ELSE (%s - GREATEST(%s, m.qualified_on))::float8 / (%s - GREATEST(%s, m.qualified_on))::float8 "
        f"  END AS share "
        f"  FROM members m LEFT JOIN totals tt ON tt.member_id = m.id LEFT JOIN unmet ON unmet.member_id = m.id) "
        # rules.status_for, in the same order.
        f"SELECT f.id, f.last_name, f.first_name, f.email, oo.id IS NOT NULL AS opted_out, "
        f"  CASE WHEN ro.outcome IS NOT NULL THEN ro.outcome WHEN oo.id IS NOT NULL THEN %s "
        f"    WHEN f.verified >= COALESCE(o.target_points, f.target) AND f.requirements_met THEN %s "
        # rules.is_new_member: settling in for NEW_MEMBER_DAYS, on track whatever the pace.
        f"    WHEN (%s - f.qualified_on) BETWEEN 0 AND %s "
        f"      OR f.verified + f.pending >= COALESCE(o.target_points, f.target) * f.share THEN %s "
        f"    ELSE %s END AS status "
        f"FROM figures f LEFT JOIN {override} o ON o.member_id = f.id AND o.program_year_id = %s "
        f"LEFT JOIN {opt_out} oo ON oo.member_id = f.id AND oo.program_year_id = %s "
        f"LEFT JOIN {outcome} ro ON ro.member_id = f.id AND ro.program_year_id = %s"
    )
    return sql, params


def standing_rows(
    *, program_year: ProgramYear, today: date, status: str = "", opted_out: str = "", search: str = ""
) -> tuple[str, list]:
    """The standing of every eligible MA as SQL (filters applied): columns id, names, email, opted_out, status."""
    from contributions.selectors import eligible_members

    eligible = eligible_members(program_year=program_year).order_by().values("pk")
    eligible_sql, eligible_params = eligible.query.sql_with_params()
    inner, params = _standing_sql(
        program_year=program_year,
        today=today,
        eligible_sql=eligible_sql,
        eligible_params=eligible_params,
        search=search,
    )
    conditions = []
    if status:
        conditions.append("status = %s")
        params.append(status)
    if opted_out in rules.OptedOutFilter.values:
        conditions.append("opted_out" if opted_out == rules.OptedOutFilter.YES else "NOT opted_out")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT * FROM ({inner}) standing{where}", params


def status_counts(*, sql: str, params: list) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, COUNT(*) FROM ({sql}) rows GROUP BY status", params)
        return dict(cursor.fetchall())


def page_ids(*, sql: str, params: list, offset: int, limit: int) -> list[int]:
    """One page of member ids in the report's order (last name, first name, email)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM ({sql}) rows ORDER BY last_name, first_name, email LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]
