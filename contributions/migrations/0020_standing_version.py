"""The standing's version and the status counts stored under it (`contributions.standing` explains both).

Every table the year's standing reads gets a trigger that adds one to the version when a statement writes
it; the counts computed at a version are served again until it moves. On PostgreSQL the trigger runs once
per statement (a bulk write bumps once), into the slot of the writer's session, so that two sessions
seldom wait on one row; on SQLite (the local run: one writer at a time) once per row, into one slot.
The users' table bumps only when `is_active` changes (a sign-in writes `last_login`, a profile its names:
neither decides who is counted) or a user is deleted.
"""

# SQL built from the models' table names; no values.
# ruff: noqa: S608

from django.db import migrations, models

FUNCTION = "contributions_standing_changed"
SLOTS = 16
# The tables whose every write may change a status or who is counted: (app, model).
READ = [
    ("accounts", "MACertification"),
    ("contributions", "ProgramYear"),
    ("contributions", "TechnicalRequirement"),
    ("contributions", "RequirementStatus"),
    ("contributions", "TargetOverride"),
    ("contributions", "OptOut"),
    ("contributions", "ReviewOutcome"),
    ("contributions", "StandingTotals"),
]


def _tables(apps, schema_editor) -> tuple[str, str, list[str]]:
    def table(app: str, model: str) -> str:
        return schema_editor.quote_name(apps.get_model(app, model)._meta.db_table)

    return table("contributions", "StandingVersion"), table("accounts", "User"), [table(*name) for name in READ]


def _trigger(table: str, suffix: str = "") -> str:
    """The trigger's name: its table's (quoted) with `_standing_version` and `suffix` after it."""
    return f'"{table.strip(chr(34))}_standing_version{suffix}"'


def triggers_create(apps, schema_editor):
    version, user, read = _tables(apps, schema_editor)
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run(
            f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN"
            f" INSERT INTO {version} (slot, changes) VALUES (pg_backend_pid() % {SLOTS}, 1)"
            f" ON CONFLICT (slot) DO UPDATE SET changes = {version}.changes + 1;"
            " RETURN NULL; END $fn$",
            params=None,  # the % above is SQL's modulo, not a parameter
        )
        for table in read:
            run(
                f"CREATE TRIGGER {_trigger(table)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        run(
            f"CREATE TRIGGER {_trigger(user)} AFTER DELETE OR TRUNCATE ON {user}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
        run(
            f"CREATE TRIGGER {_trigger(user, '_active')} AFTER UPDATE OF is_active ON {user} FOR EACH ROW"
            f" WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active) EXECUTE FUNCTION {FUNCTION}()"
        )
        run(f"INSERT INTO {version} (slot, changes) SELECT slot, 0 FROM generate_series(0, {SLOTS - 1}) slot")
    elif schema_editor.connection.vendor == "sqlite":
        bump = f"INSERT INTO {version} (slot, changes) VALUES (0, 1) ON CONFLICT (slot) DO UPDATE SET changes = changes + 1;"
        for table in read:
            for operation in ("INSERT", "UPDATE", "DELETE"):
                name = _trigger(table, "_" + operation.lower())
                run(f"CREATE TRIGGER {name} AFTER {operation} ON {table} BEGIN {bump} END")
        run(f"CREATE TRIGGER {_trigger(user, '_delete')} AFTER DELETE ON {user} BEGIN {bump} END")
        run(
            f"CREATE TRIGGER {_trigger(user, '_active')} AFTER UPDATE OF is_active ON {user}"
            f" WHEN OLD.is_active IS NOT NEW.is_active BEGIN {bump} END"
        )
        run(f"INSERT INTO {version} (slot, changes) VALUES (0, 0)")


def triggers_drop(apps, schema_editor):
    version, user, read = _tables(apps, schema_editor)
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        for table in [*read, user]:
            run(f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {table}")
        run(f"DROP TRIGGER IF EXISTS {_trigger(user, '_active')} ON {user}")
        run(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    elif schema_editor.connection.vendor == "sqlite":
        for table in read:
            for operation in ("insert", "update", "delete"):
                run(f"DROP TRIGGER IF EXISTS {_trigger(table, '_' + operation)}")
        run(f"DROP TRIGGER IF EXISTS {_trigger(user, '_delete')}")
        run(f"DROP TRIGGER IF EXISTS {_trigger(user, '_active')}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_macertification"),
        ("contributions", "0019_contribution_year_state"),
    ]

    operations = [
        migrations.CreateModel(
            name="StandingVersion",
            fields=[
                ("slot", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("changes", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="StatusCounts",
            fields=[
                ("fingerprint", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
                ("counts", models.TextField()),
                ("stored_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
