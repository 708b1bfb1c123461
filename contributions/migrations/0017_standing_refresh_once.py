# The standing refresh computes the totals of the member-years it was given ONCE, then writes them. In 0015
# the totals were a subquery on the inner side of a nested loop over the member-years (the planner guesses
# one row for unnest()), so it was grouped again for every member-year: a recompute that changed 671 community
# credits spent 3.5 s in the update trigger, growing with the square of the rows a statement writes.
# Same arithmetic, same locking; the totals are grouped by the given keys (a key without contributions: 0, 0).

from django.db import migrations

REFRESH = """
CREATE OR REPLACE FUNCTION contributions_standing_refresh(members bigint[], years bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    INSERT INTO contributions_standingtotals (member_id, program_year_id, verified, pending)
    SELECT DISTINCT k.m, k.y, 0, 0 FROM unnest(members, years) AS k(m, y) ORDER BY 1, 2
    ON CONFLICT (member_id, program_year_id) DO NOTHING;
    PERFORM 1 FROM contributions_standingtotals s
    WHERE (s.member_id, s.program_year_id) IN (SELECT k.m, k.y FROM unnest(members, years) AS k(m, y))
    ORDER BY s.member_id, s.program_year_id FOR UPDATE;
    WITH keys AS MATERIALIZED (SELECT DISTINCT k.m, k.y FROM unnest(members, years) AS k(m, y)),
    p AS MATERIALIZED (
        SELECT c.member_id, c.program_year_id, c.activity_type_id,
            COALESCE(SUM(CASE WHEN c.state = 'verified' THEN COALESCE(c.awarded_points, c.claimed_points) END), 0)
                AS verified,
            COALESCE(SUM(CASE WHEN c.state <> 'verified' THEN c.claimed_points END), 0) AS pending
        FROM contributions_contribution c JOIN keys ON c.member_id = keys.m AND c.program_year_id = keys.y
        WHERE c.state NOT IN ('draft', 'withdrawn', 'rejected')
        GROUP BY c.member_id, c.program_year_id, c.activity_type_id
    ),
    t AS MATERIALIZED (
        SELECT keys.m, keys.y,
            COALESCE(SUM(LEAST(pa.verified, COALESCE(pa.annual_cap, pa.verified))), 0) AS verified,
            COALESCE(SUM(CASE WHEN pa.annual_cap IS NULL THEN pa.pending
                ELSE LEAST(pa.pending, pa.annual_cap - LEAST(pa.verified, pa.annual_cap)) END), 0) AS pending
        FROM keys LEFT JOIN (
            SELECT p.*, a.annual_cap FROM p
            JOIN contributions_activitytype a ON a.id = p.activity_type_id AND a.program_year_id = p.program_year_id
        ) pa ON pa.member_id = keys.m AND pa.program_year_id = keys.y
        GROUP BY keys.m, keys.y
    )
    UPDATE contributions_standingtotals s SET verified = t.verified, pending = t.pending
    FROM t WHERE s.member_id = t.m AND s.program_year_id = t.y;
END
$fn$;
"""


def _original():
    from importlib import import_module

    return import_module("contributions.migrations.0015_standing_totals").REFRESH.split("CREATE OR REPLACE FUNCTION")


def refresh_replace(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(REFRESH)


def refresh_restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE OR REPLACE FUNCTION" + _original()[1])


class Migration(migrations.Migration):
    dependencies = [("contributions", "0016_standing_totals_message")]

    operations = [migrations.RunPython(refresh_replace, refresh_restore)]
