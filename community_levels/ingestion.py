"""Streaming, idempotent ingestion of community activity in the canonical format.

A file (JSON Lines or CSV) or a connector is read as a stream of `(line_no, Record | LineError)`;
good records go to the database in batches, each batch in its own transaction:

* PostgreSQL: `COPY` into a session TEMP staging table, then one statement that inserts the
  events `ON CONFLICT (source, event_id) DO NOTHING`, adds exactly the inserted rows to the
  per-member daily aggregates and marks those members for recompute;
* anything else (the SQLite demo): multi-row inserts (`bulk_create(ignore_conflicts=True)`) of
  the events not already stored, then an upsert of the aggregates for exactly those rows.

Because the aggregates move in the same transaction as the events, a replayed line, a file
imported twice or a run killed half-way and started again all end with the same totals.
"""

# SQL here is built from table and column names fixed in this module; every value is a parameter.
# ruff: noqa: S608

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from community_levels.metrics import KINDS, LIKE_KINDS, METRICS
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity

BATCH_SIZE = 20000
MAX_REPORTED_ERRORS = 100
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


ParsedLine = tuple[int, Record | LineError]


def _json_object(line: str):
    """orjson for speed; a line it refuses goes through the standard library, whose message the report
    has always given (and which accepts what orjson does not, e.g. NaN or integers beyond 64 bits)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def parse_jsonl(lines: Iterable[str]) -> Iterator[ParsedLine]:
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
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
        try:
            yield line_no, record_from_mapping(data)
        except ValueError as error:
            yield line_no, LineError(str(error))


def parse_csv(lines: Iterable[str]) -> Iterator[ParsedLine]:
    reader = csv.reader(lines)
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        return
    except csv.Error as error:
        yield 1, LineError(f"unreadable CSV header: {error}")
        return
    missing = [column for column in REQUIRED if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    if missing or unknown:
        reason = "; ".join(
            part
            for part in (
                f"missing column(s) {', '.join(missing)}" if missing else "",
                f"unknown column(s) {', '.join(unknown)}" if unknown else "",
            )
            if part
        )
        yield 1, LineError(f"bad header: {reason}")
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield reader.line_num, LineError(f"unreadable CSV: {error}")
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield reader.line_num, LineError(f"expected {len(header)} columns, found {len(row)}")
            continue
        try:
            yield reader.line_num, record_from_mapping(dict(zip(header, row, strict=True)), from_text=True)
        except ValueError as error:
            yield reader.line_num, LineError(str(error))


def file_format(path: Path, first_line: str = "") -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    return "jsonl" if first_line.lstrip().startswith("{") else "csv"


def parse_file(path: Path | str) -> Iterator[ParsedLine]:
    """Stream a file line by line (never the whole file in memory)."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        parser = parse_jsonl if file_format(path, first) == "jsonl" else parse_csv
        yield from parser(handle)


# --- Writing -----------------------------------------------------------------------------------


