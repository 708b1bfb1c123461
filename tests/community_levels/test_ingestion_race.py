"""Idempotency under concurrency, on both staging loaders (COPY, and the multi-row inserts SQLite uses).

Another import of the same events commits between the moment a batch decides which of its events
are new and the moment it writes them: the aggregates must still count every event once.
"""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import ActivityEvent, DailyActivity
from tests.community_levels.helpers import sample_events, write_jsonl

EVENT_TABLE = ActivityEvent._meta.db_table


def _counted(events: list[dict]) -> int:
    return sum(1 for e in events if not (e["kind"].startswith("like") and e.get("target_member_id") == e["member_id"]))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_an_import_committed_while_a_batch_writes_is_not_counted_twice(tmp_path, fast):
    events = sample_events(members=4, per_member=6)
    path = write_jsonl(tmp_path / "a.jsonl", events)
    # The members exist already (another source named them), so neither import has to create one.
    ingest_stream(parse_file(write_jsonl(tmp_path / "m.jsonl", events[::6])), source="other", fast=fast)
    other_counted = DailyActivity.objects.aggregate(n=Sum("events"))["n"]
    other: dict = {}

    def rival_import():
        try:
            other["result"] = ingest_stream(parse_file(path), source="file", fast=fast)
        except Exception as error:  # pragma: no cover - reported by the assertion below
            other["error"] = error
        finally:
            connection.close()

    rival = threading.Thread(target=rival_import)

    def interleave(execute, sql, params, many, context):
        # Just before this batch inserts its events, the rival import runs on its own connection and
        # commits (or, when the batch holds what serializes imports, waits for it: then we go on).
        if not other and f"INSERT INTO {EVENT_TABLE}" in sql:
            other["started"] = True
            rival.start()
            rival.join(timeout=3)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(interleave):
        mine = ingest_stream(parse_file(path), source="file", fast=fast)
    rival.join(timeout=30)
    assert "error" not in other
    assert mine.imported + other["result"].imported == len(events)
    assert ActivityEvent.objects.filter(source="file").count() == len(events)
    counted = DailyActivity.objects.aggregate(n=Sum("events"), q=Sum("quantity"))
    assert counted["n"] - other_counted == _counted(events)
