from celery import shared_task

from community_levels import services
from community_levels.models import CommunitySource


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=25 * 60)
def levels_recompute_task(full: bool = False, reason: str = "", is_rule_change: bool = False) -> dict:
    return services.recompute(full=full, reason=reason, is_rule_change=is_rule_change).as_dict()


@shared_task(acks_late=True)
def drop_folder_ingest_task() -> list:
    return [(name, result.as_dict()) for name, result in services.drop_folder_ingest()]


@shared_task(acks_late=True, soft_time_limit=25 * 60, time_limit=30 * 60)
def source_sync_task(source_id: int, started_by_id: int | None = None) -> dict:
    """A pull stops starting pages after COMMUNITY_SOURCE_RUN_SECONDS (20 min), under the soft limit;
    if the soft limit still hits, the run is recorded as failed and the exception reaches Celery."""
    from accounts.models import User

    started_by = User.objects.filter(pk=started_by_id).first() if started_by_id else None
    return services.source_sync(source_id=source_id, started_by=started_by).as_dict()


@shared_task
def sources_sync_all_task() -> int:
    ids = list(CommunitySource.objects.filter(enabled=True).values_list("pk", flat=True))
    for source_id in ids:
        source_sync_task.delay(source_id)
    return len(ids)


@shared_task
def boss_windows_ensure_task() -> int:
    return services.boss_windows_ensure()


@shared_task
def members_link_accounts_task() -> int:
    return services.members_link_accounts()
