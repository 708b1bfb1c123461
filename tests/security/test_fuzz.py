"""Fuzzing of what outsiders feed us: the community activity files and the member import.

No input crashes them; every bad record is reported with its line (or row) number; good records
among bad ones still come through. Example counts are bounded so the module runs in seconds.
"""

import json
import tempfile
from pathlib import Path

import pytest
import tablib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_levels.ingestion import (
    KINDS,
    LineError,
    Record,
    UnreadableFile,
    parse_csv,
    parse_file,
    parse_jsonl,
)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

GOOD = {
    "event_id": "e1",
    "member_id": "m1",
    "kind": KINDS[0],
    "occurred_at": "2026-03-01T10:00:00+00:00",
    "quantity": 1,
}

# Lines without a newline of their own; text includes every Unicode category, NULs, surrogates excluded.
line_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    max_size=80,
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
# A record that looks almost right: each canonical field replaced by anything JSON can hold.
timestamps = st.one_of(
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30T00:00:00Z"]),
)
near_records = st.fixed_dictionaries(
    {
        key: st.one_of(st.just(value), json_values, *([timestamps] if key == "occurred_at" else []))
        for key, value in GOOD.items()
    },
    optional={
        "target_member_id": json_values,
        "email": json_values,
        "minutes": json_values,
    },
)


def _outcomes(parsed):
    return [(line_no, type(item)) for line_no, item in parsed]


@FUZZ
@given(lines=st.lists(line_text, max_size=12))
def test_jsonl_never_crashes_and_reports_every_non_blank_line(lines):
    parsed = list(parse_jsonl(line + "\n" for line in lines))
    expected = [n for n, line in enumerate(lines, start=1) if line.strip()]
    assert [line_no for line_no, _ in parsed] == expected
    assert all(isinstance(item, Record | LineError) for _, item in parsed)
    assert all(item.reason for _, item in parsed if isinstance(item, LineError))


@FUZZ
@given(records=st.lists(near_records, min_size=1, max_size=8))
def test_almost_right_json_records_are_either_records_or_reasons(records):
    lines = [json.dumps(record) + "\n" for record in records]
    parsed = list(parse_jsonl(lines))
    assert [line_no for line_no, _ in parsed] == list(range(1, len(records) + 1))
    for _, item in parsed:
        if isinstance(item, Record):
            assert item.occurred_at.tzinfo is not None and 0 <= item.quantity <= 1_000_000
        else:
            assert item.reason


@FUZZ
@given(rows=st.lists(line_text, max_size=10), header=st.booleans())
def test_csv_never_crashes_and_reports_bad_rows_by_line(rows, header):
    head = "event_id,member_id,kind,occurred_at,quantity\n" if header else ""
    text = head + "".join(row + "\n" for row in rows)
    parsed = list(parse_csv(text.splitlines(keepends=True)))
    lines = len(text.splitlines())
    for line_no, item in parsed:
        assert 1 <= line_no <= max(lines, 1)
        assert isinstance(item, Record | LineError)
    if header:
        reported = {line_no for line_no, _ in parsed}
        # Every row with content is reported, up to the first quote (a quoted field may span lines).
        quote = next((n for n, row in enumerate(rows) if '"' in row), len(rows))
        simple = [n for n, row in enumerate(rows[:quote], start=2) if row.strip(", \t")]
        assert set(simple) <= reported


