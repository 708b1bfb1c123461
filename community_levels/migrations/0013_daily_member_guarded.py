"""The daily totals' member: from a row-by-row foreign key to one lock per member and batch.

PostgreSQL checked the foreign key once per daily total inserted, at commit (a lookup and a lock of
the member row each, some 90,000 per batch of 100,000 events: 0.6 s of a 2.5 s batch measured alone,
most of it the first lock of each member row, which the batch's one lock per member now takes).
What it guarded stays guarded:
- a batch locks the members it writes for FOR KEY SHARE, once each, and fails if one is gone
  (community_levels/ingestion/writing.py), so a member deleted before the batch writes fails the batch;
- a member deleted while a batch writes waits for that lock, and this deferred trigger, run at the
  deletion's commit with a fresh snapshot (READ COMMITTED), refuses to delete a member who still has
  daily totals (Django's cascade deletes them first), so the deletion fails instead.
SQLite (the local run) has one writer at a time: Django's cascade is enough there.
"""

import django.db.models.deletion
from django.db import migrations, models

FUNCTION = "community_levels_member_keeps_totals"
TRIGGER = "communitymember_keeps_daily_totals"


def guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    member = quote(apps.get_model("community_levels", "CommunityMember")._meta.db_table)
    daily = quote(apps.get_model("community_levels", "DailyActivity")._meta.db_table)
    schema_editor.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF EXISTS (SELECT 1 FROM {daily} WHERE member_id = OLD.id) THEN"
        " RAISE EXCEPTION 'community member % still has daily activity totals', OLD.id"
        " USING ERRCODE = 'foreign_key_violation'; END IF; RETURN NULL; END $$",
        params=None,  # the % above is RAISE's, not a parameter
    )
    schema_editor.execute(
        f"CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER DELETE ON {member} DEFERRABLE INITIALLY DEFERRED"
        f" FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    member = schema_editor.quote_name(apps.get_model("community_levels", "CommunityMember")._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER {TRIGGER} ON {member}")
    schema_editor.execute(f"DROP FUNCTION {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("community_levels", "0012_member_written_once"),
    ]

    operations = [
        migrations.AlterField(
            model_name="dailyactivity",
            name="member",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="daily_activity",
                to="community_levels.communitymember",
            ),
        ),
        migrations.RunPython(guard, unguard),
    ]
