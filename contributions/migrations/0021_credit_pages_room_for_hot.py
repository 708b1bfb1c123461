"""Room on the pages of the contributions and of the standing totals for a second version of their rows.

A full community recompute after an import rewrites a third of the community credits (quantity, points,
title, dates: no indexed column) and, through the statement trigger, the standing totals of nearly every
MA (verified and pending: not indexed either), all in one transaction. On full pages each new version
went to another page, so every index of the table got an entry for it: 9,589 of the benchmark's 9,654
credit updates (eleven indexes each) and 9,585 of its 9,615 standing updates were not heap-only. With
room on the page PostgreSQL writes them heap-only, touching no index: 70% for the contributions (a page
of community credits, written together, sees about a third of them rewritten at once), 50% for the
standing totals (every row of a page may be rewritten in the same transaction, whose old versions cannot
be pruned before it commits). Both tables are rewritten (CLUSTER) so that their existing pages get it too.
SQLite (the local run) has no such storage parameter.
"""

from django.db import migrations

# Model name: percent of each page filled by inserts.
ROOM = {"Contribution": 70, "StandingTotals": 50}


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, fillfactor in ROOM.items():
        table = apps.get_model("contributions", model)._meta.db_table
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {fillfactor})")
        schema_editor.execute(
            f"CLUSTER {schema_editor.quote_name(table)} USING {schema_editor.quote_name(table + '_pkey')}"
        )
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET WITHOUT CLUSTER")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model in ROOM:
        table = apps.get_model("contributions", model)._meta.db_table
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0020_standing_version"),
    ]

    operations = [migrations.RunPython(leave_room, fill_pages)]
