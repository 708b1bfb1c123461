"""How a batch writes on PostgreSQL: exactly what it inserted is added, first line first, commit asynchronous."""

import threading
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity, PendingRecompute
from tests.community_levels.helpers import BASE_TIME, event, in_thread, write_csv, write_jsonl

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
def test_an_event_a_rival_commits_while_the_insert_runs_is_skipped_and_not_counted(tmp_path):
    """The batch's insert meets a stored id the rival has not committed yet: it waits for the rival, then
    neither fails nor counts the event (the insert that finds no stored id falls back to the one that
    skips conflicts, the first having written nothing)."""
    events = [event(n, "m1", "reply", quantity=n) for n in range(1, 5)]
    path = write_jsonl(tmp_path / "a.jsonl", events)
    member = CommunityMember.objects.create(external_id="m1")
    stored, release, rival = threading.Event(), threading.Event(), {}

    def store_e2_and_hold():
        try:
            with transaction.atomic():
                ActivityEvent.objects.create(
                    source="file", event_id="e2", member=member, kind="reply", occurred_at=timezone.now(),
                    day=1, quantity=2, ingested_at=timezone.now(),
                )  # fmt: skip
                stored.set()
                release.wait(timeout=10)
            rival["stored"] = True
        except Exception as error:  # pragma: no cover - reported by the assertion below
            rival["error"] = error
        finally:
            stored.set()
            connection.close()

    thread = threading.Thread(target=store_e2_and_hold)

    def interleave(execute, sql, params, many, context):
        if not thread.is_alive() and not rival and f"INSERT INTO {EVENT_TABLE}" in sql:
            thread.start()
            stored.wait(timeout=10)
            # The rival commits once the batch's insert waits for its row (a lock it cannot take yet).
            threading.Timer(0.5, release.set).start()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(interleave):
        result = ingest_stream(parse_file(path), source="file", fast=True)
    thread.join(timeout=10)
    assert rival == {"stored": True}
    assert (result.imported, result.duplicates) == (3, 1)
    assert ActivityEvent.objects.filter(source="file").count() == 4
    assert DailyActivity.objects.aggregate(q=Sum("quantity"), n=Sum("events")) == {"q": 1 + 3 + 4, "n": 3}


DAILY_TABLE = DailyActivity._meta.db_table


def _adds_to_daily(sql: str) -> bool:
    """The statement of a batch that writes the daily totals (MERGE or INSERT, its own or in a CTE)."""
    return f"MERGE INTO {DAILY_TABLE}" in sql or f"INSERT INTO {DAILY_TABLE}" in sql


def _rival_holding(write, hold: float = 0.5):
    """A rival writer of the daily totals on its own connection: it runs `write` in a transaction the
    first time the batch is about to write its totals, and commits `hold` seconds later, once the
    batch's statement waits for the rival's row. Returns (execute wrapper, result, thread)."""
    ready, release, rival = threading.Event(), threading.Event(), {}

    def run():
        try:
            with transaction.atomic():
                write()
                ready.set()
                release.wait(timeout=10)
            rival["committed"] = True
        except Exception as error:  # pragma: no cover - reported by the caller's assertion
            rival["error"] = error
        finally:
            ready.set()
            connection.close()

    thread = threading.Thread(target=run)

    def interleave(execute, sql, params, many, context):
        if not thread.is_alive() and not rival and _adds_to_daily(sql):
            thread.start()
            ready.wait(timeout=10)
            threading.Timer(hold, release.set).start()
        return execute(sql, params, many, context)

    return interleave, rival, thread