def ingest_stream(
    items: Iterable[ParsedLine],
    *,
    source: str,
    batch_size: int = BATCH_SIZE,
    fast: bool | None = None,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Write good lines in batches (one transaction each) and report bad ones with their number."""
    result = IngestResult()
    if fast is None:
        fast = connection.vendor == "postgresql"
    batch: list[Record] = []
    for line_no, item in items:
        result.read += 1
        if isinstance(item, LineError):
            result.bad += 1
            if len(result.errors) < MAX_REPORTED_ERRORS:
                result.errors.append({"line": line_no, "reason": item.reason})
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            _flush(batch, source=source, fast=fast, result=result, on_batch=on_batch)
            batch = []
    if batch:
        _flush(batch, source=source, fast=fast, result=result, on_batch=on_batch)
    return result


def _flush(batch, *, source, fast, result, on_batch) -> None:
    imported = write_batch(batch, source=source, fast=fast)
    result.imported += imported
    result.duplicates += len(batch) - imported
    if on_batch:
        on_batch(result)


def write_batch(batch: list[Record], *, source: str, fast: bool) -> int:
    """Store one batch atomically; returns how many events were new."""
    with transaction.atomic():
        if fast:
            return _write_batch_copy(batch, source=source)
        return _write_batch_portable(batch, source=source)


# Table names come from the models (never typed): a renamed table changes the SQL with it.
MEMBER = CommunityMember._meta.db_table
EVENT = ActivityEvent._meta.db_table
DAILY = DailyActivity._meta.db_table
USER = User._meta.db_table
_METRIC_COLUMNS = ", ".join(metric.column for metric in METRICS)
_METRIC_ZEROS = ", ".join("0" for _ in METRICS)
_MEMBER_INSERT_COLUMNS = (
    "external_id, username, email, is_excluded, passive_score, active_score, needs_recompute, recomputing, "
    f"created_at, {_METRIC_COLUMNS}"
)


def _write_batch_copy(batch: list[Record], *, source: str) -> int:
    now = timezone.now()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for record in batch:
        writer.writerow(
            (
                record.event_id,
                record.member_id,
                record.email,
                record.username,
                record.kind,
                record.occurred_at.isoformat(),
                record.day,
                record.quantity,
                record.minutes,
                record.target_member_id,
                "t" if record.is_self_like else "f",
            )
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS community_activity_staging ("
            "event_id text, member_ext text, email text, username text, kind text, occurred_at timestamptz, "
            "day integer, quantity integer, minutes integer, target text, is_self_like boolean"
            ") ON COMMIT DELETE ROWS"
        )
        # Empty even when the batch runs inside an outer transaction (seed_demo, tests), where
        # ON COMMIT has not fired yet.
        cursor.execute("TRUNCATE community_activity_staging")
        cursor.cursor.copy_expert(
            "COPY community_activity_staging (event_id, member_ext, email, username, kind, occurred_at, day, "
            "quantity, minutes, target, is_self_like) "
            "FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (email, username, target))",
            buffer,
        )
        cursor.execute(
            f"INSERT INTO {MEMBER} ({_MEMBER_INSERT_COLUMNS}) "
            f"SELECT DISTINCT ON (member_ext) member_ext, username, email, FALSE, 0, 0, FALSE, FALSE, %s, "
            f"{_METRIC_ZEROS} FROM community_activity_staging "
            "ORDER BY member_ext, (email <> '') DESC, (username <> '') DESC "
            f"ON CONFLICT (external_id) DO UPDATE SET "
            f"email = CASE WHEN {MEMBER}.email = '' THEN EXCLUDED.email ELSE {MEMBER}.email END, "
            # The newest username wins: a member renamed on the platform is renamed here.
            f"username = CASE WHEN EXCLUDED.username <> '' THEN EXCLUDED.username ELSE {MEMBER}.username END "
            f"WHERE ({MEMBER}.email = '' AND EXCLUDED.email <> '') "
            f"OR (EXCLUDED.username <> '' AND EXCLUDED.username <> {MEMBER}.username)",
            [now],
        )
        cursor.execute(
            f"UPDATE {MEMBER} SET user_id = u.id FROM {USER} u "
            f"WHERE {MEMBER}.user_id IS NULL AND {MEMBER}.email <> '' AND LOWER(u.email) = {MEMBER}.email "
            f"AND {MEMBER}.external_id IN (SELECT member_ext FROM community_activity_staging WHERE email <> '')"
        )
        cursor.execute(
            f"WITH ins AS ("
            f" INSERT INTO {EVENT} (source, event_id, member_id, kind, occurred_at, day, quantity, minutes,"
            f" target_member_id, is_self_like, ingested_at)"
            f" SELECT %s, s.event_id, m.id, s.kind, s.occurred_at, s.day, s.quantity, s.minutes, s.target,"
            f" s.is_self_like, %s FROM community_activity_staging s JOIN {MEMBER} m ON m.external_id = s.member_ext"
            # In index order: neighbouring keys land on the same B-tree pages, not one random page each.
            f" ORDER BY s.event_id"
            f" ON CONFLICT (source, event_id) DO NOTHING"
            f" RETURNING member_id, kind, day, quantity, minutes, is_self_like"
            f"), agg AS ("
            f" INSERT INTO {DAILY} (member_id, day, kind, quantity, minutes, events)"
            f" SELECT member_id, day, kind, SUM(quantity), SUM(minutes), COUNT(*) FROM ins"
            f" WHERE NOT is_self_like GROUP BY member_id, day, kind ORDER BY member_id, day, kind"
            f" ON CONFLICT (member_id, day, kind) DO UPDATE SET"
            f" quantity = {DAILY}.quantity + EXCLUDED.quantity, minutes = {DAILY}.minutes + EXCLUDED.minutes,"
            f" events = {DAILY}.events + EXCLUDED.events"
            f"), dirty AS ("
            f" UPDATE {MEMBER} SET needs_recompute = TRUE"
            f" WHERE id IN (SELECT member_id FROM ins) AND NOT needs_recompute"
            f") SELECT COUNT(*) FROM ins",
            [source, now],
        )
        return cursor.fetchone()[0]


def _write_batch_portable(batch: list[Record], *, source: str) -> int:
    from accounts.models import User
    from community_levels.models import ActivityEvent, CommunityMember

    now = timezone.now()
    first_of_member: dict[str, Record] = {}
    for record in batch:
        known = first_of_member.get(record.member_id)
        if known is None or (not known.email and record.email) or (not known.username and record.username):
            first_of_member[record.member_id] = record
    members = {m.external_id: m for m in CommunityMember.objects.filter(external_id__in=list(first_of_member))}
    missing = [ext for ext in first_of_member if ext not in members]
    if missing:
        CommunityMember.objects.bulk_create(
            [
                CommunityMember(
                    external_id=ext, email=first_of_member[ext].email, username=first_of_member[ext].username
                )
                for ext in missing
            ],
            ignore_conflicts=True,
        )
        members.update({m.external_id: m for m in CommunityMember.objects.filter(external_id__in=missing)})
    changed = []
    for ext, member in members.items():
        record = first_of_member[ext]
        dirty = False
        if not member.email and record.email:
            member.email, dirty = record.email, True
        if record.username and member.username != record.username:
            member.username, dirty = record.username, True
        if dirty:
            changed.append(member)
    if changed:
        CommunityMember.objects.bulk_update(changed, ["email", "username"])
    unlinked = {m.email: m for m in members.values() if m.user_id is None and m.email}
    if unlinked:
        linked = []
        for user_id, email in User.objects.filter(email__in=list(unlinked)).values_list("id", "email"):
            unlinked_member = unlinked.get(email.lower())
            if unlinked_member is not None:
                unlinked_member.user_id = user_id
                linked.append(unlinked_member)
        if linked:
            CommunityMember.objects.bulk_update(linked, ["user"])

    stored = set(
        ActivityEvent.objects.filter(source=source, event_id__in=[r.event_id for r in batch]).values_list(
            "event_id", flat=True
        )
    )
    new: dict[str, Record] = {}
    for record in batch:
        if record.event_id not in stored and record.event_id not in new:
            new[record.event_id] = record
    if not new:
        return 0
    adapt = connection.ops.adapt_datetimefield_value
    ingested_at = adapt(now)
    event_rows = [
        (
            source,
            r.event_id,
            members[r.member_id].pk,
            r.kind,
            adapt(r.occurred_at),
            r.day,
            r.quantity,
            r.minutes,
            r.target_member_id,
            r.is_self_like,
            ingested_at,
        )
        for r in new.values()
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(event_rows), 500):
            chunk = event_rows[start : start + 500]
            cursor.execute(
                f"INSERT INTO {EVENT} (source, event_id, member_id, kind, occurred_at, day, quantity, minutes, "
                f"target_member_id, is_self_like, ingested_at) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
                + " ON CONFLICT (source, event_id) DO NOTHING",
                [value for row in chunk for value in row],
            )
    totals: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in new.values():
        if r.is_self_like:
            continue
        total = totals[(members[r.member_id].pk, r.day, r.kind)]
        total[0] += r.quantity
        total[1] += r.minutes
        total[2] += 1
    daily_rows: list[tuple[int | str, ...]] = [(*key, *values) for key, values in totals.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(daily_rows), 500):
            daily_chunk = daily_rows[start : start + 500]
            cursor.execute(
                f"INSERT INTO {DAILY} (member_id, day, kind, quantity, minutes, events) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(daily_chunk))
                + f" ON CONFLICT (member_id, day, kind) DO UPDATE SET"
                f" quantity = {DAILY}.quantity + excluded.quantity, minutes = {DAILY}.minutes + excluded.minutes,"
                f" events = {DAILY}.events + excluded.events",
                [value for row in daily_chunk for value in row],
            )
    touched = {members[r.member_id].pk for r in new.values()}
    CommunityMember.objects.filter(pk__in=touched, needs_recompute=False).update(needs_recompute=True)
    return len(new)


def revoke_events(event_ids: list[str], *, source: str, reason: str) -> int:
    """Take back stored events the platform has removed (a deleted post, an undone like).

    The events stay, marked revoked with the reason (their ids stay taken, so a replay does not
    bring them back); the daily aggregates lose exactly what they had added, in the same
    transaction, and the members are marked for recompute. Returns how many were revoked now.
    """
    from community_levels.models import ActivityEvent, CommunityMember, DailyActivity

    if not event_ids:
        return 0
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            ActivityEvent.objects.select_for_update()
            .filter(source=source, event_id__in=event_ids, revoked_at__isnull=True)
            .values_list("pk", "member_id", "day", "kind", "quantity", "minutes", "is_self_like")
        )
        if not rows:
            return 0
        ActivityEvent.objects.filter(pk__in=[row[0] for row in rows]).update(
            revoked_at=now, revoked_reason=reason[:200]
        )
        totals: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for _pk, member_id, day, kind, quantity, minutes, is_self_like in rows:
            if is_self_like:
                continue
            total = totals[(member_id, day, kind)]
            total[0] += quantity
            total[1] += minutes
            total[2] += 1
        for (member_id, day, kind), (quantity, minutes, events) in totals.items():
            daily = DailyActivity.objects.filter(member_id=member_id, day=day, kind=kind)
            daily.update(quantity=F("quantity") - quantity, minutes=F("minutes") - minutes, events=F("events") - events)
            # a day with nothing left is no day of activity (days visited, member days)
            daily.filter(events=0).delete()
        CommunityMember.objects.filter(pk__in={row[1] for row in rows}, needs_recompute=False).update(
            needs_recompute=True
        )
    return len(rows)
