import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from community_levels import ingestion, services
from community_levels.ingestion import ingest_stream, parse_file, writing
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity, PendingRecompute
from tests.community_levels.helpers import event, sample_events, write_csv, write_jsonl
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def totals() -> dict:
    aggregate = DailyActivity.objects.aggregate(q=Sum("quantity"), m=Sum("minutes"), e=Sum("events"))
    per_kind = dict(DailyActivity.objects.values_list("kind").annotate(Sum("quantity")).order_by())
    return {
        "events": ActivityEvent.objects.count(),
        "members": CommunityMember.objects.count(),
        **aggregate,
        **per_kind,
    }


@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_ingesting_the_same_file_twice_imports_nothing_the_second_time(tmp_path, fast):
    path = write_jsonl(tmp_path / "activity.jsonl", sample_events())
    first = ingest_stream(parse_file(path), source="file", fast=fast)
    before = totals()
    second = ingest_stream(parse_file(path), source="file", fast=fast)
    assert (first.read, first.imported, first.duplicates, first.bad) == (40, 40, 0, 0)
    assert (second.read, second.imported, second.duplicates) == (40, 0, 40)
    assert totals() == before


@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_a_file_split_in_two_halves_gives_the_same_totals(tmp_path, fast):
    events = sample_events(members=6, per_member=9)
    whole = write_jsonl(tmp_path / "whole.jsonl", events)
    ingest_stream(parse_file(whole), source="file", fast=fast)
    expected = totals()
    ActivityEvent.objects.all().delete()
    DailyActivity.objects.all().delete()
    CommunityMember.objects.all().delete()
    half = len(events) // 2
    first = write_csv(tmp_path / "first.csv", events[:half])
    second = write_jsonl(tmp_path / "second.jsonl", events[half:])
    a = ingest_stream(parse_file(first), source="file", fast=fast)
    b = ingest_stream(parse_file(second), source="file", fast=fast)
    assert a.imported + b.imported == len(events)
    assert totals() == expected


