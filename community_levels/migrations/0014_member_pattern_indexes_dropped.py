"""The member table without the `varchar_pattern_ops` copies of its external id and email indexes.

PostgreSQL's backend adds them to every indexed text column for `LIKE 'prefix%'`; no query here asks
that of a member: lookups are by equality (the unique external id, the email), and the admin's
search is `icontains`, `UPPER(...) LIKE UPPER('%...%')`, which no B-tree serves. They cost an index
entry on every member inserted and every change of email (ingestion). The names are Django's, fixed
by the table and column names.
"""

from django.db import migrations

MEMBER = "community_levels_communitymember"
PATTERN_INDEXES = {
    "community_levels_communitymember_external_id_cab6c263_like": "external_id",
    "community_levels_communitymember_email_9d867d60_like": "email",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PATTERN_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in PATTERN_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {MEMBER} ({column} varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("community_levels", "0013_daily_member_guarded"),
    ]

    operations = [migrations.RunPython(drop, create)]
