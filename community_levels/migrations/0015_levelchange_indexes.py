"""The level history without two of its six indexes: the member's (the prefix of levelchange_member_time)
and the former level's (nothing looks changes up by it). A recompute writes a history row per change of
level; the foreign keys stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('community_levels', '0014_member_pattern_indexes_dropped'),
    ]

    operations = [
        migrations.AlterField(
            model_name='levelchange',
            name='from_level',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='community_levels.level'),
        ),
        migrations.AlterField(
            model_name='levelchange',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='level_changes', to='community_levels.communitymember'),
        ),
    ]
