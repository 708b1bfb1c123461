"""Reading canonical activity: one line of JSON Lines or CSV becomes a `Record` or a `LineError`.

`record_from_mapping` is the one definition of a valid event and of the reason a bad one is refused.
"""

import codecs
import csv
import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Literal, overload

import orjson
from django.utils.translation import gettext as _

from community_levels.ingestion import canonical
from community_levels.ingestion.canonical import COLUMNS
from community_levels.metrics import KINDS, LIKE_KINDS

MAX_REPORTED_ERRORS = 100
REQUIRED = ("event_id", "member_id", "kind", "occurred_at")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    event_id: str
    member_id: str
    kind: str
    occurred_at: datetime
    quantity: int = 1
    minutes: int = 0
    email: str = ""
    username: str = ""
    target_member_id: str = ""

    @property
    def day(self) -> int:
        return (self.occurred_at - EPOCH).days

    @property
    def is_self_like(self) -> bool:
        return self.kind in LIKE_KINDS and self.target_member_id == self.member_id


@dataclass(frozen=True)
class LineError:
    reason: str


@dataclass
class IngestResult:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    bad: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "bad": self.bad,
            "errors": self.errors,
        }


# --- Parsing -----------------------------------------------------------------------------------


def _identifier(value, name: str, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise ValueError(f"missing {name}")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name} must be a string or an integer, not {type(value).__name__}")
    text = str(value).strip()
    if required and not text:
        raise ValueError(f"missing {name}")
    if len(text) > 128:
        raise ValueError(f"{name} is longer than 128 characters")
    return text


def _count(value, name: str, default: int, *, from_text: bool) -> int:
    if value is None or value == "":
        return default
    if from_text and isinstance(value, str):
        whole, _dot, zeros = value.strip().partition(".")
        if not whole.isdigit() or zeros.strip("0"):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        value = int(whole)
    if isinstance(value, float) and value.is_integer():
        # pandas and spreadsheets write whole numbers of a column with gaps as floats (3.0).
        value = int(value)
    elif isinstance(value, float):
        raise ValueError(f"{name} must be a whole number, got {value}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {type(value).__name__}")
    if value < 0 or value > 1_000_000:
        raise ValueError(f"{name} must be between 0 and 1000000, got {value}")
    return value


