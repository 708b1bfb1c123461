"""The recompute writes each member row once, from a temporary table, with the level itself.

The flags it kept on the row (`recomputing`, `computed_level` and the partial index of the one, the
foreign-key index of the other) go, and so do both indexes on `level` (fourteen values over every
member: no query it serves is faster with them, and a change of level would write every index).

Fillfactor 50 on PostgreSQL: a recompute rewrites the metrics and scores of every member with new
activity; with room on the page for the new version and no indexed column changed, PostgreSQL writes
it as a heap-only tuple (HOT: no index touched). One full recompute can rewrite every row of a page
in one transaction, whose old versions cannot be pruned before it commits, so a page needs room for a
second copy of each of its rows. The table is rewritten (CLUSTER) so that its existing pages get it too.
"""

import django.db.models.deletion
from django.db import migrations, models

MEMBER = "community_levels_communitymember"


def member_pages_half_full(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {MEMBER} SET (fillfactor = 50)")
    schema_editor.execute(f"CLUSTER {MEMBER} USING {MEMBER}_pkey")
    schema_editor.execute(f"ALTER TABLE {MEMBER} SET WITHOUT CLUSTER")


def member_pages_full(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {MEMBER} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("community_levels", "0011_pending_recompute"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="communitymember",
            name="communitymember_level",
        ),
        migrations.RemoveIndex(
            model_name="communitymember",
            name="communitymember_recomputing",
        ),
        migrations.RemoveField(
            model_name="communitymember",
            name="computed_level",
        ),
        migrations.RemoveField(
            model_name="communitymember",
            name="recomputing",
        ),
        migrations.AlterField(
            model_name="communitymember",
            name="level",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="community_levels.level",
            ),
        ),
        migrations.RunPython(member_pages_half_full, member_pages_full),
    ]
