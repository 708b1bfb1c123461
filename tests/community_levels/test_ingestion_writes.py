"""How a batch writes on PostgreSQL: exactly what it inserted is added, first line first, commit asynchronous."""

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity, PendingRecompute
from tests.community_levels.helpers import event, write_csv, write_jsonl

EVENT_TABLE = ActivityEvent._meta.db_table


@pytest.mark.django_db
@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
@pytest.mark.parametrize("writer", [write_jsonl, write_csv], ids=["jsonl", "csv"])
def test_an_event_id_repeated_in_a_batch_keeps_its_first_line(tmp_path, fast, writer):
    events = [
        event(7, "m1", "reply", quantity=2),
        event(8, "m1", "reply", quantity=10),
        event(7, "m2", "post", quantity=5),  # the same id again: a replay, whatever it says
        event(7, "m1", "reply", quantity=3),
    ]
    result = ingest_stream(parse_file(writer(tmp_path / f"a.{writer.__name__[6:]}", events)), source="file", fast=fast)
    assert (result.imported, result.duplicates) == (2, 2)
    stored = ActivityEvent.objects.get(event_id="e7")
    assert (stored.member.external_id, stored.kind, stored.quantity) == ("m1", "reply", 2)
    assert list(DailyActivity.objects.values_list("member__external_id", "kind", "quantity", "events")) == [
        ("m1", "reply", 12, 2)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_only_the_members_of_new_events_are_marked_for_recompute(tmp_path, fast):
    first = write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply"), event(2, "m2", "reply")])
    ingest_stream(parse_file(first), source="file", fast=fast)
    PendingRecompute.objects.all().delete()  # as a recompute takes them
    again = [event(1, "m1", "reply"), event(2, "m2", "post"), event(3, "m2", "post")]
    replay = write_jsonl(tmp_path / "b.jsonl", again)
    result = ingest_stream(parse_file(replay), source="file", fast=fast)
    assert (result.imported, result.duplicates) == (1, 2)
    assert list(PendingRecompute.objects.values_list("member__external_id", flat=True)) == ["m2"]


@pytest.mark.django_db(transaction=True)
def test_an_event_stored_by_another_writer_meanwhile_is_skipped_and_not_counted(tmp_path):
    """Exact by construction: the aggregates add what the insert returned, whoever stored an id meanwhile.

    The rival does not take the ingestion lock of the source (an admin, a script, another version of
    the code): the batch neither fails nor counts the event it did not insert.
    """
    events = [event(n, "m1", "reply", quantity=n) for n in range(1, 5)]
    path = write_jsonl(tmp_path / "a.jsonl", events)
    member = CommunityMember.objects.create(external_id="m1")
    rival: dict = {}

    def store_e2():
        try:
            ActivityEvent.objects.create(
                source="file", event_id="e2", member=member, kind="reply", occurred_at=timezone.now(),
                day=1, quantity=2, ingested_at=timezone.now(),
            )  # fmt: skip
            rival["stored"] = True
        except Exception as error:  # pragma: no cover - reported by the assertion below
            rival["error"] = error
        finally:
            connection.close()

    def interleave(execute, sql, params, many, context):
        if not rival and f"INSERT INTO {EVENT_TABLE}" in sql:
            thread = threading.Thread(target=store_e2)
            thread.start()
            thread.join(timeout=10)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(interleave):
        result = ingest_stream(parse_file(path), source="file", fast=True)
    assert rival == {"stored": True}
    assert (result.imported, result.duplicates) == (3, 1)
    assert ActivityEvent.objects.filter(source="file").count() == 4
    assert DailyActivity.objects.aggregate(q=Sum("quantity"), n=Sum("events")) == {"q": 1 + 3 + 4, "n": 3}


@pytest.mark.django_db(transaction=True)
def test_a_batch_commits_without_waiting_for_the_disk(tmp_path):
    """`synchronous_commit = off` for the batch's transaction only (see the package's docstring)."""
    path = write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply")])
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    with transaction.atomic(), connection.cursor() as cursor:
        ingest_stream(parse_file(path), source="file", fast=True)
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
