"""The daily totals keyed by (member, day, kind) itself, without the surrogate id.

Every ingestion batch inserts or updates one daily total per member, day and kind of its new events
(885,393 inserted for 1,000,000 events in the benchmark). The id was an index of its own written with
each of them, read by nothing (no foreign key, no admin page, no query names it): the same upsert
took 19.9 s and 19.7 s with it, 15.0 s and 8.1 s without it, interleaved on a copy of the benchmark's
database under load. The unique (member, day, kind) that `ON CONFLICT` and the recompute's lookups by
member use becomes the primary key (its index rebuilt once).

Django does not migrate a table to a composite primary key by itself: the model's state changes as
the autodetector wrote it, and the table is changed here for each database.
"""

from django.db import migrations, models

UNIQUE = "dailyactivity_unique"


def rekey(apps, schema_editor):
    model = apps.get_model("community_levels", "DailyActivity")
    quote = schema_editor.quote_name
    table = quote(model._meta.db_table)
    primary = quote(f"{model._meta.db_table}_pkey")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {primary}")
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN id")
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(UNIQUE)}")
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {primary} PRIMARY KEY (member_id, day, kind)")
        return
    # SQLite cannot change a table's key: the table is made again from the model, its rows copied.
    old = quote(f"{model._meta.db_table}__with_id")
    columns = "member_id, day, kind, quantity, minutes, events"
    schema_editor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    schema_editor.create_model(model)
    schema_editor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {old}")
    schema_editor.execute(f"DROP TABLE {old}")


class Migration(migrations.Migration):
    dependencies = [
        ("community_levels", "0016_event_id_bytewise"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="dailyactivity", name=UNIQUE),
                migrations.RemoveField(model_name="dailyactivity", name="id"),
                migrations.AddField(
                    model_name="dailyactivity",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "member_id", "day", "kind", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
        ),
        # After the state: the model it reads is the one keyed by (member, day, kind).
        migrations.RunPython(rekey, elidable=False),
    ]
