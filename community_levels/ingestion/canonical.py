"""The fast lane of file ingestion: a line already in the canonical shape skips the Python checks.

A line whose every field matches the strict patterns below is one `record_from_mapping` accepts as
it is (the email lower-cased, the time moved to UTC and the day derived: the SQL does those three);
it is handed on as the canonical CSV text PostgreSQL's COPY reads, in `COLUMNS` order. Every other
line, good or bad, takes the ordinary road through `record_from_mapping`, so what is accepted and
the reason given for what is refused stay exactly that function's.
"""

import re
from operator import itemgetter
from typing import NamedTuple

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
# Months and days every year has (29 February and the 31st of short months take the ordinary road).
_DATE = r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
PATTERNS = {
    "event_id": _PLAIN + "{1,128}",
    "member_id": _PLAIN + "{1,128}",
    # At most 64 + 1 + 189 = 254 characters: never cut.
    "email": r"(?:[!#-+\--?A-~]{1,64}@" + _PLAIN + "{1,189})?",
    "username": r'(?:[^\s",\x00](?:[^",\r\n\x00]{0,148}[^\s",\x00])?)?',
    "kind": "(?:" + "|".join(re.escape(kind) for kind in KINDS) + ")",
    # Years 1800-2999, so that moving to UTC never leaves the range of a datetime.
    "occurred_at": r"(?:1[89]|2\d)\d\d-"
    + _DATE
    + r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    "quantity": _COUNT,
    "minutes": _COUNT,
    "target_member_id": "(?:" + _PLAIN + "{1,128})?",
}
_LINE = re.compile(",".join(PATTERNS[column] for column in COLUMNS))
# A CSV file's lines are checked this many at a time, in one call of the regular expression engine.
CHUNK_LINES = 4096
# JSON values a field may hold on the fast lane (anything else takes the ordinary road).
_IDS = ("event_id", "member_id", "target_member_id")
_INTS = ("quantity", "minutes")


class Chunk(NamedTuple):
    """Consecutive canonical lines of a CSV file, as they were, with the header's column order."""

    text: str
    lines: int
    columns: tuple[str, ...]


def canonical_text(fields) -> str | None:
    """The fields (in `COLUMNS` order) joined as CSV when they are certainly a good event, else None."""
    text = ",".join(fields)
    return text if _LINE.fullmatch(text) is not None else None


class CsvLane:
    """The fast lane for one CSV file, whose header may name the columns in any order or omit some."""

    def __init__(self, header: list[str]):
        self.width = len(header)
        self.columns = tuple(header)
        # A column the header leaves out reads the empty cell appended to every row.
        positions = [header.index(column) if column in header else self.width for column in COLUMNS]
        self.pick = itemgetter(*positions)
        self.usable = len(set(header)) == len(header)
        pattern = ",".join(PATTERNS[column] for column in header)
        self.lines = re.compile(f"^{pattern}$", re.MULTILINE)

    def line(self, row: list[str]) -> str | None:
        if not self.usable or len(row) != self.width:
            return None
        row.append("")
        text = canonical_text(self.pick(row))
        row.pop()
        return text

    def chunk(self, lines: list[str]) -> Chunk | None:
        """The lines as one Chunk if every one of them is canonical (no pattern crosses a line)."""
        text = "".join(lines)
        if not self.usable or len(self.lines.findall(text)) != len(lines):
            return None
        return Chunk(text if text.endswith("\n") else text + "\n", len(lines), self.columns)


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
