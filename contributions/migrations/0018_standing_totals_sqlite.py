"""`StandingTotals` kept on SQLite too (`scripts/serve`'s embedded database): the year report reads it there.

Migration 0015's triggers are PostgreSQL's (statement triggers with transition tables, plpgsql); SQLite
has row triggers, so each written row recomputes its member-year (the old one and the new one on an
update of its counted columns), with 0015's arithmetic: per type, verified capped and pending up to
the headroom. A new cap (or year) of a type recomputes every member-year with contributions of it.
Existing rows are filled here. PostgreSQL: nothing to do (0015).
"""

# SQL built from fixed table and column names only; no values.
# ruff: noqa: S608

from django.db import migrations

COUNTED = "c.state NOT IN ('draft', 'withdrawn', 'rejected')"


def _refresh(where: str) -> str:
    """UPDATE the totals rows `where` selects from their own member-year's contributions."""
    per_type = (
        "SELECT c.activity_type_id, "
        "  SUM(CASE WHEN c.state = 'verified' THEN COALESCE(c.awarded_points, c.claimed_points) ELSE 0 END) AS v, "
        "  SUM(CASE WHEN c.state <> 'verified' THEN c.claimed_points ELSE 0 END) AS p "
        "FROM contributions_contribution c WHERE c.member_id = contributions_standingtotals.member_id "
        f"  AND c.program_year_id = contributions_standingtotals.program_year_id AND {COUNTED} "
        "GROUP BY c.activity_type_id"
    )
    joined = (
        f"FROM ({per_type}) t JOIN contributions_activitytype a "
        "ON a.id = t.activity_type_id AND a.program_year_id = contributions_standingtotals.program_year_id"
    )
    return (
        "UPDATE contributions_standingtotals SET "
        f"verified = COALESCE((SELECT SUM(min(t.v, COALESCE(a.annual_cap, t.v))) {joined}), 0), "
        "pending = COALESCE((SELECT SUM(CASE WHEN a.annual_cap IS NULL THEN t.p "
        f"  ELSE min(t.p, a.annual_cap - min(t.v, a.annual_cap)) END) {joined}), 0) "
        f"WHERE {where};"
    )


def _keep(row: str) -> str:
    """The statements that make `row`'s (NEW or OLD) member-year true."""
    return (
        "INSERT OR IGNORE INTO contributions_standingtotals (member_id, program_year_id, verified, pending) "
        f"VALUES ({row}.member_id, {row}.program_year_id, 0, 0); "
        + _refresh(f"member_id = {row}.member_id AND program_year_id = {row}.program_year_id")
    )


CHANGED = " OR ".join(
    f"OLD.{column} IS NOT NEW.{column}"
    for column in ("state", "claimed_points", "awarded_points", "member_id", "program_year_id", "activity_type_id")
)
TRIGGERS = [
    f"CREATE TRIGGER contributions_standing_insert AFTER INSERT ON contributions_contribution BEGIN {_keep('NEW')} END",
    "CREATE TRIGGER contributions_standing_update AFTER UPDATE ON contributions_contribution "
    f"WHEN {CHANGED} BEGIN {_keep('OLD')} {_keep('NEW')} END",
    f"CREATE TRIGGER contributions_standing_delete AFTER DELETE ON contributions_contribution BEGIN {_keep('OLD')} END",
    "CREATE TRIGGER contributions_standing_type_change AFTER UPDATE OF annual_cap, program_year_id "
    "ON contributions_activitytype "
    "WHEN OLD.annual_cap IS NOT NEW.annual_cap OR OLD.program_year_id IS NOT NEW.program_year_id BEGIN "
    + _refresh(
        "EXISTS (SELECT 1 FROM contributions_contribution c WHERE c.activity_type_id = NEW.id "
        "AND c.member_id = contributions_standingtotals.member_id "
        "AND c.program_year_id = contributions_standingtotals.program_year_id)"
    )
    + " END",
]
FILL = [
    "INSERT OR IGNORE INTO contributions_standingtotals (member_id, program_year_id, verified, pending) "
    "SELECT DISTINCT member_id, program_year_id, 0, 0 FROM contributions_contribution",
    _refresh("1 = 1"),
]
UNDO = [
    f"DROP TRIGGER IF EXISTS contributions_standing_{name}" for name in ("insert", "update", "delete", "type_change")
]


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            for statement in [*TRIGGERS, *FILL]:
                cursor.execute(statement)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            for statement in UNDO:
                cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("contributions", "0017_standing_refresh_once")]

    operations = [migrations.RunPython(triggers_create, triggers_drop)]
