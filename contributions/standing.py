"""Every MA's standing in a program year as one SQL statement: the report's counts, filters and pages.

`selectors.member_years` decides one member's standing in Python (`rules.prorated_target`,
`rules.capped`, `rules.elapsed_share`, `rules.status_for`); the year report needs the status of
every MA (10,000 and more) to count them by status, filter by status and show one page. Here the
same arithmetic runs in PostgreSQL over contributions, overrides, requirement statuses, opt-outs
and outcomes, so the report counts every MA here and computes the full `MemberYear` (with its type
totals and requirements) for one page of rows only. Unfiltered by status, that page is read from an
index on the members' names (`selectors.report.report_page_members`, the same order as `page_ids`);
filtered by a status, its ids come from here (`counts_and_page`). `tests/contributions/test_standing.py` checks
row by row that both decide the same way; a change to one of the rules changes both.

The points come from `StandingTotals`, one row per member-year that PostgreSQL keeps on every write of
a contribution (triggers of migration 0015); everything else is computed here on each read. Why this
split: the status depends on today (the pace line moves every day, "on track" turns "at risk"
without any write), so it cannot be stored; the overrides, opt-outs, outcomes and requirement
statuses are small tables joined in milliseconds. The one costly input is the year's contributions:
grouping them per member and type on every page view read ~120,000 rows for 10,000 MAs (0.35-0.8 s on
the benchmark database, most of the page's time), while the maintained totals are one row per MA.
They are kept by triggers, not by the services, because contributions are written by five services,
the admin and set-based SQL (community credits, imports); a trigger sees every one of them, and a
bulk statement recomputes each member-year it touched once. `tests/contributions/test_standing.py`
checks that SQL and Python decide the same way member by member, and that the totals follow every
kind of write, concurrent ones included.

On SQLite (`scripts/serve`'s embedded database) the same statement in SQLite's dialect comes from
`contributions.standing_sqlite`, and SQLite triggers keep the totals (migration 0018).

The counts by status are stored (`StatusCounts`) under the standing's version, which triggers on every
input move (migrations 0020, 0022), and served again until it moves or the day turns:
`stored_status_counts` says why that is exact and why not a standing table.
"""

# SQL here is built from table names of the models; every value is a parameter.
# ruff: noqa: S608

import hashlib
import json
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import MACertification
from contributions import rules
from contributions.models import (
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    StandingTotals,
    StandingVersion,
    StatusCounts,
    TargetOverride,
    TechnicalRequirement,
)
from contributions.selectors.members import certified_in, members_matching
from contributions.standing_sqlite import standing_sql_sqlite


