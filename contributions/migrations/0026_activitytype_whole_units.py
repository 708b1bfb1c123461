"""A type whose claims count whole units keeps them whole in PostgreSQL too.

1. Its maximum per claim is a whole number: a check, `activitytype_max_quantity_whole` (the model's
   `clean` says so beside the field). The admin accepted 2.5 per item before, so such maxima are
   first rounded down to a whole number (to 1 if below it, as a maximum is more than zero), each
   change kept in the type's history with why.
2. Its unit cannot be made whole (hours to items or sessions) while a claim of it counts part of one
   hour: a BEFORE trigger on the type's unit raises a check violation named
   `activitytype_unit_whole_claims`, the rule of `contributions.services.unit_change_refusal` (which
   the admin's form and `activity_type_save` ask first, and whose words the service gives when the
   database refuses). Migration 0024's trigger reads the type FOR SHARE when it accepts part of an
   hour, so this UPDATE waits for that claim's transaction and then counts it, or the claim waits for
   this one and meets the new unit.

`FRACTIONAL_UNITS` is `contributions.models.FRACTIONAL_UNITS` as of this migration; tests check every
unit against `ActivityType.takes_fractions` and `unit_change_refusal`. SQLite (the local run) has
neither the check nor the trigger: it relies on the model's `clean` and the services there.
"""

# SQL built from the models' table names and the constants below; no values from outside.
# ruff: noqa: S608

from decimal import ROUND_FLOOR, Decimal

from django.db import migrations, models
from django.db.models.functions import Floor
from django.utils import timezone

FUNCTION = "contributions_activitytype_unit_whole_claims"
TRIGGER = "contributions_activitytype_unit_whole_claims"
CONSTRAINT = "activitytype_unit_whole_claims"
FRACTIONAL_UNITS = ("hour",)
HELP_TEXT = (
    "The most items, hours or sessions one contribution may claim (a whole number, but for hours); "
    "longer work is split by date."
)


def whole_maxima(apps, schema_editor):
    """Round down each fractional maximum of a type counted per item or per session (not below 1), and
    record the change in the type's history (no one made it: the history's user is empty)."""
    ActivityType = apps.get_model("contributions", "ActivityType")
    HistoricalActivityType = apps.get_model("contributions", "HistoricalActivityType")
    fractional = (
        ActivityType.objects.exclude(unit__in=FRACTIONAL_UNITS)
        .exclude(max_quantity_per_claim=Floor("max_quantity_per_claim"))
        .order_by("pk")
    )
    now = timezone.now()
    for activity_type in fractional:
        was = activity_type.max_quantity_per_claim
        whole = max(was.to_integral_value(rounding=ROUND_FLOOR), Decimal(1))
        how = "rounded down to" if whole < was else "raised to"
        least = "" if whole < was else ", the least whole one"
        activity_type.max_quantity_per_claim = whole
        activity_type.save(update_fields=["max_quantity_per_claim"])
        HistoricalActivityType.objects.create(
            **{field.attname: getattr(activity_type, field.attname) for field in ActivityType._meta.concrete_fields},
            history_date=now,
            history_type="~",
            history_user=None,
            history_change_reason=(
                f"Maximum per claim {was.normalize():f} {how} {whole}{least}: "
                f"claims per {activity_type.unit} are whole numbers."
            )[:100],
        )


WHOLE_MAXIMUM = models.CheckConstraint(
    condition=models.Q(
        ("unit__in", list(FRACTIONAL_UNITS)),
        ("max_quantity_per_claim", Floor("max_quantity_per_claim")),
        _connector="OR",
    ),
    name="activitytype_max_quantity_whole",
    violation_error_message="A type whose claims count whole units takes a whole maximum quantity per claim.",
)


def check_add(apps, schema_editor):
    """PostgreSQL only: SQLite would make the table again to add a check, and lose migration 0018's
    trigger on it (the local run relies on the model's `clean` there)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_constraint(apps.get_model("contributions", "ActivityType"), WHOLE_MAXIMUM)


def check_remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_constraint(apps.get_model("contributions", "ActivityType"), WHOLE_MAXIMUM)


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    types = quote(apps.get_model("contributions", "ActivityType")._meta.db_table)
    contributions = quote(apps.get_model("contributions", "Contribution")._meta.db_table)
    fractional = ", ".join(f"'{unit}'" for unit in FRACTIONAL_UNITS)
    schema_editor.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$"
        " BEGIN"
        f"  IF NEW.unit = OLD.unit OR NEW.unit IN ({fractional}) OR OLD.unit NOT IN ({fractional}) THEN"
        "   RETURN NEW;"
        "  END IF;"
        f"  IF EXISTS (SELECT 1 FROM {contributions}"
        "             WHERE activity_type_id = OLD.id AND quantity <> trunc(quantity)) THEN"
        "   RAISE EXCEPTION 'claims of activity type % count part of one %, so it cannot be counted per %',"
        "    OLD.id, OLD.unit, NEW.unit"
        f"    USING ERRCODE = 'check_violation', CONSTRAINT = '{CONSTRAINT}', COLUMN = 'unit';"
        "  END IF;"
        "  RETURN NEW;"
        " END $fn$",
        params=None,  # the % above are PL/pgSQL's placeholders, not parameters
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OF unit ON {types} FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    types = schema_editor.quote_name(apps.get_model("contributions", "ActivityType")._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {types}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0025_certificate_number_form"),
    ]

    operations = [
        migrations.RunPython(whole_maxima, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="activitytype",
            name="max_quantity_per_claim",
            field=models.DecimalField(
                db_default=Decimal("20"),
                decimal_places=2,
                default=Decimal("20"),
                help_text=HELP_TEXT,
                max_digits=8,
                verbose_name="maximum quantity per claim",
            ),
        ),
        migrations.AlterField(
            model_name="historicalactivitytype",
            name="max_quantity_per_claim",
            field=models.DecimalField(
                db_default=Decimal("20"),
                decimal_places=2,
                default=Decimal("20"),
                help_text=HELP_TEXT,
                max_digits=8,
                verbose_name="maximum quantity per claim",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddConstraint(model_name="activitytype", constraint=WHOLE_MAXIMUM)],
            database_operations=[migrations.RunPython(check_add, check_remove)],
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
