"""The level history's references (member, run, former and new level) without row-by-row foreign keys.

PostgreSQL checked each of the four once per history row at commit (a lookup and a lock each: 91,628 for
the bench's 22,907 changes, most of a second). What they guarded stays guarded (PostgreSQL):
- a statement that writes history rows referring to a missing member, run or level fails (one set-based
  check per statement);
- a member, run or level the history still refers to cannot be deleted (a deferred trigger at the
  deletion's commit; Django's cascade or SET NULL takes the history rows first);
- a recompute locks the levels and its changed members before it writes their history, so a deletion
  running beside it waits and then fails instead of leaving a dangling reference.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import (
    CommunityMember,
    DailyActivity,
    Level,
    LevelChange,
    LevelRequirement,
    PendingRecompute,
    RecomputeRun,
)
from community_levels.recompute import levels_recompute
from tests.community_levels.helpers import event, in_thread, write_jsonl

HISTORY = LevelChange._meta.db_table

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's constraints and triggers")


def ingest(tmp_path, events, name):
    return ingest_stream(parse_file(write_jsonl(tmp_path / name, events)), source="file")


def _orphans() -> int:
    """History rows whose member, run or level no longer exists."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {HISTORY} h WHERE NOT EXISTS (SELECT 1 FROM {CommunityMember._meta.db_table} m "
            f"WHERE m.id = h.member_id) OR NOT EXISTS (SELECT 1 FROM {RecomputeRun._meta.db_table} r "
            f"WHERE r.id = h.run_id) OR h.from_level_id NOT IN (SELECT id FROM {Level._meta.db_table}) "
            f"OR h.to_level_id NOT IN (SELECT id FROM {Level._meta.db_table})"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_level_history_has_no_row_by_row_foreign_key_and_a_deferred_guard_on_each_table_it_refers_to():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [HISTORY])
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT c.relname, t.tgdeferrable, t.tginitdeferred FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname LIKE '%%keeps_level_history' ORDER BY c.relname"
        )
        guards = cursor.fetchall()
    referred = sorted(model._meta.db_table for model in (CommunityMember, Level, RecomputeRun))
    assert guards == [(table, True, True) for table in referred]


@pytest.mark.django_db(transaction=True)
def test_history_rows_that_refer_to_a_missing_member_run_or_level_are_refused(tmp_path):
    ingest(tmp_path, [event(1, "m1", "reply")], "a.jsonl")
    levels_recompute()
    change = LevelChange.objects.get()
    missing = 10**9
    for column in ("member_id", "run_id", "from_level_id", "to_level_id"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {HISTORY} (member_id, run_id, from_level_id, to_level_id, changed_at, reason) "
                "VALUES (%s, %s, %s, %s, %s, 'test')",
                [
                    missing if column == "member_id" else change.member_id,
                    missing if column == "run_id" else change.run_id,
                    missing if column == "from_level_id" else change.to_level_id,
                    missing if column == "to_level_id" else change.to_level_id,
                    timezone.now(),
                ],
            )
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {HISTORY} SET {column} = %s", [missing])
    assert LevelChange.objects.count() == 1 and _orphans() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", [CommunityMember, RecomputeRun, Level])
def test_what_the_history_refers_to_cannot_be_deleted_behind_its_back_but_django_deletes_it(tmp_path, model):
    ingest(tmp_path, [event(1, "m1", "reply")], "a.jsonl")
    levels_recompute()
    change = LevelChange.objects.get()
    target = {
        CommunityMember: change.member_id,
        RecomputeRun: change.run_id,
        Level: change.to_level_id,
    }[model]
    # Only the history refers to it from here on: the other references (their own guards) out of the way first.
    if model is CommunityMember:
        DailyActivity.objects.filter(member_id=target).delete()
        PendingRecompute.objects.filter(member_id=target).delete()
    if model is Level:
        CommunityMember.objects.update(level=None)
        LevelRequirement.objects.filter(level_id=target).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE id = %s", [target])
    assert model.objects.filter(pk=target).exists()
    model.objects.get(pk=target).delete()  # Django's cascade (member, run) or SET NULL (level) goes first
    assert not model.objects.filter(pk=target).exists()
    assert _orphans() == 0
    if model is Level:
        assert LevelChange.objects.get().to_level_id is None


@pytest.mark.django_db(transaction=True)
def test_a_member_deleted_while_a_recompute_writes_its_history_waits_and_then_fails_loudly(tmp_path):
    ingest(tmp_path, [event(1, "m1", "reply")], "a.jsonl")
    levels_recompute()
    ingest(tmp_path, [event(2, "m1", "reply", quantity=400)], "b.jsonl")
    # A full recompute (which takes everyone): no mark of the member for the deletion to wait on.
    PendingRecompute.objects.all().delete()
    outcome: dict = {}
    threads: list = []

    def interleave(execute, sql, params, many, context):
        done = execute(sql, params, many, context)
        if not threads and sql.startswith(f"INSERT INTO {HISTORY}"):
            threads.append(in_thread(CommunityMember.objects.get(external_id="m1").delete, outcome, wait=2))
        return done

    with connection.execute_wrapper(interleave):
        result = levels_recompute(full=True)
    assert threads, "the recompute writes history"
    threads[0].join(timeout=30)
    assert result.changed == 1
    assert isinstance(outcome.get("error"), IntegrityError), outcome  # the new history is there: refused
    assert CommunityMember.objects.filter(external_id="m1").exists()
    assert LevelChange.objects.count() == 2 and _orphans() == 0


@pytest.mark.django_db(transaction=True)
def test_a_level_deleted_while_a_recompute_runs_waits_and_then_fails_loudly(tmp_path):
    """The level the member moves to is deleted once the run has placed its members: the deletion waits
    for the run's lock on the levels, the run commits its history, and the deletion is refused."""
    ingest(tmp_path, [event(1, "m1", "reply")], "a.jsonl")
    levels_recompute()
    before = CommunityMember.objects.get(external_id="m1").level_id
    ingest(tmp_path, [event(2, "m1", "reply", quantity=400)], "b.jsonl")
    with transaction.atomic():  # where the run will place the member (then undone)
        levels_recompute()
        target = CommunityMember.objects.get(external_id="m1").level_id
        transaction.set_rollback(True)
    assert target not in (None, before)
    outcome: dict = {}
    threads: list = []

    def interleave(execute, sql, params, many, context):
        done = execute(sql, params, many, context)
        if not threads and sql.startswith("CREATE TEMP TABLE community_placed"):
            threads.append(in_thread(Level.objects.get(pk=target).delete, outcome, wait=2))
        return done

    with connection.execute_wrapper(interleave):
        result = levels_recompute()
    assert threads, "the recompute places its members"
    threads[0].join(timeout=30)
    assert result.changed == 1
    assert isinstance(outcome.get("error"), IntegrityError), outcome
    assert CommunityMember.objects.get(external_id="m1").level_id == target
    assert LevelChange.objects.filter(to_level_id=target).count() == 1 and _orphans() == 0
