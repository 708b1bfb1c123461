"""The fast lane of file ingestion: a line already in the canonical shape skips the Python checks.

A line whose every field matches the strict patterns below is one `record_from_mapping` accepts as
it is (the email lower-cased, the time moved to UTC and the day derived: the SQL does those three);
it is handed on as the canonical CSV text PostgreSQL's COPY reads, in `COLUMNS` order. Every other
line, good or bad, takes the ordinary road through `record_from_mapping`, so what is accepted and
the reason given for what is refused stay exactly that function's.
"""

import re
from datetime import datetime
from operator import itemgetter

import orjson

from community_levels.metrics import KINDS

COLUMNS = (
    "event_id",
    "member_id",
    "email",
    "username",
    "kind",
    "occurred_at",
    "quantity",
    "minutes",
    "target_member_id",
)
# Printable ASCII but space, '"' and ',': nothing to strip, quote or escape, in CSV or in COPY.
_PLAIN = r"[!#-+\--~]"
_COUNT = r"(?:\d{1,6}|1000000)?"
PATTERNS = {
    "event_id": _PLAIN + "{1,128}",
    "member_id": _PLAIN + "{1,128}",
    "email": r"(?:[!#-+\--?A-~]+@" + _PLAIN + "+)?",
    "username": r'(?:[^\s",\x00](?:[^",\r\n\x00]{0,148}[^\s",\x00])?)?',
    "kind": "(?:" + "|".join(re.escape(kind) for kind in KINDS) + ")",
    # Years 1800-2999, so that moving to UTC never leaves the range of a datetime.
    "occurred_at": r"(?:1[89]|2\d)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    "quantity": _COUNT,
    "minutes": _COUNT,
    "target_member_id": "(?:" + _PLAIN + "{1,128})?",
}
_LINE = re.compile(",".join(PATTERNS[column] for column in COLUMNS))
# The patterns hold identifiers to 128 characters and usernames to 150; on a line this short an email
# cannot reach 254 either: nothing is ever cut.
MAX_LINE = 250
_TIME = COLUMNS.index("occurred_at")
# JSON values a field may hold on the fast lane (anything else takes the ordinary road).
_IDS = ("event_id", "member_id", "target_member_id")
_INTS = ("quantity", "minutes")


def canonical_text(fields) -> str | None:
    """The fields (in `COLUMNS` order) joined as CSV when they are certainly a good event, else None."""
    text = ",".join(fields)
    if len(text) > MAX_LINE or _LINE.fullmatch(text) is None:
        return None
    when = fields[_TIME]
    if when[8:10] > "28":  # the 29th to the 31st exist in some months only
        try:
            datetime.fromisoformat(when)
        except ValueError:
            return None
    return text


class CsvLane:
    """The fast lane for one CSV file, whose header may name the columns in any order or omit some."""

    def __init__(self, header: list[str]):
        self.width = len(header)
        # A column the header leaves out reads the empty cell appended to every row.
        positions = [header.index(column) if column in header else self.width for column in COLUMNS]
        self.pick = itemgetter(*positions)
        self.usable = len(set(header)) == len(header)

    def line(self, row: list[str]) -> str | None:
        if not self.usable or len(row) != self.width:
            return None
        row.append("")
        text = canonical_text(self.pick(row))
        row.pop()
        return text


def jsonl_line(line: str) -> str | None:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    fields = []
    for column in COLUMNS:
        value = data.get(column)
        if value is None or (type(value) is str and column not in _INTS):
            fields.append(value or "")
        elif type(value) is int and (column in _IDS or column in _INTS):
            fields.append(str(value))
        else:
            return None
    return canonical_text(fields)
