import threading
from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity
from community_levels.recompute import levels_recompute
from community_levels.services import boss_application_decide, boss_application_submit
from tests.community_levels.helpers import event, sample_events, write_jsonl
from tests.factories import BossProgramWindowFactory, StaffFactory


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_imports_of_the_same_file_count_every_event_once(tmp_path):
    events = sample_events(members=10, per_member=20)
    path = write_jsonl(tmp_path / "a.jsonl", events)
    results, errors = [], []

    def worker():
        try:
            results.append(ingest_stream(parse_file(path), source="file", batch_size=37))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(r.imported for r in results) == len(events)
    assert ActivityEvent.objects.count() == len(events)
    counted = [e for e in events if not (e["kind"].startswith("like") and e.get("target_member_id") == e["member_id"])]
    assert DailyActivity.objects.aggregate(n=Sum("events"))["n"] == len(counted)
    assert DailyActivity.objects.aggregate(q=Sum("quantity"))["q"] == len(counted)


@pytest.mark.django_db
def test_deciding_a_boss_application_locks_it(tmp_path):
    BossProgramWindowFactory(opens_on=date(2026, 7, 1), closes_on=date(2026, 7, 31))
    ingest_stream(
        parse_file(
            write_jsonl(
                tmp_path / "a.jsonl",
                [event(1, "b", "accepted_solution", quantity=10), event(2, "b", "article", quantity=40)],
            )
        ),
        source="file",
    )
    levels_recompute()
    application = boss_application_submit(member=CommunityMember.objects.get(), statement="Hi", today=date(2026, 7, 2))
    with CaptureQueriesContext(connection) as queries:
        boss_application_decide(application=application, decided_by=StaffFactory(), accept=False)
    assert any("FOR NO KEY UPDATE" in q["sql"] for q in queries.captured_queries)
