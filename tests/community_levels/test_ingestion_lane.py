"""The fast lane (canonical lines straight to COPY) stores and reports exactly what the ordinary road does."""

import json

import pytest
from django.db.models import Exists, OuterRef

from community_levels.ingestion import canonical, ingest_file, ingest_stream, parse_file
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity, PendingRecompute
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = "event_id,member_id,email,username,kind,occurred_at,quantity,minutes,target_member_id"
CSV_LINES = [
    "c1,m1,Ava@Example.org,ava,reply,2026-03-02T09:00:00+00:00,2,0,",  # canonical, email lower-cased
    "c2,m1,,,visit,2026-03-02T23:30:00-05:00,,7,",  # next day in UTC; default quantity
    "c3,m2,,bo b,read,2026-03-02T09:00:00.5Z,1,3,",
    "c4,m2,,,like_given,2026-03-03T09:00:00+00:00,1,0,m2",  # self-like: stored, not counted
    "c5,m3,,,like_received,2026-03-03T09:00:00+00:00,1,0,m1",
    "c6,m3,,,post,2026-02-29T09:00:00+00:00,1,0,",  # no 29 February in 2026
    "c7,m3,,,post,2024-02-29T09:00:00+00:00,1,0,",  # but in 2024
    "c8,m3,,,post,2026-04-31T09:00:00+00:00,1,0,",
    "c9,m3,,,post,2026-03-31T23:59:59.999999+14:00,1000000,0,",
    "c10,m3,,,post,2026-03-31T09:00:00+00:00,1000001,0,",
    "c11,m3,,,post,2026-03-31T09:00:00+00:00,3.0,0,",  # a whole float, through the Python check
    " c12 ,m4,, Zoë ,comment,2026-03-05T09:00:00+01:00,1,0,",  # spaces: stripped by the Python check
    '"c13","m4","","Ze, ro",comment,2026-03-05T09:00:00+01:00,1,0,',  # quoted comma
    'c14,m4,,"two\nlines",comment,2026-03-05T09:00:00+01:00,1,0,',  # a field over two lines
    "c15,m4,no-at-sign,,comment,2026-03-05T09:00:00+01:00,1,0,",
    f"{'x' * 129},m4,,,comment,2026-03-05T09:00:00+01:00,1,0,",
    f"{'y' * 128},m4,,,comment,2026-03-05T09:00:00+01:00,1,0,",
    "c1,m1,,,reply,2026-03-02T09:00:00+00:00,5,0,",  # repeats c1: the first line wins
    ",,,,,,,,",  # blank row: skipped
    "c16,m5,,,dance,2026-03-05T09:00:00+00:00,1,0,",
    "c17,m5,,,reply,2026-03-05T09:00:00,1,0,",  # no time zone
    "c18,m5,,,reply,1066-10-14T09:00:00+00:00,1,0,",  # before the lane's years
    "c19,m5,,,reply,2026-03-05T09:00:00.1234567+00:00,1,0,",  # seven digits: Python's rounding
    "c20,m5,ELSE@example.org,,reply,2026-03-05T09:00:00+00:00,1,0",  # one column short
    "c21,m5,,renamed,reply,2026-03-06T09:00:00+00:00,1,0,",
    "c22,m5,,,reply,2026-03-06T09:00:00+00:00,-1,0,",
]


def _jsonl_lines() -> list[str]:
    rows = [
        {"event_id": "j1", "member_id": 7, "kind": "reply", "occurred_at": "2026-03-02T09:00:00+00:00"},
        {"event_id": "j2", "member_id": "7", "kind": "reply", "occurred_at": "2026-03-02T09:00:00Z", "quantity": 3},
        {"event_id": "j3", "member_id": "7", "kind": "reply", "occurred_at": "2026-03-02T09:00:00Z", "quantity": "3"},
        {"event_id": "j4", "member_id": "7", "kind": "reply", "occurred_at": "2026-03-02T09:00:00Z", "quantity": 3.0},
        {"event_id": "j5", "member_id": True, "kind": "reply", "occurred_at": "2026-03-02T09:00:00Z"},
        {"event_id": "j6", "member_id": "8", "kind": "reply", "occurred_at": "2026-03-02T09:00:00Z", "email": None},
        {"event_id": "j7", "member_id": "8", "kind": "reply", "occurred_at": "2026-03-02T09:00:00Z", "username": 5},
        {
            "event_id": "j8",
            "member_id": "8",
            "kind": "like_given",
            "occurred_at": "2026-03-02T09:00:00Z",
            "target_member_id": 8,
        },
        {
            "event_id": "j9",
            "member_id": "8",
            "kind": "reply",
            "occurred_at": "2026-03-02T09:00:00Z",
            "email": "Late@Example.org",
            "extra": [1],
        },
    ]
    return [json.dumps(row) for row in rows] + ["", "[1]", '{"event_id": ', "{}"]