@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_a_run_interrupted_after_the_first_batch_and_rerun_gives_the_same_totals(tmp_path, monkeypatch, fast):
    events = sample_events(members=8, per_member=10)
    path = write_jsonl(tmp_path / "activity.jsonl", events)
    ingest_stream(parse_file(path), source="file", fast=fast, batch_size=25)
    expected = totals()
    ActivityEvent.objects.all().delete()
    DailyActivity.objects.all().delete()
    CommunityMember.objects.all().delete()

    real_write = writing.write_batch
    calls = {"n": 0}

    def dying_write(batch, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real_write(batch, **kwargs)

    monkeypatch.setattr(writing, "write_batch", dying_write)
    with pytest.raises(KeyboardInterrupt):
        ingest_stream(parse_file(path), source="file", fast=fast, batch_size=25)
    assert ActivityEvent.objects.count() == 25  # the first batch is committed, the second rolled back
    monkeypatch.setattr(writing, "write_batch", real_write)
    rerun = ingest_stream(parse_file(path), source="file", fast=fast, batch_size=25)
    assert rerun.imported == len(events) - 25
    assert rerun.duplicates == 25
    assert totals() == expected


def test_replays_within_one_file_count_once(tmp_path):
    events = [event(1, "m1", "reply"), event(1, "m1", "reply"), event(2, "m1", "reply", quantity=3)]
    result = ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", events)), source="file")
    assert (result.imported, result.duplicates) == (2, 1)
    assert DailyActivity.objects.get(kind="reply").quantity == 4


def test_every_kind_of_bad_jsonl_line_is_reported_with_its_number_and_good_lines_are_kept(tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [
        json.dumps(event(1, "m1", "reply")),  # 1 good
        json.dumps(event(2, "m1", "dance")),  # 2 unknown kind
        json.dumps({**event(3, "m1", "reply"), "occurred_at": "yesterday"}),  # 3 bad timestamp
        json.dumps({**event(4, "m1", "reply"), "occurred_at": "2026-03-02T09:00:00"}),  # 4 no zone
        json.dumps({k: v for k, v in event(5, "m1", "reply").items() if k != "event_id"}),  # 5 missing id
        json.dumps({**event(6, "m1", "reply"), "quantity": "three"}),  # 6 wrong type
        '{"event_id": "e7", "member_id": ',  # 7 invalid JSON
        "",  # 8 blank: skipped, not counted
        json.dumps([1, 2]),  # 9 not an object
        json.dumps({**event(10, "m1", "reply"), "member_id": {"id": 1}}),  # 10 wrong type of id
        json.dumps(event(11, "m2", "accepted_solution")),  # 11 good
    ]
    path.write_text("\n".join(lines) + "\n")
    result = ingest_stream(parse_file(path), source="file")
    assert (result.read, result.imported, result.bad) == (10, 2, 8)
    reasons = {error["line"]: error["reason"] for error in result.errors}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 9, 10]
    assert "unknown kind 'dance'" in reasons[2]
    assert "bad timestamp 'yesterday'" in reasons[3]
    assert "no time zone" in reasons[4]
    assert reasons[5] == "missing event_id"
    assert "quantity must be a whole number" in reasons[6]
    assert reasons[7].startswith("invalid JSON")
    assert reasons[9] == "expected a JSON object"
    assert "member_id must be a string or an integer" in reasons[10]
    assert set(ActivityEvent.objects.values_list("event_id", flat=True)) == {"e1", "e11"}


def test_a_number_too_long_to_read_is_a_bad_line_not_a_crash():
    """Found by mypy: the standard library refuses an integer past 4300 digits with a plain ValueError
    (no `.msg`), which made the reader raise AttributeError and lose the whole import."""
    huge = '{"event_id": "e1", "quantity": ' + "1" * 5000 + "}"
    parsed = list(ingestion.parse_jsonl([huge, json.dumps(event(2, "m1", "reply"))]))
    assert [line for line, _ in parsed] == [1, 2]
    first = parsed[0][1]
    assert isinstance(first, ingestion.LineError)
    assert first.reason.startswith("invalid JSON: Exceeds the limit")


def test_bad_csv_lines_are_reported_with_their_line_numbers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "event_id,member_id,kind,occurred_at,quantity\n"
        "c1,m1,reply,2026-03-02T09:00:00+00:00,2\n"
        "c2,m1,reply,2026-03-02T09:00:00+00:00\n"  # wrong column count
        "c3,m1,reply,2026-13-02T09:00:00+00:00,1\n"  # bad timestamp
        "c4,m1,post,2026-03-02T09:00:00Z,-1\n"  # wrong type
        ",m1,post,2026-03-02T09:00:00Z,1\n"  # missing id
        "c6,m1,shout,2026-03-02T09:00:00Z,1\n"  # unknown kind
        'c7,m2,idea,"2026-03-02T09:00:00+02:00",1\n'
    )
    result = ingest_stream(parse_file(path), source="file")
    assert (result.read, result.imported, result.bad) == (7, 2, 5)
    assert [(e["line"], e["reason"].split(" ")[0]) for e in result.errors] == [
        (3, "expected"),
        (4, "bad"),
        (5, "quantity"),
        (6, "missing"),
        (7, "unknown"),
    ]
    assert result.errors[0]["reason"] == "expected 5 columns, found 4"


def test_csv_with_a_bad_header_is_one_clear_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,who,what\n1,2,3\n")
    result = ingest_stream(parse_file(path), source="file")
    assert result.bad == 1
    assert result.errors[0]["line"] == 1
    assert "missing column(s) event_id, member_id, kind, occurred_at" in result.errors[0]["reason"]