def _standing_sql(
    *, program_year: ProgramYear, today: date, members_sql: str, members_params: tuple
) -> tuple[str, list]:
    """SELECT id, last_name, first_name, email, opted_out, status for every member `members_sql` selects
    (columns id, last_name, first_name, email, qualified_on)."""
    totals, certification = StandingTotals._meta.db_table, MACertification._meta.db_table
    requirement, requirement_status = TechnicalRequirement._meta.db_table, RequirementStatus._meta.db_table
    override, opt_out, outcome = TargetOverride._meta.db_table, OptOut._meta.db_table, ReviewOutcome._meta.db_table
    opens, deadline, base = program_year.opens_on, program_year.deadline, program_year.target_points
    params: list = [*members_params, program_year.pk, program_year.pk]
    # rules.prorated_target: full before the year opened, else daily or monthly share, rounded up.
    params += [opens, base, program_year.prorating_method == rules.DAILY, base, deadline, deadline, opens, base]
    # rules.elapsed_share with start = max(opens, qualified_on): for the members who qualified before the
    # year opened (nearly all) the start is the year's, so their share is the rule's own, computed once here.
    params += [opens, rules.elapsed_share(today=today, start=opens, deadline=deadline)]
    params += [deadline, opens, today, deadline, today, opens, today, opens, deadline, opens]
    params += [program_year.pk, program_year.pk, program_year.pk, program_year.pk]
    params += [rules.OPTED_OUT, rules.MET]
    # rules.is_new_member: 0 <= (today - qualified_on).days < NEW_MEMBER_DAYS, as bounds on the date.
    params += [today - timedelta(days=rules.NEW_MEMBER_DAYS - 1), today, rules.ON_TRACK, rules.AT_RISK]
    sql = (
        f"WITH members AS ({members_sql}), "
        # rules.requirement_owed: a requirement due before the member qualified is not owed. A member has
        # met every owed requirement when the met ones due on or after qualifying are as many as those
        # owed; those owed are counted from the year's sorted due dates (width_bucket: how many are due
        # before qualifying), so the work grows with the met requirements, not with members × requirements.
        f"dues AS (SELECT COALESCE(array_agg(due_on ORDER BY due_on), '{{}}') AS dates FROM {requirement} "
        f"  WHERE program_year_id = %s), "
        f"met AS (SELECT s.member_id AS id, COUNT(*) AS n FROM {requirement_status} s "
        f"  JOIN {requirement} r ON r.id = s.requirement_id AND r.program_year_id = %s "
        f"  JOIN {certification} c ON c.user_id = s.member_id AND r.due_on >= c.qualified_on "
        f"  WHERE s.met_on IS NOT NULL GROUP BY s.member_id), "
        f"figures AS (SELECT m.*, COALESCE(tt.verified, 0) AS verified, COALESCE(tt.pending, 0) AS pending, "
        f"  CASE WHEN m.qualified_on < %s THEN %s "
        f"    WHEN %s THEN CEIL((%s * GREATEST(0, %s - m.qualified_on))::float8 / (%s - %s)::float8)::int "
        f"    ELSE CEIL((%s * (13 - EXTRACT(MONTH FROM m.qualified_on)::int))::float8 / 12)::int END AS target, "
        f"  CASE WHEN m.qualified_on < %s THEN %s::float8 "
        f"    WHEN %s - GREATEST(%s, m.qualified_on) <= 0 OR %s >= %s THEN 1.0::float8 "
        f"    WHEN %s <= GREATEST(%s, m.qualified_on) THEN 0.0::float8 "
        f"    ELSE (%s - GREATEST(%s, m.qualified_on))::float8 / (%s - GREATEST(%s, m.qualified_on))::float8 "
        f"  END AS share "
        f"  FROM members m LEFT JOIN {totals} tt ON tt.member_id = m.id AND tt.program_year_id = %s), "
        # The few members with a record of the year (an override, an opt-out, an outcome, a met requirement;
        # each at most one per member and year) in one row each: one join of the members to this small set
        # instead of four (the four joins cost ~5 ms over 10,000 MAs, as much as everything else but the
        # members' own scan).
        f"records AS (SELECT id, MAX(target_points) AS target_points, BOOL_OR(opted_out) AS opted_out, "
        f"  MAX(outcome) AS outcome, MAX(met) AS met FROM ("
        f"  SELECT member_id AS id, target_points, FALSE AS opted_out, NULL AS outcome, NULL::bigint AS met "
        f"    FROM {override} WHERE program_year_id = %s "
        f"  UNION ALL SELECT member_id, NULL, TRUE, NULL, NULL FROM {opt_out} WHERE program_year_id = %s "
        f"  UNION ALL SELECT member_id, NULL, FALSE, outcome, NULL FROM {outcome} WHERE program_year_id = %s "
        f"  UNION ALL SELECT id, NULL, FALSE, NULL, n FROM met) kinds GROUP BY id) "
        # rules.status_for, in the same order.
        f"SELECT f.id, f.last_name, f.first_name, f.email, COALESCE(rec.opted_out, FALSE) AS opted_out, "
        f"  CASE WHEN rec.outcome IS NOT NULL THEN rec.outcome WHEN rec.opted_out THEN %s "
        f"    WHEN f.verified >= COALESCE(rec.target_points, f.target) AND COALESCE(rec.met, 0) >= "
        f"      cardinality(dues.dates) - width_bucket(f.qualified_on - 1, dues.dates) THEN %s "
        # rules.is_new_member: settling in for NEW_MEMBER_DAYS, on track whatever the pace.
        f"    WHEN f.qualified_on BETWEEN %s AND %s "
        f"      OR f.verified + f.pending >= COALESCE(rec.target_points, f.target) * f.share THEN %s "
        f"    ELSE %s END AS status "
        f"FROM figures f LEFT JOIN records rec ON rec.id = f.id CROSS JOIN dues"
    )
    return sql, params


