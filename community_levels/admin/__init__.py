"""The community_levels app's staff screens. Admin autodiscovery imports this package: importing
each module registers its `ModelAdmin`s."""

from community_levels.admin.activity import (
    ActivityEventAdmin,
    CommunityMemberAdmin,
    CommunitySourceAdmin,
    SourceRunAdmin,
)
from community_levels.admin.boss import BossApplicationAdmin, BossProgramWindowAdmin
from community_levels.admin.levels import LevelAdmin, LevelChangeAdmin, RecomputeRunAdmin, ScoringWeightAdmin

__all__ = [
    "ActivityEventAdmin",
    "BossApplicationAdmin",
    "BossProgramWindowAdmin",
    "CommunityMemberAdmin",
    "CommunitySourceAdmin",
    "LevelAdmin",
    "LevelChangeAdmin",
    "RecomputeRunAdmin",
    "ScoringWeightAdmin",
    "SourceRunAdmin",
]
