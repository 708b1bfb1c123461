"""PostgreSQL's standing triggers insert a row into `StandingChange` instead of adding one to a slot.

An update of a slot row held its lock until the writer committed: a community recompute (seconds, one
transaction) made every other session of the same slot wait to write a contribution, and a transaction
that bumped before locking a member-year's totals could deadlock with one that locked them first. An
insert waits for nobody. The version becomes the slots' sum plus the rows here (`contributions.standing`
moves them into a slot now and then). The function keeps its name: every trigger of migrations 0020 and
0022 calls it. SQLite (one writer at a time) keeps its slot.
"""

# SQL built from the models' table names; no values.
# ruff: noqa: S608

from django.db import migrations, models

FUNCTION = "contributions_standing_changed"
SLOTS = 16


def _tables(apps, schema_editor) -> tuple[str, str]:
    quote = schema_editor.quote_name
    return (
        quote(apps.get_model("contributions", "StandingChange")._meta.db_table),
        quote(apps.get_model("contributions", "StandingVersion")._meta.db_table),
    )


def insert_instead(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    changes, _ = _tables(apps, schema_editor)
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN"
        f" INSERT INTO {changes} DEFAULT VALUES; RETURN NULL; END $fn$"
    )


def update_again(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    changes, version = _tables(apps, schema_editor)
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN"
        f" INSERT INTO {version} (slot, changes) VALUES (pg_backend_pid() % {SLOTS}, 1)"
        f" ON CONFLICT (slot) DO UPDATE SET changes = {version}.changes + 1;"
        " RETURN NULL; END $fn$",
        params=None,  # the % above is SQL's modulo, not a parameter
    )
    schema_editor.execute(  # the changes inserted meanwhile, kept in the version
        f"UPDATE {version} SET changes = changes + (SELECT COUNT(*) FROM {changes}) WHERE slot = 0"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0022_standing_version_rows"),
    ]

    operations = [
        migrations.CreateModel(
            name="StandingChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ],
        ),
        migrations.RunPython(insert_instead, update_again),
    ]
