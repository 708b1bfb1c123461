"""A Celery worker SIGKILLed in the middle of an ingestion: the totals still equal one clean run."""

import shutil
import uuid

import pytest

from community_levels import services
from community_levels.models import ActivityEvent, CommunityMember, RecomputeRun
from tests.faults.helpers import (
    celery_worker,
    community_reset,
    community_state,
    kill_hard,
    process_env,
    send_task,
    test_database_url,
    wait_for,
    write_activity_file,
)
from tests.helpers import throwaway_redis

DROP_TASK = "community_levels.tasks.drop_folder_ingest_task"


def _settled() -> bool:
    """Every event is in, and the recompute it triggered has finished."""
    return (
        RecomputeRun.objects.filter(finished_at__isnull=False).exists()
        and not CommunityMember.objects.filter(pending_recompute__isnull=False).exists()
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_ingestion_is_redelivered_and_ends_as_one_clean_run(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    source_file = drop / "activity.jsonl"
    total = write_activity_file(source_file, members=250, per_member=100)
    assert total > 45_000
    clean_copy = tmp_path / "clean.jsonl"
    shutil.copy(source_file, clean_copy)

    queue = f"faults-{uuid.uuid4().hex[:8]}"
    with throwaway_redis() as broker:
        env = process_env(
            database_url=test_database_url(),
            broker_url=broker,
            FAULTS_QUEUE=queue,
            FAULTS_VISIBILITY_TIMEOUT="2",
            COMMUNITY_DROP_FOLDER=str(drop),
            COMMUNITY_INGEST_BATCH_SIZE="500",
        )
        with celery_worker(env, log=tmp_path / "worker-1.log") as worker:
            send_task(broker, DROP_TASK, queue=queue)
            partial = wait_for(
                lambda: (total // 10 < (n := ActivityEvent.objects.count()) < total) and n,
                timeout=60,
                interval=0.02,
                what="a tenth of the ingestion",
            )
            assert kill_hard(worker), "the worker finished before it could be killed"
        after_kill = ActivityEvent.objects.count()
        assert partial <= after_kill < total, "the kill left the ingestion half-way"
        assert source_file.exists(), "the file stays in the drop folder until it is fully ingested"
        assert not RecomputeRun.objects.exists()

        # The task was acknowledged late, so the broker gives it to the restarted worker: nobody re-sends it.
        with celery_worker(env, log=tmp_path / "worker-2.log"):
            wait_for(lambda: (drop / "processed" / "activity.jsonl").exists(), timeout=90, what="the redelivered task")
            wait_for(_settled, timeout=60, what="the recompute after the ingestion")
        after_restart = community_state()

    assert after_restart["events"] == total
    assert len(after_restart["members"]) == 250
    assert len({level for *_, level in after_restart["level_history"]}) >= 3, "a varied ladder, not one level"
    assert len(after_restart["level_history"]) == 250, "one placement per member, none twice"

    # The reference: the same file ingested once, uninterrupted, into a fresh state.
    community_reset(keep_activity=False)
    services.activity_ingest_file(path=clean_copy)  # the recompute runs eagerly in this process
    assert _settled()
    assert community_state() == after_restart


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_after_its_last_batch_still_gets_its_recompute(tmp_path):
    """Killed between the last commit and enqueueing the recompute: the re-run imports nothing new,
    yet the members it marked must still be placed."""
    drop = tmp_path / "drop"
    drop.mkdir()
    write_activity_file(drop / "activity.jsonl", members=20, per_member=10)
    services.activity_ingest_file(path=drop / "activity.jsonl", recompute=False)  # what the dead run committed
    assert CommunityMember.objects.filter(pending_recompute__isnull=False).count() == 20

    [(name, result)] = services.drop_folder_ingest(folder=drop)  # the re-run (eager recompute here)
    assert name == "activity.jsonl" and result.imported == 0
    assert not CommunityMember.objects.filter(pending_recompute__isnull=False).exists()
    assert not CommunityMember.objects.filter(level__isnull=True).exists()
