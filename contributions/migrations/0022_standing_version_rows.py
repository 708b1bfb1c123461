"""The standing's version also moves when what the year report's rows show besides the status changes: a
user's names or email (a row shows them, and the page's order is theirs) and the activity types (the
points by type are read per type of the year). The report keeps its pages' rows by that version
(`contributions.selectors.report`). A sign-in still does not move it.
"""

# SQL built from the models' table names; no values.
# ruff: noqa: S608

from django.db import migrations

FUNCTION = "contributions_standing_changed"
NAMES = ("email", "first_name", "last_name")


def _names(apps, schema_editor) -> tuple[str, str, str]:
    quote = schema_editor.quote_name
    version = quote(apps.get_model("contributions", "StandingVersion")._meta.db_table)
    user = quote(apps.get_model("accounts", "User")._meta.db_table)
    activity_type = quote(apps.get_model("contributions", "ActivityType")._meta.db_table)
    return version, user, activity_type


def _trigger(table: str, suffix: str = "") -> str:
    """The trigger's name: its table's (quoted) with `_standing_version` and `suffix` after it."""
    return f'"{table.strip(chr(34))}_standing_version{suffix}"'


def triggers_create(apps, schema_editor):
    version, user, activity_type = _names(apps, schema_editor)
    run = schema_editor.execute
    columns = ", ".join(NAMES)
    if schema_editor.connection.vendor == "postgresql":
        old = ", ".join(f"OLD.{name}" for name in NAMES)
        new = ", ".join(f"NEW.{name}" for name in NAMES)
        run(
            f"CREATE TRIGGER {_trigger(user, '_names')} AFTER UPDATE OF {columns} ON {user} FOR EACH ROW"
            f" WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION {FUNCTION}()"
        )
        run(
            f"CREATE TRIGGER {_trigger(activity_type)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {activity_type} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
    elif schema_editor.connection.vendor == "sqlite":
        bump = f"INSERT INTO {version} (slot, changes) VALUES (0, 1)"
        bump += " ON CONFLICT (slot) DO UPDATE SET changes = changes + 1;"
        changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in NAMES)
        run(
            f"CREATE TRIGGER {_trigger(user, '_names')} AFTER UPDATE OF {columns} ON {user}"
            f" WHEN {changed} BEGIN {bump} END"
        )
        for operation in ("INSERT", "UPDATE", "DELETE"):
            name = _trigger(activity_type, "_" + operation.lower())
            run(f"CREATE TRIGGER {name} AFTER {operation} ON {activity_type} BEGIN {bump} END")


def triggers_drop(apps, schema_editor):
    _, user, activity_type = _names(apps, schema_editor)
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run(f"DROP TRIGGER IF EXISTS {_trigger(user, '_names')} ON {user}")
        run(f"DROP TRIGGER IF EXISTS {_trigger(activity_type)} ON {activity_type}")
    elif schema_editor.connection.vendor == "sqlite":
        run(f"DROP TRIGGER IF EXISTS {_trigger(user, '_names')}")
        for operation in ("insert", "update", "delete"):
            run(f"DROP TRIGGER IF EXISTS {_trigger(activity_type, '_' + operation)}")


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0021_credit_pages_room_for_hot"),
    ]

    operations = [migrations.RunPython(triggers_create, triggers_drop)]
