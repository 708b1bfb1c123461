"""Which members a recompute takes: the marks ingestion leaves, taken once, never lost to a race."""

import threading
import time

import pytest
from django.db import connection, transaction

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import CommunityMember, PendingRecompute
from community_levels.recompute import levels_recompute
from tests.community_levels.helpers import event, write_jsonl


def ingest(tmp_path, events, name):
    return ingest_stream(parse_file(write_jsonl(tmp_path / name, events)), source="file")


def marked() -> list[str]:
    return sorted(CommunityMember.objects.filter(pending_recompute__isnull=False).values_list("external_id", flat=True))


@pytest.mark.django_db
def test_a_member_marked_by_ingestion_is_recomputed_once_and_unmarked(tmp_path):
    ingest(tmp_path, [event(1, "a", "reply"), event(2, "b", "reply")], "a.jsonl")
    ingest(tmp_path, [event(3, "a", "reply")], "b.jsonl")  # marked twice: still one mark
    assert PendingRecompute.objects.count() == 2
    assert levels_recompute().members == 2
    assert marked() == []
    assert CommunityMember.objects.get(external_id="a").m_replies == 2
    assert levels_recompute().members == 0
    ingest(tmp_path, [event(4, "b", "reply")], "c.jsonl")
    assert marked() == ["b"]
    # A full recompute takes the marks too: nothing is left for the next incremental run.
    assert levels_recompute(full=True).members == 2
    assert marked() == []


@pytest.mark.django_db
def test_marking_a_known_member_for_recompute_does_not_write_the_member_row(tmp_path):
    """The mark is a row of its own: the wide member row (and its indexes) is not written again."""
    if connection.vendor != "postgresql":
        pytest.skip("row versions are PostgreSQL's")
    ingest(tmp_path, [event(1, "a", "reply", username="ann")], "a.jsonl")
    levels_recompute()

    def row_version() -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT xmin::text FROM {CommunityMember._meta.db_table} WHERE external_id = 'a'")
            return cursor.fetchone()[0]

    before = row_version()
    ingest(tmp_path, [event(2, "a", "reply", username="ann")], "b.jsonl")
    assert marked() == ["a"]
    assert row_version() == before


def _wait_for_a_lock_wait(done: threading.Event) -> None:
    """Until another session waits on a lock (or `done` is set, or 10 s pass)."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while not done.is_set() and time.monotonic() < deadline:
            cursor.execute("SELECT COUNT(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_recompute_never_takes_the_mark_of_an_ingestion_that_has_not_committed(tmp_path):
    """The member is already marked; an ingestion batch adds events (its mark finds the one there) and
    has not committed when the recompute starts. The recompute waits for it and counts its events;
    it may never unmark the member while leaving those events out."""
    ingest(tmp_path, [event(1, "a", "reply")], "a.jsonl")
    written, commit, recomputed = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def batch():
        try:
            with transaction.atomic():
                ingest(tmp_path, [event(2, "a", "reply")], "b.jsonl")
                written.set()
                commit.wait(10)
        except BaseException as error:
            errors.append(error)
        finally:
            written.set()
            connection.close()

    def recompute():
        try:
            levels_recompute()
        except BaseException as error:
            errors.append(error)
        finally:
            recomputed.set()
            connection.close()

    threads = [threading.Thread(target=batch), threading.Thread(target=recompute)]
    threads[0].start()
    written.wait(10)
    threads[1].start()
    _wait_for_a_lock_wait(recomputed)
    commit.set()
    for thread in threads:
        thread.join(30)
    assert not errors
    member = CommunityMember.objects.get(external_id="a")
    # Both events counted, or the member still marked for the next run: never one event and no mark.
    assert member.m_replies == 2 or marked() == ["a"]
    levels_recompute()
    assert CommunityMember.objects.get(external_id="a").m_replies == 2


@pytest.mark.django_db(transaction=True)
def test_an_ingestion_during_a_recompute_leaves_its_marks_for_the_next_run(tmp_path):
    ingest(tmp_path, [event(1, "a", "reply"), event(2, "b", "reply")], "a.jsonl")
    levels_recompute()
    ingest(tmp_path, [event(3, "a", "reply")], "b.jsonl")  # a is marked, b is not
    taken, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    results = []

    def recompute():
        try:
            with transaction.atomic():
                results.append(levels_recompute())
                taken.set()
                release.wait(10)
        except BaseException as error:
            errors.append(error)
        finally:
            taken.set()
            connection.close()

    def batch():
        try:
            ingest(tmp_path, [event(4, "a", "reply"), event(5, "b", "reply")], "c.jsonl")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    recomputing = threading.Thread(target=recompute)
    recomputing.start()
    taken.wait(10)
    ingesting = threading.Thread(target=batch)
    ingesting.start()
    done = threading.Event()
    _wait_for_a_lock_wait(done)  # the batch waits for the recompute (it took a's mark), or is through
    release.set()
    recomputing.join(30)
    ingesting.join(30)
    assert not errors
    assert results[0].members == 1
    assert marked() == ["a", "b"]
    assert levels_recompute().members == 2
    assert list(CommunityMember.objects.order_by("external_id").values_list("m_replies", flat=True)) == [3, 2]
    assert marked() == []