@FUZZ
@given(noise=st.lists(st.binary(max_size=60), max_size=6), suffix=st.sampled_from([".jsonl", ".csv", ".txt"]))
def test_any_bytes_in_a_dropped_file_are_parsed_or_reported(noise, suffix):
    """Text (UTF-8 without NUL) is parsed line by line; any other file is refused whole, with its reason."""
    good = json.dumps(GOOD) if suffix != ".csv" else f"e1,m1,{KINDS[0]},2026-03-01T10:00:00+00:00,1"
    head = "event_id,member_id,kind,occurred_at,quantity\n" if suffix == ".csv" else ""
    body = head.encode() + b"\n".join([*noise, good.encode()]) + b"\n"
    try:
        body.decode("utf-8")
        text = b"\x00" not in body
    except UnicodeDecodeError:
        text = False
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"drop{suffix}"
        path.write_bytes(body)
        if not text:
            with pytest.raises(UnreadableFile, match="not a text CSV or JSON Lines file"):
                list(parse_file(path))
            return
        parsed = list(parse_file(path))
    assert all(isinstance(item, Record | LineError) and line_no >= 1 for line_no, item in parsed)
    if suffix == ".jsonl":  # the good last line survives whatever came before it
        assert isinstance(parsed[-1][1], Record)


def test_a_good_line_among_garbage_keeps_its_line_number():
    lines = ["{not json\n", "\n", json.dumps(GOOD) + "\n", "[1, 2]\n", json.dumps({**GOOD, "kind": "bogus"}) + "\n"]
    parsed = list(parse_jsonl(lines))
    assert _outcomes(parsed) == [(1, LineError), (3, Record), (4, LineError), (5, LineError)]
    assert "unknown kind 'bogus'" in parsed[-1][1].reason


@pytest.mark.parametrize("stamp", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_timestamps_at_the_edge_of_the_calendar_are_reported_not_raised(stamp):
    parsed = list(parse_jsonl([json.dumps({**GOOD, "occurred_at": stamp})]))
    assert _outcomes(parsed) == [(1, LineError)]


# --- Member import (accounts.resources.NewlyCertifiedResource, via member_provision) ---------

cell = st.one_of(
    st.text(max_size=30),
    st.emails().map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", " ", "31/02/2026", "2026-13-01", "MA-1", "Contoso", "=cmd|' /C calc'!A0", "\x00"]),
)
import_rows = st.lists(st.tuples(*[cell] * 6), min_size=1, max_size=6)


@pytest.mark.django_db
@FEW
@given(rows=import_rows)
def test_member_import_never_crashes_and_numbers_every_bad_row(rows):
    from accounts.models import User
    from accounts.resources import NewlyCertifiedResource

    users = User.objects.count()
    dataset = tablib.Dataset(
        *rows, headers=["email", "first_name", "last_name", "certificate_number", "qualified_on", "organization"]
    )
    result = NewlyCertifiedResource().import_data(dataset, dry_run=True, use_transactions=True)
    assert not result.has_errors(), [error.error for row in result.row_errors() for error in row[1]]
    invalid = {row.number for row in result.invalid_rows}
    assert invalid <= set(range(1, len(rows) + 1))
    for row in result.invalid_rows:
        assert row.error_dict and all(messages for messages in row.error_dict.values())
    assert len(result.rows) + len(result.invalid_rows) >= len(rows) - len(invalid)
    assert User.objects.count() == users  # a dry run writes nothing


@pytest.mark.django_db
@FEW
@given(content=st.binary(max_size=400), name=st.sampled_from(["members.csv", "members.xlsx"]))
def test_admin_import_of_any_file_is_never_a_500(content, name, client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    upload = SimpleUploadedFile(name, content)
    response = client.post(
        "/admin/accounts/macertification/import/",
        {"import_file": upload, "format": "0" if name.endswith(".csv") else "1", "resource": "0"},
    )
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("invisible", ["\x1f", "\x1c", "\x0b", "\x85", "\u2028"])
def test_a_csv_row_of_invisible_characters_is_reported_not_skipped_as_blank(invisible):
    """Found by the fuzz test above: Python's str.strip() calls \\x1f whitespace, so such a row vanished."""
    text = f"event_id,member_id,kind,occurred_at,quantity\n{invisible}\n \t\n"
    parsed = list(parse_csv(text.split("\n")))
    assert [(line_no, type(item)) for line_no, item in parsed] == [(2, LineError)]
    assert "expected 5 columns, found 1" in parsed[0][1].reason