def standing_rows(
    *, program_year: ProgramYear, today: date, status: str = "", opted_out: str = "", search: str = ""
) -> tuple[str, list]:
    """The standing of every eligible MA as SQL (filters applied): columns id, names, email, opted_out, status."""
    members_sql, members_params = _members_sql(program_year=program_year, search=search)
    # SQLite (the local run's embedded database) has its own dialect: `contributions.standing_sqlite`.
    build = _standing_sql if connection.vendor == "postgresql" else standing_sql_sqlite
    inner, params = build(
        program_year=program_year, today=today, members_sql=members_sql, members_params=members_params
    )
    conditions = []
    if status:
        conditions.append("status = %s")
        params.append(status)
    if opted_out in rules.OptedOutFilter.values:
        conditions.append("opted_out" if opted_out == rules.OptedOutFilter.YES else "NOT opted_out")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT * FROM ({inner}) standing{where}", params


def _members_sql(*, program_year: ProgramYear, search: str) -> tuple[str, tuple]:
    """The SQL of the year's MAs the search keeps (columns id, names, email, qualified_on), compiled by the
    ORM once per process for each state of the year and search: compiling it cost ~1 ms of a report page
    served from the stored counts (~25 ms). The key holds every column of the year, so the SQL is always
    the one `certified_in` builds for the year as it is now."""
    fields = tuple((f.attname, f.value_from_object(program_year)) for f in ProgramYear._meta.concrete_fields)
    return _members_sql_compiled(connection.vendor, fields, search)


@lru_cache(maxsize=64)
def _members_sql_compiled(vendor: str, fields: tuple, search: str) -> tuple[str, tuple]:
    members = members_matching(certified_in(program_year=ProgramYear(**dict(fields))), search=search)
    columns = members.order_by().values(
        "id", "last_name", "first_name", "email", qualified_on=F("certification__qualified_on")
    )
    return columns.query.sql_with_params()


def status_counts(*, sql: str, params: list) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, COUNT(*) FROM ({sql}) rows GROUP BY status", params)
        return dict(cursor.fetchall())


# The trigger function of migration 0020 that bumps the standing's version (its tests look its tables up).
VERSION_FUNCTION = "contributions_standing_changed"
# A stored count older than this is of a past day (the fingerprint holds today): deleted when counts are stored.
STORED_COUNTS_KEPT = timedelta(days=2)


def stored_status_counts(*, sql: str, params: list) -> dict[str, int]:
    """`status_counts`, served from `StatusCounts` while nothing the standing reads has changed (issue 16).

    Why: counting 10,000 MAs by status is the report's (and the admin home's) one costly statement,
    14-18 ms on the benchmark database, and its answer changes only on a write of one of its inputs or
    when the day changes. A standing table kept on each write (the other way the issue names) would
    still compute the pace, which moves every day, on each read, and would need triggers on the same
    tables that recompute member-years; here each write only counts itself.

    The key: the MD5 of the standing's SQL and parameters (so the year, today, the rules' constants, the
    filters and the code of the statement), and the standing's version (`StandingVersion`): the sum of
    the changes that triggers add on every statement writing a table the standing reads (migration 0020,
    `tests/contributions/test_status_counts_store.py` checks that the SQL reads no other table).
    Why it is exact:
    - the version and the counts it is stored with come from one statement, so one snapshot: the counts
      are those of the version (a hit reads the version and the stored row in one statement too);
    - a committed write adds at least one to the sum and no change is ever taken back, and every later
      snapshot sees every commit an earlier one saw: the same version means the same committed writes;
    - inside a transaction (`atomic`, or autocommit turned off) nothing is read from or stored into the
      store: its own uncommitted writes count in its version, and a row it stored would hold up the
      other readers storing the same counts until it ends; the page views run in autocommit.
    The users' names and emails move the version too (migration 0022: the report's rows show them), but
    a search's counts are never stored (it is seldom the same twice). The store is a table of the same
    database as the version, so a restore or a flush (the tests') puts both back together: stored counts
    never outlive the version they were counted at.
    """
    return counts_and_state(sql=sql, params=params)[0]


