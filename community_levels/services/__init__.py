"""Every write of the community_levels app (ingestion and recompute live in their own modules).

The package's modules: `common` (the error, the recompute the others enqueue), `activity` (imports,
the drop folder, members' exclusion and accounts), `rules` (the ladder's rules), `boss` (the BOSS
programme), `sources` (pulling activity from connectors). Callers import from
`community_levels.services`.
"""

from community_levels.services.activity import (
    PREVIEW_BATCH,
    activity_ingest_file,
    activity_preview_file,
    drop_folder_ingest,
    member_set_excluded,
    members_link_accounts,
    recompute,
)
from community_levels.services.boss import (
    boss_application_decide,
    boss_application_submit,
    boss_windows_ensure,
)
from community_levels.services.common import (
    FILE_SOURCE,
    CommunityError,
)
from community_levels.services.rules import (
    LadderRule,
    ladder_rule_delete,
    ladder_rule_save,
    rules_changed,
    rules_save,
)
from community_levels.services.sources import (
    SOURCE_BUSY,
    SOURCE_LOCK_NAMESPACE,
    SourceSyncResult,
    source_cursor_reset,
    source_sync,
    source_sync_enqueue,
)

__all__ = [
    "FILE_SOURCE",
    "PREVIEW_BATCH",
    "SOURCE_BUSY",
    "SOURCE_LOCK_NAMESPACE",
    "CommunityError",
    "LadderRule",
    "SourceSyncResult",
    "activity_ingest_file",
    "activity_preview_file",
    "boss_application_decide",
    "boss_application_submit",
    "boss_windows_ensure",
    "drop_folder_ingest",
    "ladder_rule_delete",
    "ladder_rule_save",
    "member_set_excluded",
    "members_link_accounts",
    "recompute",
    "rules_changed",
    "rules_save",
    "source_cursor_reset",
    "source_sync",
    "source_sync_enqueue",
]