def _stored() -> dict:
    return {
        "events": sorted(
            ActivityEvent.objects.values_list(
                "event_id",
                "member__external_id",
                "kind",
                "occurred_at",
                "day",
                "quantity",
                "minutes",
                "target_member_id",
                "is_self_like",
            )
        ),
        "daily": sorted(
            DailyActivity.objects.values_list("member__external_id", "day", "kind", "quantity", "minutes", "events")
        ),
        "members": sorted(
            CommunityMember.objects.annotate(
                needs_recompute=Exists(PendingRecompute.objects.filter(member=OuterRef("pk")))
            ).values_list("external_id", "email", "username", "user__email", "needs_recompute")
        ),
    }


def _wipe() -> None:
    ActivityEvent.objects.all().delete()
    DailyActivity.objects.all().delete()
    CommunityMember.objects.all().delete()


@pytest.mark.parametrize("name", ["a.csv", "a.jsonl"])
def test_the_fast_lane_stores_and_reports_what_the_ordinary_road_does(tmp_path, name):
    UserFactory(email="late@example.org")
    path = tmp_path / name
    lines = [HEADER, *CSV_LINES] if name.endswith(".csv") else _jsonl_lines()
    path.write_text("\n".join(lines) + "\n")
    staged = [item for _no, item in parse_file(path, lane=True) if isinstance(item, str)]
    assert len(staged) >= 5  # the lane is taken...
    ordinary = ingest_stream(parse_file(path), source="file", batch_size=4)
    expected = _stored()
    _wipe()
    fast = ingest_file(path, source="file", batch_size=4)
    assert fast.as_dict() == ordinary.as_dict()
    assert _stored() == expected
    assert fast.bad >= 3 and fast.duplicates >= (1 if name.endswith(".csv") else 0)  # ...and so is the other road


def test_the_fast_lane_leaves_a_file_it_does_not_recognise_to_the_ordinary_road(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("event_id,member_id,kind,occurred_at,kind\nd1,m1,reply,2026-03-02T09:00:00+00:00,reply\n")
    assert [type(item).__name__ for _no, item in parse_file(path, lane=True)] == ["Record"]
    assert ingest_file(path, source="file").imported == 1


@pytest.mark.parametrize("chunk_lines", [1, 3, 4, 1000])
def test_whole_chunks_of_canonical_csv_lines_keep_every_line_number(tmp_path, monkeypatch, chunk_lines):
    """Chunks of canonical lines go to COPY as they are; a chunk with any other line is read line by line,
    even when a quoted field runs on into the next chunk, and every reported line number is the file's."""
    monkeypatch.setattr(canonical, "CHUNK_LINES", chunk_lines)
    rows = [f"k{n},m{n % 3},reply,2026-03-0{1 + n % 9}T09:00:00+00:00,{n}" for n in range(1, 12)]
    rows[4] = 'k5,m1,reply,"2026-03-02T09:00:00+00:00",5'  # quoted: the ordinary road, same values
    rows[6] = 'k7,m1,"rep\nly",2026-03-02T09:00:00+00:00,7'  # a bad kind over two lines (lines 8-9)
    rows[9] = "k10,m1,reply,2026-02-30T09:00:00+00:00,10"  # no such day (line 12)
    path = tmp_path / "chunks.csv"
    path.write_text("event_id,member_id,kind,occurred_at,quantity\n" + "\n".join(rows) + "\n")
    items = list(parse_file(path, lane=True))
    physical = path.read_text().split("\n")
    for line_no, item in items:  # each chunk's number is the file's line number of its first line
        if isinstance(item, canonical.Chunk):
            assert item.text.split("\n")[:-1] == physical[line_no - 1 : line_no - 1 + item.lines]
    if chunk_lines == 1000:
        assert not any(isinstance(item, canonical.Chunk) for _no, item in items)  # one bad line: none whole
    elif chunk_lines == 3:
        assert any(isinstance(item, canonical.Chunk) for _no, item in items)
    ordinary = ingest_stream(parse_file(path), source="file", batch_size=3)
    expected = _stored()
    _wipe()
    fast = ingest_file(path, source="file", batch_size=3)
    assert fast.as_dict() == ordinary.as_dict()
    assert [error["line"] for error in fast.errors] == [9, 12]
    assert (fast.read, fast.imported) == (11, 9)
    assert _stored() == expected
