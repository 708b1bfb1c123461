"""The level-rules preview's rows (the pure part of the admin's preview page, no database): edits
override the saved values, and the counts say who moves."""

from community_levels.admin.levels import level_preview_rows
from community_levels.models import Level, LevelRequirement


def test_each_level_shows_its_edited_values_and_how_many_members_move():
    bronze, silver = Level(pk=1, name="Bronze", min_score=0), Level(pk=2, name="Silver", min_score=100)
    replies = LevelRequirement(pk=7, level=silver, minimum=5)
    rows = level_preview_rows(
        [(bronze, []), (silver, [replies])],
        edited_levels={2: 150},
        edited_requirements={7: 8},
        now_counts={1: 90, 2: 10},
        new_counts={1: 96, 2: 4},
    )
    assert [(r["level"].name, r["min_score"], r["now"], r["new"], r["delta"]) for r in rows] == [
        ("Bronze", 0, 90, 96, 6),
        ("Silver", 150, 10, 4, -6),
    ]
    assert rows[1]["requirements"] == [(replies, 8)]


def test_without_edits_the_saved_values_show_and_a_level_nobody_is_on_counts_zero():
    gold = Level(pk=3, name="Gold", min_score=500)
    visits = LevelRequirement(pk=9, level=gold, minimum=20)
    (row,) = level_preview_rows(
        [(gold, [visits])], edited_levels={}, edited_requirements={}, now_counts={}, new_counts={}
    )
    assert (row["min_score"], row["requirements"], row["now"], row["new"], row["delta"]) == (
        500,
        [(visits, 20)],
        0,
        0,
        0,
    )
