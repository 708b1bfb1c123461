"""The level history's four references (member, run, former and new level): from row-by-row foreign keys
to one check per statement, deletion guards and the recompute's locks.

PostgreSQL checked each foreign key once per history row at commit, a lookup and a lock each: 91,628 for
the 22,907 changes of the benchmark's full recompute, 0.86 s of backend CPU at commit (1.05 s with them,
0.19 s without, on copies of the benchmark's database). What they guarded stays guarded (PostgreSQL):
- a statement that inserts or updates history rows referring to a missing member, run or level fails:
  one set-based check over the statement's rows (a transition table), not a lookup per row;
- a deferred trigger on each table the history refers to, run at the deletion's commit with a fresh
  snapshot (READ COMMITTED), refuses to delete a member, run or level the history still refers to
  (Django's cascade deletes the member's and the run's history first, SET NULL clears the level's);
- the recompute locks every level (FOR KEY SHARE) before it reads the rules, and updates its changed
  members (a row lock) before it writes their history; the run is its own, unseen until it commits. A
  deletion beside it waits for its commit and then fails, as it would have with the foreign keys.
No key of these tables is ever updated (ids are never reassigned), so only deletion is guarded.
SQLite (the local run) has one writer at a time: Django's cascade and SET NULL are enough there.
"""

import django.db.models.deletion
from django.db import migrations, models


CHECK = "community_levels_history_refers"
GUARDS = {
    # table (model name) -> (function, trigger, the history rows that refer to OLD)
    "CommunityMember": ("community_levels_member_keeps_history", "communitymember_keeps_level_history", "member_id = OLD.id"),
    "RecomputeRun": ("community_levels_run_keeps_history", "recomputerun_keeps_level_history", "run_id = OLD.id"),
    "Level": (
        "community_levels_level_keeps_history",
        "level_keeps_level_history",
        "to_level_id = OLD.id OR from_level_id = OLD.id",
    ),
}


def guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = {name: quote(apps.get_model("community_levels", name)._meta.db_table) for name in GUARDS}
    history = quote(apps.get_model("community_levels", "LevelChange")._meta.db_table)
    missing = " OR ".join(
        f"EXISTS (SELECT 1 FROM new_rows n WHERE n.{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {table[model]} t WHERE t.id = n.{column}))"
        for column, model in [
            ("member_id", "CommunityMember"),
            ("run_id", "RecomputeRun"),
            ("from_level_id", "Level"),
            ("to_level_id", "Level"),
        ]
    )
    schema_editor.execute(
        f"CREATE FUNCTION {CHECK}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF {missing} THEN"
        " RAISE EXCEPTION 'level history refers to a community member, recompute run or level that does not exist'"
        " USING ERRCODE = 'foreign_key_violation'; END IF; RETURN NULL; END $$"
    )
    for event in ("INSERT", "UPDATE"):
        schema_editor.execute(
            f"CREATE TRIGGER levelchange_refers_on_{event.lower()} AFTER {event} ON {history}"
            f" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {CHECK}()"
        )
    for name, (function, trigger, referring) in GUARDS.items():
        schema_editor.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF EXISTS (SELECT 1 FROM {history} WHERE {referring}) THEN"
            f" RAISE EXCEPTION '{name} % is still referred to by the level history', OLD.id"
            " USING ERRCODE = 'foreign_key_violation'; END IF; RETURN NULL; END $$",
            params=None,  # the % above is RAISE's, not a parameter
        )
        schema_editor.execute(
            f"CREATE CONSTRAINT TRIGGER {trigger} AFTER DELETE ON {table[name]} DEFERRABLE INITIALLY DEFERRED"
            f" FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    history = quote(apps.get_model("community_levels", "LevelChange")._meta.db_table)
    for name, (function, trigger, _referring) in GUARDS.items():
        table = quote(apps.get_model("community_levels", name)._meta.db_table)
        schema_editor.execute(f"DROP TRIGGER {trigger} ON {table}")
        schema_editor.execute(f"DROP FUNCTION {function}()")
    for event in ("insert", "update"):
        schema_editor.execute(f"DROP TRIGGER levelchange_refers_on_{event} ON {history}")
    schema_editor.execute(f"DROP FUNCTION {CHECK}()")


class Migration(migrations.Migration):

    dependencies = [
        ('community_levels', '0017_daily_keyed_by_member_day_kind'),
    ]

    operations = [
        migrations.AlterField(
            model_name='levelchange',
            name='from_level',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='community_levels.level'),
        ),
        migrations.AlterField(
            model_name='levelchange',
            name='member',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='level_changes', to='community_levels.communitymember'),
        ),
        migrations.AlterField(
            model_name='levelchange',
            name='run',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='level_changes', to='community_levels.recomputerun'),
        ),
        migrations.AlterField(
            model_name='levelchange',
            name='to_level',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='community_levels.level'),
        ),
        migrations.RunPython(guard, unguard),
    ]
