"""The raw SQL of ingestion and recompute names tables through the models, and every column it
writes into community members is a column of the model (a rename fails here, not in a nightly run)."""

from community_levels import ingestion, recompute
from community_levels.models import CommunityMember, DailyActivity, LevelChange


def test_the_tables_the_sql_names_are_the_models_tables():
    assert (CommunityMember._meta.db_table, DailyActivity._meta.db_table) == (ingestion.MEMBER, ingestion.DAILY)
    assert (
        CommunityMember._meta.db_table,
        DailyActivity._meta.db_table,
        LevelChange._meta.db_table,
    ) == (recompute.MEMBER, recompute.DAILY, recompute.LEVELCHANGE)


def test_the_member_insert_writes_only_model_columns():
    named = [column.strip() for column in ingestion._MEMBER_INSERT_COLUMNS.split(",")]
    assert set(named) <= {f.column for f in CommunityMember._meta.concrete_fields}