def counts_and_state(*, sql: str, params: list) -> tuple[dict[str, int], str | None]:
    """`stored_status_counts`, and a name of the state of every input of the standing they were counted at
    (the fingerprint, the version, and when they were stored: a flushed or restored database stores
    anew), to key what else is computed from the same inputs (`selectors.report`'s page rows); None
    inside a transaction, where nothing is stored."""
    if connection.in_atomic_block or not connection.get_autocommit():
        return status_counts(sql=sql, params=params), None
    fingerprint = hashlib.md5(repr((sql, params)).encode(), usedforsecurity=False).hexdigest()
    store, version = StatusCounts._meta.db_table, StandingVersion._meta.db_table
    current = f"(SELECT COALESCE(SUM(changes), 0) FROM {version})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT counts, version, stored_at FROM {store} WHERE fingerprint = %s AND version = {current}",
            [fingerprint],
        )
        stored = cursor.fetchone()
        if stored is not None:
            return json.loads(stored[0]), _state(fingerprint, stored[1], stored[2])
        cursor.execute(
            f"SELECT v.n, c.status, c.n FROM (SELECT {current} AS n) v LEFT JOIN "
            f"(SELECT status, COUNT(*) AS n FROM ({sql}) rows GROUP BY status) c ON TRUE",
            params,
        )
        rows = cursor.fetchall()
        counts = {status: n for _, status, n in rows if status is not None}
        now = timezone.now()
        cursor.execute(
            f"INSERT INTO {store} (fingerprint, version, counts, stored_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (fingerprint) DO UPDATE SET version = excluded.version, counts = excluded.counts, "
            "stored_at = excluded.stored_at",
            [fingerprint, rows[0][0], json.dumps(counts), now],
        )
        cursor.execute(f"DELETE FROM {store} WHERE stored_at < %s", [now - STORED_COUNTS_KEPT])
    return counts, _state(fingerprint, rows[0][0], now)


def _state(fingerprint: str, version: int, stored_at: datetime | str) -> str:
    if isinstance(stored_at, str):  # SQLite gives back the text it stored
        stored_at = parse_datetime(stored_at) or timezone.now()
    return f"{fingerprint}:{version}:{stored_at:%Y%m%d%H%M%S%f}"


def page_ids(*, sql: str, params: list, offset: int, limit: int) -> list[int]:
    """One page of member ids in the report's order (last name, first name, email)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM ({sql}) rows ORDER BY last_name, first_name, email LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]


def counts_and_page(*, sql: str, params: list, offset: int, limit: int) -> tuple[dict[str, int], list[int]]:
    """The status counts and one page of member ids (the report's order) in one statement: the standing
    is computed once for both (the report filtered by a status; unfiltered, `status_counts` alone and the
    page from the index on the names cost ~7 ms less: no materialized standing to sort)."""
    if connection.vendor != "postgresql":  # SQLite (the local run): two statements, no json_object_agg/ARRAY
        return status_counts(sql=sql, params=params), page_ids(sql=sql, params=params, offset=offset, limit=limit)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH standing AS MATERIALIZED ({sql}) "
            "SELECT (SELECT json_object_agg(status, n) FROM "
            "  (SELECT status, COUNT(*) AS n FROM standing GROUP BY status) counted), "
            "ARRAY(SELECT id FROM standing ORDER BY last_name, first_name, email LIMIT %s OFFSET %s)",
            [*params, limit, offset],
        )
        counts, ids = cursor.fetchone()
    return counts or {}, list(ids)