@pytest.mark.django_db(transaction=True)
def test_a_daily_total_a_rival_inserts_while_the_batch_adds_is_added_to(tmp_path):
    """Another writer (an import of another source) inserts a total the batch is about to insert too and
    commits while the batch waits for it: the batch adds to that total, nothing is lost or fails."""
    path = write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply", quantity=2), event(2, "m1", "reply", quantity=3)])
    member = CommunityMember.objects.create(external_id="m1")
    day = (BASE_TIME.date() - date(1970, 1, 1)).days  # the events' day, as the import counts it
    interleave, rival, thread = _rival_holding(
        lambda: DailyActivity.objects.create(member=member, day=day, kind="reply", quantity=100, events=1)
    )
    with connection.execute_wrapper(interleave):
        result = ingest_stream(parse_file(path), source="file", fast=True)
    thread.join(timeout=10)
    assert rival == {"committed": True}
    assert result.imported == 2
    assert list(DailyActivity.objects.values_list("member_id", "day", "kind", "quantity", "events")) == [
        (member.pk, day, "reply", 100 + 2 + 3, 1 + 2)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_daily_total_a_rival_updates_while_the_batch_adds_keeps_both_additions(tmp_path):
    """A rival adding to a stored total (an import of another source, a revocation taking back) holds
    it while the batch adds to it: the batch waits, then adds to the total as the rival left it."""
    first = write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply", quantity=2)])
    ingest_stream(parse_file(first), source="file", fast=True)
    total = DailyActivity.objects.get()
    path = write_jsonl(tmp_path / "b.jsonl", [event(2, "m1", "reply", quantity=3), event(3, "m1", "reply", quantity=4)])
    interleave, rival, thread = _rival_holding(
        lambda: DailyActivity.objects.filter(pk=total.pk).update(quantity=F("quantity") + 100, events=F("events") + 1)
    )
    with connection.execute_wrapper(interleave):
        result = ingest_stream(parse_file(path), source="file", fast=True)
    thread.join(timeout=10)
    assert rival == {"committed": True}
    assert result.imported == 2
    assert list(DailyActivity.objects.values_list("quantity", "events")) == [(2 + 100 + 3 + 4, 1 + 1 + 2)]


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


def _orphans() -> int:
    """Daily totals whose member no longer exists."""
    return DailyActivity.objects.exclude(member_id__in=CommunityMember.objects.values("pk")).count()


@pytest.mark.django_db(transaction=True)
def test_a_member_with_daily_totals_cannot_be_deleted_behind_the_aggregates_back(tmp_path):
    ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply")])), source="file")
    member = CommunityMember.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CommunityMember._meta.db_table} WHERE id = %s", [member.pk])
    assert CommunityMember.objects.filter(pk=member.pk).exists()
    member.delete()  # Django's cascade takes the totals first
    assert not DailyActivity.objects.exists()


def _delete_member_in_thread(external_id: str, outcome: dict, *, wait: float) -> threading.Thread:
    return in_thread(
        lambda: CommunityMember.objects.get(external_id=external_id).delete(), outcome, wait=wait, done="deleted"
    )


@pytest.mark.django_db(transaction=True)
def test_a_member_deleted_while_a_batch_holds_its_members_waits_and_then_fails_loudly(tmp_path):
    ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply")])), source="file")
    PendingRecompute.objects.all().delete()  # as a recompute takes them
    outcome: dict = {}
    threads = []

    def interleave(execute, sql, params, many, context):
        done = execute(sql, params, many, context)
        if not threads and "FOR KEY SHARE" in sql:
            threads.append(_delete_member_in_thread("m1", outcome, wait=2))
        return done

    with connection.execute_wrapper(interleave):
        result = ingest_stream(parse_file(write_jsonl(tmp_path / "b.jsonl", [event(2, "m1", "post")])), source="file")
    assert threads, "the batch locks its members"
    threads[0].join(timeout=30)
    assert result.imported == 1
    assert isinstance(outcome.get("error"), IntegrityError)  # the batch's totals are there: refused
    assert CommunityMember.objects.filter(external_id="m1").exists()
    assert DailyActivity.objects.count() == 2 and _orphans() == 0


@pytest.mark.django_db(transaction=True)
def test_a_member_deleted_after_a_batch_read_it_fails_the_batch_loudly(tmp_path):
    """The deletion commits between the batch reading its members and locking them: nothing of the batch stays."""
    ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply")])), source="file")
    PendingRecompute.objects.all().delete()  # as a recompute takes them
    outcome: dict = {}

    def interleave(execute, sql, params, many, context):
        if not outcome and "FOR KEY SHARE" in sql:
            _delete_member_in_thread("m1", outcome, wait=30)
        return execute(sql, params, many, context)

    events = [event(2, "m1", "post"), event(3, "m2", "post")]
    with pytest.raises(IntegrityError), connection.execute_wrapper(interleave):
        ingest_stream(parse_file(write_jsonl(tmp_path / "b.jsonl", events)), source="file")
    assert outcome == {"deleted": True}
    assert not ActivityEvent.objects.exists() and not DailyActivity.objects.exists()
    assert list(CommunityMember.objects.values_list("external_id", flat=True)) == []


