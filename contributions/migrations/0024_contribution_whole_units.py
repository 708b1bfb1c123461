"""Items and sessions are claimed whole: PostgreSQL refuses a contribution row with part of one.

The unit lives on the activity type, so a CHECK on the contribution's own columns cannot say it; a
BEFORE trigger reads the type's unit and raises a check violation named `contribution_whole_units`
(`contributions.services.base._save` turns it into the rule's words). It checks a row when it is
inserted and when its quantity or type change, not when anything else on it changes: a fractional
claim stored before this rule can still be decided, withdrawn or corrected (its award bound counts
whole units only, `rules.counted_quantity`), and this migration touches no existing row. The type's
row is read FOR SHARE, so a concurrent change of its unit (`activity_type_save`, which locks it)
waits for this insert, or this insert reads the changed unit. The error's detail names the unit.
`FRACTIONAL_UNITS` is `contributions.models.FRACTIONAL_UNITS` as of this migration; a test checks
every unit against `ActivityType.takes_fractions`. SQLite (the local run) relies on the services.
"""

# SQL built from the models' table names and the constant below; no values from outside.
# ruff: noqa: S608

from django.db import migrations

FUNCTION = "contributions_whole_units"
TRIGGER = "contributions_contribution_whole_units"
CONSTRAINT = "contribution_whole_units"
FRACTIONAL_UNITS = ("hour",)


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    contributions = quote(apps.get_model("contributions", "Contribution")._meta.db_table)
    types = quote(apps.get_model("contributions", "ActivityType")._meta.db_table)
    fractional = ", ".join(f"'{unit}'" for unit in FRACTIONAL_UNITS)
    schema_editor.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$"
        " DECLARE type_unit text;"
        " BEGIN"
        "  IF NEW.quantity = trunc(NEW.quantity) THEN RETURN NEW; END IF;"
        "  IF TG_OP = 'UPDATE' AND NEW.quantity = OLD.quantity"
        "     AND NEW.activity_type_id = OLD.activity_type_id THEN RETURN NEW; END IF;"
        f"  SELECT unit INTO type_unit FROM {types} WHERE id = NEW.activity_type_id FOR SHARE;"
        f"  IF type_unit IN ({fractional}) THEN RETURN NEW; END IF;"
        "  RAISE EXCEPTION 'a claim per % counts whole units; % is not one', type_unit, NEW.quantity"
        f"   USING ERRCODE = 'check_violation', CONSTRAINT = '{CONSTRAINT}', DETAIL = type_unit;"
        " END $fn$",
        params=None,  # the % above are PL/pgSQL's placeholders, not parameters
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE OF quantity, activity_type_id ON {contributions}"
        f" FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    contributions = schema_editor.quote_name(apps.get_model("contributions", "Contribution")._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {contributions}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0023_standing_changes_inserted"),
    ]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