def test_error_list_is_capped_but_the_count_is_exact(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("not json\n" * 250)
    result = ingest_stream(parse_file(path), source="file")
    assert result.bad == 250
    assert len(result.errors) == ingestion.MAX_REPORTED_ERRORS


def test_self_likes_are_stored_but_never_counted(tmp_path):
    events = [
        event(1, "m1", "like_given", target_member_id="m1"),
        event(2, "m1", "like_received", target_member_id="m1"),
        event(3, "m1", "like_given", target_member_id="m2"),
    ]
    result = ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", events)), source="file")
    assert result.imported == 3
    assert ActivityEvent.objects.filter(is_self_like=True).count() == 2
    assert list(DailyActivity.objects.values_list("kind", "quantity")) == [("like_given", 1)]


def test_members_are_linked_to_ma_accounts_by_email(tmp_path):
    user = UserFactory(email="ava@example.com")
    events = [event(1, "m1", "reply", email="AVA@example.com", username="ava"), event(2, "m2", "reply")]
    ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", events)), source="file")
    assert CommunityMember.objects.get(external_id="m1").user == user
    assert CommunityMember.objects.get(external_id="m2").user is None


def test_ingestion_marks_only_touched_members_for_recompute(tmp_path):
    ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply")])), source="file")
    PendingRecompute.objects.all().delete()
    ingest_stream(parse_file(write_jsonl(tmp_path / "b.jsonl", [event(2, "m2", "reply")])), source="file")
    marked = CommunityMember.objects.filter(pending_recompute__isnull=False)
    assert list(marked.values_list("external_id", flat=True)) == ["m2"]


def test_same_event_id_from_another_source_is_a_different_event(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply")])
    assert ingest_stream(parse_file(path), source="file").imported == 1
    assert ingest_stream(parse_file(path), source="forum").imported == 1


def test_ingest_activity_command_prints_one_json_object(tmp_path, django_capture_on_commit_callbacks):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(event(1, "m1", "reply")) + "\nnope\n" + json.dumps(event(1, "m1", "reply")) + "\n")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("ingest_activity", str(path), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "read": 3,
        "imported": 1,
        "duplicates": 1,
        "bad": 1,
        "errors": [{"line": 2, "reason": "invalid JSON: Expecting value"}],
    }
    # the recompute ran after the import (Celery is eager in tests)
    assert CommunityMember.objects.get().level is not None


def test_drop_folder_files_are_ingested_and_moved_to_processed(tmp_path, settings):
    settings.COMMUNITY_DROP_FOLDER = tmp_path / "drop"
    (tmp_path / "drop").mkdir()
    write_jsonl(tmp_path / "drop" / "a.jsonl", sample_events(members=2, per_member=3))
    write_csv(tmp_path / "drop" / "b.csv", [event(100, "m9", "idea")])
    done = services.drop_folder_ingest()
    assert [(name, result.imported) for name, result in done] == [("a.jsonl", 6), ("b.csv", 1)]
    assert sorted(p.name for p in (tmp_path / "drop" / "processed").iterdir()) == ["a.jsonl", "b.csv"]
    assert not list((tmp_path / "drop").glob("*.jsonl"))
    # the same file dropped again adds nothing
    write_jsonl(tmp_path / "drop" / "a.jsonl", sample_events(members=2, per_member=3))
    again = services.drop_folder_ingest()
    assert again[0][1].imported == 0
    assert len(list((tmp_path / "drop" / "processed").iterdir())) == 3


def test_the_drop_folder_takes_every_kind_of_file_the_admin_upload_takes(tmp_path, settings):
    """One list of activity files: a .json (JSON Lines) or .ndjson file the import page accepts is not left
    lying in the drop folder."""
    settings.COMMUNITY_DROP_FOLDER = tmp_path / "drop"
    (tmp_path / "drop").mkdir()
    write_jsonl(tmp_path / "drop" / "a.json", [event(1, "m1", "reply")])
    write_jsonl(tmp_path / "drop" / "b.ndjson", [event(2, "m2", "idea")])
    (tmp_path / "drop" / "notes.txt").write_text("not an activity file")

    done = services.drop_folder_ingest()

    assert [(name, result.imported) for name, result in done] == [("a.json", 1), ("b.ndjson", 1)]
    assert sorted(p.name for p in (tmp_path / "drop").iterdir() if p.is_file()) == ["notes.txt"]


def test_members_are_linked_when_their_ma_account_is_created_later(tmp_path):
    ingest_stream(
        parse_file(write_jsonl(tmp_path / "a.jsonl", [event(1, "m1", "reply", email="late@example.com")])),
        source="file",
    )
    PendingRecompute.objects.all().delete()
    user = UserFactory(email="Late@example.com")
    assert services.members_link_accounts() == 1
    member = CommunityMember.objects.get()
    assert member.user == user and PendingRecompute.objects.filter(member=member).exists()
    assert services.members_link_accounts() == 0


def test_integral_floats_are_whole_numbers_and_fractions_are_refused_with_their_line(tmp_path):
    """pandas writes integer columns with gaps as floats: `3.0` is three, `2.5` is an error on its line."""
    path = write_jsonl(
        tmp_path / "floats.jsonl",
        [
            event(1, "m1", "read", quantity=3.0, minutes=12.0),
            event(2, "m1", "visit", minutes=2.5),
            event(3, "m1", "reply", quantity=1e0),
        ],
    )
    result = services.activity_ingest_file(path=path, recompute=False)
    assert (result.imported, result.bad) == (2, 1)
    assert result.errors == [{"line": 2, "reason": "minutes must be a whole number, got 2.5"}]
    read = ActivityEvent.objects.get(event_id="e1")
    assert (read.quantity, read.minutes) == (3, 12)


def test_csv_integral_floats_are_whole_numbers(tmp_path):
    path = write_csv(
        tmp_path / "floats.csv",
        [event(1, "m1", "read", quantity="3.0", minutes="12.00"), event(2, "m1", "read", quantity="3.5")],
    )
    result = services.activity_ingest_file(path=path, recompute=False)
    assert (result.imported, result.bad) == (1, 1)
    assert result.errors == [{"line": 3, "reason": "quantity must be a whole number, got '3.5'"}]
    assert ActivityEvent.objects.get(event_id="e1").quantity == 3


def test_ingestion_writes_only_the_indexes_it_needs():
    """Each event costs one entry per index: the key and the dedup key (a member's events are found by
    a scan: only deleting a member and the admin's search by member look for them).

    The daily aggregates have one index: their key (member, day, kind), which also serves lookups by
    member (migration 0017 dropped the surrogate id, a second index written with every total).
    """
    from django.db import connection

    from community_levels.models import ActivityEvent, DailyActivity

    def indexed(model) -> list[list[str]]:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
        return sorted(c["columns"] for c in found.values() if c["index"] or c["unique"])

    assert indexed(ActivityEvent) == [["id"], ["source", "event_id"]]
    assert indexed(DailyActivity) == [["member_id", "day", "kind"]]
    with connection.cursor() as cursor:
        key = [
            c["columns"]
            for c in connection.introspection.get_constraints(cursor, DailyActivity._meta.db_table).values()
            if c["primary_key"]
        ]
    assert key == [["member_id", "day", "kind"]]


def test_events_skip_the_row_by_row_member_check_and_daily_totals_leave_room_for_hot_updates():
    """Neither the events' member nor the daily totals' is a row-by-row database constraint (a lookup and
    a lock per row); a deferred trigger refuses to delete a member who still has totals (each batch locks
    its members once: test_ingestion_writes.py); the totals' pages keep 30% free."""
    from django.db import connection

    from community_levels.models import ActivityEvent, DailyActivity

    def foreign_keys(model) -> list[str]:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
        return sorted(c["columns"][0] for c in found.values() if c["foreign_key"])

    assert foreign_keys(ActivityEvent) == []
    assert foreign_keys(DailyActivity) == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgdeferrable, tginitdeferred FROM pg_trigger WHERE tgrelid = %s::regclass"
            " AND tgname = 'communitymember_keeps_daily_totals'",
            [CommunityMember._meta.db_table],
        )
        assert cursor.fetchall() == [("communitymember_keeps_daily_totals", True, True)]
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [DailyActivity._meta.db_table])
        assert cursor.fetchone()[0] == ["fillfactor=70"]