def _text(value, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    return value.strip()[:limit]


def record_from_mapping(data: dict, *, from_text: bool = False) -> Record:
    """Validate one canonical event; raises ValueError with the reason a person can act on."""
    event_id = _identifier(data.get("event_id"), "event_id", required=True)
    member_id = _identifier(data.get("member_id"), "member_id", required=True)
    kind = data.get("kind")
    if not isinstance(kind, str) or kind.strip() not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    raw_time = data.get("occurred_at")
    if not isinstance(raw_time, str) or not raw_time.strip():
        raise ValueError("missing occurred_at" if raw_time in (None, "") else "occurred_at must be a string")
    try:
        occurred_at = datetime.fromisoformat(raw_time.strip())
    except ValueError:
        raise ValueError(f"bad timestamp {raw_time!r} (expected ISO 8601 with a time zone)") from None
    if occurred_at.tzinfo is None:
        raise ValueError(f"bad timestamp {raw_time!r}: no time zone")
    try:
        occurred_at = occurred_at.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:30+01:00 is before year 1 in UTC
        raise ValueError(f"bad timestamp {raw_time!r}: out of range") from None
    email = _text(data.get("email"), "email", 254)
    if email and ("@" not in email or " " in email):
        raise ValueError(f"email {email!r} is not an email address")
    return Record(
        event_id=event_id,
        member_id=member_id,
        kind=kind.strip(),
        occurred_at=occurred_at,
        quantity=_count(data.get("quantity"), "quantity", 1, from_text=from_text),
        minutes=_count(data.get("minutes"), "minutes", 0, from_text=from_text),
        email=email.lower(),
        username=_text(data.get("username"), "username", 150),
        target_member_id=_identifier(data.get("target_member_id"), "target_member_id", required=False),
    )


# A line is a Record, a LineError or, on the fast lane (`lane=True`), the canonical CSV text of a
# line that `record_from_mapping` certainly accepts, or a Chunk of such lines (see `canonical`).
ParsedLine = tuple[int, Record | LineError | str | canonical.Chunk]


def _json_object(line: str):
    """orjson for speed; a line it refuses goes through the standard library, whose message the report
    has always given (and which accepts what orjson does not, e.g. NaN or integers beyond 64 bits)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def parse_jsonl(lines: Iterable[str], *, lane: bool = False) -> Iterator[ParsedLine]:
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        staged = canonical.jsonl_line(line) if lane else None
        if staged is not None:
            yield line_no, staged
            continue
        try:
            data = _json_object(line)
        except ValueError as error:  # a JSONDecodeError, or the standard library's limit on integer digits
            message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            yield line_no, LineError(f"invalid JSON: {message}")
            continue
        if not isinstance(data, dict):
            yield line_no, LineError("expected a JSON object")
            continue
        yield line_no, _record_or_error(data, from_text=False)


def _record_or_error(data: dict, *, from_text: bool) -> Record | LineError:
    try:
        return record_from_mapping(data, from_text=from_text)
    except ValueError as error:
        return LineError(str(error))


def _header_error(header: list[str]) -> str:
    missing = [column for column in REQUIRED if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    parts = (
        f"missing column(s) {', '.join(missing)}" if missing else "",
        f"unknown column(s) {', '.join(unknown)}" if unknown else "",
    )
    reason = "; ".join(part for part in parts if part)
    return f"bad header: {reason}" if reason else ""


class _Feed:
    """The lines of a file for csv.reader, with lines taken ahead (a chunk that was not canonical) put back."""

    def __init__(self, lines: Iterable[str]):
        self.lines = iter(lines)
        self.pending: deque[str] = deque()

    def __iter__(self) -> "_Feed":
        return self

    def __next__(self) -> str:
        return self.pending.popleft() if self.pending else next(self.lines)


# What makes a CSV cell empty: spaces and tabs. Not str.strip()'s whitespace, which includes control
# characters such as \x1f: a row of them is reported as a bad line, never skipped as blank.
BLANK = " \t"


def parse_csv(lines: Iterable[str], *, lane: bool = False) -> Iterator[ParsedLine]:
    feed = _Feed(lines) if lane else None
    reader = csv.reader(feed if feed is not None else lines)
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        return
    except csv.Error as error:
        yield 1, LineError(f"unreadable CSV header: {error}")
        return
    if reason := _header_error(header):
        yield 1, LineError(reason)
        return
    fast = canonical.CsvLane(header) if feed is not None else None
    taken = 0  # lines that went whole chunks at a time, which the reader never saw
    while True:
        if fast is not None and feed is not None and not feed.pending:
            block = list(islice(feed.lines, canonical.CHUNK_LINES))
            if not block:
                return
            chunk = fast.chunk(block)
            if chunk is not None:
                yield reader.line_num + taken + 1, chunk
                taken += chunk.lines
                continue
            feed.pending.extend(block)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield reader.line_num + taken, LineError(f"unreadable CSV: {error}")
            continue
        staged = fast.line(row) if fast is not None else None
        if staged is not None:
            yield reader.line_num + taken, staged
        elif row and any(cell.strip(BLANK) for cell in row):
            yield reader.line_num + taken, _csv_record(header, row)


def _csv_record(header: list[str], row: list[str]) -> Record | LineError:
    if len(row) != len(header):
        return LineError(f"expected {len(header)} columns, found {len(row)}")
    return _record_or_error(dict(zip(header, row, strict=True)), from_text=True)


# The activity files MA Home reads, by name ending: the admin's upload, the drop folder and the command.
FILE_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def is_activity_file(path: Path) -> bool:
    return path.suffix.lower() in FILE_FORMATS


def file_format(path: Path, first_line: str = "") -> str:
    known = FILE_FORMATS.get(path.suffix.lower())
    if known is not None:
        return known
    return "jsonl" if first_line.lstrip().startswith("{") else "csv"


class UnreadableFile(ValueError):
    """The file is not text a line of which could be read; its message is for the person who gave it."""


READ_AHEAD = 1 << 20


def text_file_refusal(path: Path | str) -> str | None:
    """Why the file is not a text CSV or JSON Lines file, or None when it is one.

    Text is UTF-8 throughout (a byte-order mark allowed) without a NUL byte: a binary file (an image,
    a spreadsheet, an archive renamed .csv) or text in another encoding fails one of the two, usually
    on its first line, and would otherwise be read as a line or two of replacement characters. The
    whole file is checked before its first line is parsed, so a refusal comes before anything is
    previewed or written; it reads the file once more, a piece at a time.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0  # before the piece being checked
    with Path(path).open("rb") as handle:
        while True:
            piece = handle.read(READ_AHEAD)
            pending = decoder.getstate()[0]  # the start of a character cut by the previous piece
            try:
                decoder.decode(piece, final=not piece)
            except UnicodeDecodeError as error:
                line = newlines + (pending + piece)[: error.start].count(b"\n") + 1
                return _("This file is not a text CSV or JSON Lines file (it is not UTF-8 text: line %(line)d).") % {
                    "line": line
                }
            if (nul := piece.find(b"\x00")) >= 0:
                line = newlines + piece[:nul].count(b"\n") + 1
                return _(
                    "This file is not a text CSV or JSON Lines file (line %(line)d has a NUL byte, which text "
                    "never has: the file is binary, or text in UTF-16 rather than UTF-8)."
                ) % {"line": line}
            if not piece:
                return None
            newlines += piece.count(b"\n")


@overload
def parse_file(path: Path | str, *, lane: Literal[False] = False) -> Iterator[tuple[int, Record | LineError]]: ...
@overload
def parse_file(path: Path | str, *, lane: bool) -> Iterator[ParsedLine]: ...
def parse_file(path: Path | str, *, lane: bool = False) -> Iterator[ParsedLine]:
    """Stream a file line by line (never the whole file in memory).

    Raises `UnreadableFile` before the first line when the file is not text (`text_file_refusal`).
    """
    path = Path(path)
    if reason := text_file_refusal(path):
        raise UnreadableFile(reason)
    # Checked above; "replace" only matters for a file rewritten while it is read.
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        parser = parse_jsonl if file_format(path, first) == "jsonl" else parse_csv
        yield from parser(handle, lane=lane)