@pytest.mark.django_db
@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_a_batch_is_staged_piece_by_piece_as_it_is_read(tmp_path, monkeypatch, fast):
    """A large batch never waits in memory whole: its lines go to the staging table a piece at a time."""
    from community_levels.ingestion import writing

    lines = [event(n, f"m{n % 3}", "reply") for n in range(1, 12)] + [{"event_id": "bad"}]
    read = {"n": 0}
    staged_after: list[int] = []

    def counted():
        for item in parse_file(write_csv(tmp_path / "a.csv", lines), lane=fast):
            read["n"] += 1
            yield item

    for name in ("_stage_by_copy", "_stage_by_insert"):
        real = getattr(writing, name)

        def spy(*args, _real=real, **kwargs):
            staged_after.append(read["n"])
            return _real(*args, **kwargs)

        monkeypatch.setattr(writing, name, spy)
    monkeypatch.setattr(writing, "PIECE_LINES", 4)
    batches = []
    result = ingest_stream(counted(), source="file", fast=fast, batch_size=1000, on_batch=batches.append)
    assert (result.read, result.imported, result.bad, len(batches)) == (12, 11, 1, 1)
    assert result.errors == [{"line": 13, "reason": "missing member_id"}]
    assert staged_after == [4, 8, 12]  # pieces of 4 lines, each staged before the next is read
    assert DailyActivity.objects.aggregate(n=Sum("events"))["n"] == 11


@pytest.mark.django_db
def test_runs_of_chunks_keep_the_file_line_numbers_that_decide_which_repeat_is_first(tmp_path, monkeypatch):
    """Consecutive chunks go to COPY together, numbered from their first line; a bad line starts a new run."""
    from community_levels.ingestion import canonical

    monkeypatch.setattr(canonical, "CHUNK_LINES", 2)
    rows = [f"x{n},m1,reply,2026-03-02T09:00:00+00:00,{n}" for n in range(1, 5)]  # lines 2-5, two chunks
    rows += ["x9,m1,reply,2026-03-02T09:00:00+00:00,1", "bad,m1,dance,2026-03-02T09:00:00+00:00,1"]  # 6, 7
    rows += ["x9,m1,reply,2026-03-02T09:00:00+00:00,50", "x4,m1,reply,2026-03-02T09:00:00+00:00,70"]  # 8, 9
    path = tmp_path / "runs.csv"
    path.write_text("event_id,member_id,kind,occurred_at,quantity\n" + "\n".join(rows) + "\n")
    assert sum(isinstance(item, canonical.Chunk) for _no, item in parse_file(path, lane=True)) >= 3
    result = ingest_stream(parse_file(path, lane=True), source="file", fast=True)
    assert (result.imported, result.duplicates, result.bad) == (5, 2, 1)
    assert [error["line"] for error in result.errors] == [7]
    assert dict(ActivityEvent.objects.values_list("event_id", "quantity")) == {
        "x1": 1, "x2": 2, "x3": 3, "x4": 4, "x9": 1
    }  # fmt: skip


@pytest.mark.django_db
def test_a_chunk_of_canonical_lines_keeps_names_beyond_ascii(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text(
        "event_id,member_id,username,kind,occurred_at\n"
        "u1,m1,Zoë Ünal,reply,2026-03-02T09:00:00+00:00\nu2,m2,李小龍,post,2026-03-02T09:00:00+00:00\n",
        encoding="utf-8",
    )
    from community_levels.ingestion import canonical

    assert [type(item) for _no, item in parse_file(path, lane=True)] == [canonical.Chunk]
    assert ingest_stream(parse_file(path, lane=True), source="file", fast=True).imported == 2
    assert dict(CommunityMember.objects.values_list("external_id", "username")) == {"m1": "Zoë Ünal", "m2": "李小龍"}


@pytest.mark.django_db
def test_event_ids_and_their_staging_compare_byte_by_byte():
    """Migration 0016: the dedup key's ids sort bytewise (collation "C"), as the staged ids do; an
    AlterField of the column that dropped it would make every batch sort by locale rules again."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [EVENT_TABLE, "event_id"],
        )
        assert cursor.fetchone() == ("C",)
    a, b = ("e-b", "eA")  # "-" < "A" bytewise; most locales ignore punctuation and put "eA" first
    for source, event_id in (("x", a), ("x", b)):
        ActivityEvent.objects.create(
            source=source, event_id=event_id, member=CommunityMember.objects.get_or_create(external_id="m")[0],
            kind="reply", occurred_at=timezone.now(), day=1, ingested_at=timezone.now(),
        )  # fmt: skip
    assert list(ActivityEvent.objects.order_by("event_id").values_list("event_id", flat=True)) == [a, b]