def test_a_binary_file_is_refused_by_the_import_and_its_preview_before_anything_is_written(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(services.CommunityError, match=r"not a text CSV or JSON Lines file \(it is not UTF-8 text"):
        services.activity_preview_file(path=path)
    with pytest.raises(services.CommunityError, match="not UTF-8 text"):
        services.activity_ingest_file(path=path, recompute=False)
    assert ActivityEvent.objects.count() == 0


def test_a_file_whose_line_after_the_first_batch_is_not_utf8_imports_nothing(tmp_path):
    """The refusal comes before the first batch: a late bad byte leaves no half-imported file behind."""
    path = tmp_path / "late.jsonl"
    good = "".join(json.dumps(event(n, "m1", "reply")) + "\n" for n in range(1, 31))
    path.write_bytes(good.encode() + b'{"username": "Jos\xe9"}\n')
    with pytest.raises(services.CommunityError, match="not UTF-8 text: line 31"):
        services.activity_ingest_file(path=path, recompute=False, batch_size=10)
    assert ActivityEvent.objects.count() == 0


def test_utf16_text_is_refused_as_not_utf8(tmp_path):
    csv_text = "event_id,member_id,kind,occurred_at\ne1,m1,reply,2026-03-02T09:00:00+00:00\n"
    with_bom, without_bom = tmp_path / "bom.csv", tmp_path / "le.csv"
    with_bom.write_bytes(csv_text.encode("utf-16"))
    without_bom.write_bytes(csv_text.encode("utf-16-le"))  # valid UTF-8 bytes, but every other one is NUL
    with pytest.raises(services.CommunityError, match="not UTF-8 text: line 1"):
        services.activity_preview_file(path=with_bom)
    with pytest.raises(services.CommunityError, match="line 1 has a NUL byte"):
        services.activity_preview_file(path=without_bom)


def test_a_utf8_file_with_a_byte_order_mark_keeps_its_line_numbers(tmp_path):
    path = tmp_path / "excel.csv"
    rows = "event_id,member_id,kind,occurred_at\ne1,m1,reply,2026-03-02T09:00:00+00:00\ne2,Zoë,dance,x\n"
    path.write_bytes(b"\xef\xbb\xbf" + rows.encode())
    result = services.activity_ingest_file(path=path, recompute=False)
    assert (result.imported, result.bad) == (1, 1)
    assert [error["line"] for error in result.errors] == [3]


def test_ingest_activity_command_refuses_a_binary_file_with_a_clear_message(tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CommandError, match=r"garbage.csv: This file is not a text CSV or JSON Lines file"):
        call_command("ingest_activity", str(path), stdout=StringIO())
    assert ActivityEvent.objects.count() == 0


def test_ingest_activity_command_says_one_more_bad_line_in_the_singular(tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "MAX_REPORTED_ERRORS", 1)
    path = tmp_path / "two-bad.jsonl"
    path.write_text("nope\nnope\n")
    out = StringIO()
    call_command("ingest_activity", str(path), "--no-recompute", stdout=out)
    assert "… and 1 more bad line\n" in out.getvalue()


def test_the_drop_folder_sets_a_binary_file_aside_and_ingests_the_others(tmp_path, settings):
    settings.COMMUNITY_DROP_FOLDER = tmp_path / "drop"
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "a-garbage.csv").write_bytes(bytes(range(256)) * 4)
    write_jsonl(tmp_path / "drop" / "b.jsonl", [event(1, "m1", "reply")])
    done = services.drop_folder_ingest()
    assert [(name, result.imported) for name, result in done] == [("b.jsonl", 1)]
    assert [p.name for p in (tmp_path / "drop" / "refused").iterdir()] == ["a-garbage.csv"]
    assert not (tmp_path / "drop" / "a-garbage.csv").exists()
    assert ActivityEvent.objects.count() == 1


def test_the_text_check_reads_in_pieces_without_cutting_a_character_or_losing_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr(ingestion.parsing, "READ_AHEAD", 3)  # every piece ends inside a character
    path = tmp_path / "names.csv"
    path.write_text("Zoë\n李小龍\nÜnal\n", encoding="utf-8")
    assert ingestion.text_file_refusal(path) is None
    path.write_bytes("Zoë\n李小龍\nÜnal\n".encode() + b"Jos\xe9\n")
    assert "not UTF-8 text: line 4" in ingestion.text_file_refusal(path)
    path.write_bytes("Zoë\n李".encode() + "小龍".encode()[:-1])  # the file ends inside a character
    assert "not UTF-8 text: line 2" in ingestion.text_file_refusal(path)
    path.write_bytes("Zoë\n李小龍\n\x00".encode())
    assert "line 3 has a NUL byte" in ingestion.text_file_refusal(path)
