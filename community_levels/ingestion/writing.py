"""Writing good lines: a staging table, then the same few set-based statements on every database.

See the package's docstring for why a replay can never count twice.
"""

# SQL here is built from table and column names fixed in this module; every value is a parameter.
# ruff: noqa: S608

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from community_levels.ingestion.canonical import COLUMNS, Chunk
from community_levels.ingestion.parsing import (
    MAX_REPORTED_ERRORS,
    IngestResult,
    LineError,
    ParsedLine,
    Record,
    parse_file,
    record_from_mapping,
)
from community_levels.marks import members_mark
from community_levels.metrics import LIKE_KINDS, METRICS
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity
from mahome.errors import violated_constraint

BATCH_SIZE = 1_000_000
# A batch goes to its staging table this many lines at a time (the most of it held in memory).
PIECE_LINES = 50_000
# Table names come from the models (never typed): a renamed table changes the SQL with it.
MEMBER = CommunityMember._meta.db_table
EVENT = ActivityEvent._meta.db_table
DAILY = DailyActivity._meta.db_table
USER = User._meta.db_table
_DEDUP_KEY = next(c.name for c in ActivityEvent._meta.constraints if c.fields == ("source", "event_id"))  # type: ignore[attr-defined]
STAGING = "community_activity_staging"
STAGED_MEMBERS = "community_activity_staging_members"
STAGED_IDS = "community_activity_staging_ids"
STAGED_NEW = "community_activity_staging_new"  # PostgreSQL: the members of the events a batch inserted
STAGED_ADDED = "community_activity_staging_added"  # PostgreSQL: what those events add to the daily totals
# pg_advisory_xact_lock(LOCK_CLASS, hashtext(source)): one batch of a source at a time.
# Statistics of the staging tables from this many lines (a connector's page of 200 plans well without).
ANALYZE_FROM = 5000
LOCK_CLASS = 0x4D41
_METRIC_COLUMNS = ", ".join(metric.column for metric in METRICS)
_METRIC_ZEROS = ", ".join("0" for _ in METRICS)
_MEMBER_INSERT_COLUMNS = (
    f"external_id, username, email, is_excluded, passive_score, active_score, created_at, {_METRIC_COLUMNS}"
)
_STAGED_COLUMNS = ("line_no", *COLUMNS)
# SQLite: the staged lines left after the dedup are the new events.
_STAGED_MEMBER_IDS = f"SELECT m.id FROM {STAGED_IDS} m WHERE m.member_id IN (SELECT member_id FROM {STAGING})"
_SELF_LIKE = "(s.kind IN (" + ", ".join(f"'{kind}'" for kind in LIKE_KINDS) + ") AND s.target_member_id = s.member_id)"
# The event ids' collation on PostgreSQL (migration 0016): compared byte by byte, as the stored ids are.
_BYTEWISE = {"postgresql": ' COLLATE "C"', "sqlite": ""}
# Days since 1970-01-01 of the UTC date, as Record.day computes it.
_DAY = {
    "postgresql": "((s.occurred_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01')",
    "sqlite": "CAST(julianday(date(s.occurred_at)) - 2440587.5 AS INTEGER)",
}


# --- Reading into batches --------------------------------------------------------------------------


def ingest_file(path: Path | str, *, source: str, batch_size: int = BATCH_SIZE) -> IngestResult:
    """A JSON Lines or CSV file; on PostgreSQL its canonical lines take the fast lane to COPY."""
    fast = connection.vendor == "postgresql"
    return ingest_stream(parse_file(path, lane=fast), source=source, batch_size=batch_size, fast=fast)


def ingest_stream(
    items: Iterable[ParsedLine],
    *,
    source: str,
    batch_size: int = BATCH_SIZE,
    fast: bool | None = None,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Write good lines in batches (one transaction each) and report bad ones with their number.

    `fast` loads the staging table with COPY (PostgreSQL); otherwise with multi-row inserts.
    """
    result = IngestResult()
    if fast is None:
        fast = connection.vendor == "postgresql"
    stream = iter(items)
    while (feed := _Feed.start(stream, result, batch_size)) is not None:
        imported = write_batch([], source=source, fast=fast, feed=feed)
        result.imported += imported
        result.duplicates += feed.size - imported
        if on_batch:
            on_batch(result)
    return result


class _Feed:
    """The good lines of one batch, read from the stream while the batch is staged (bad ones reported on
    the way): a batch is never in memory whole, a piece of it at most."""

    def __init__(self, stream: Iterator[ParsedLine], result: IngestResult, limit: int, first: ParsedLine):
        self.stream, self.result, self.limit, self.first = stream, result, limit, first
        self.size = 0

    @classmethod
    def start(cls, stream: Iterator[ParsedLine], result: IngestResult, limit: int) -> "_Feed | None":
        """The next batch, or None when the stream has no good line left."""
        first = _next_good(stream, result)
        return None if first is None else cls(stream, result, limit, first)

    def __iter__(self) -> Iterator[tuple[int, Record | str | Chunk]]:
        item: ParsedLine | None = self.first
        while item is not None:
            line_no, good = item
            count = good.lines if isinstance(good, Chunk) else 1
            self.size += count
            self.result.read += count
            yield line_no, good  # type: ignore[misc]  # never a LineError: _next_good reported those
            if self.size >= self.limit:
                return
            item = _next_good(self.stream, self.result)


def _next_good(stream: Iterator[ParsedLine], result: IngestResult) -> ParsedLine | None:
    for line_no, item in stream:
        if isinstance(item, LineError):
            result.read += 1
            _report(result, line_no, item)
            continue
        return line_no, item
    return None


@dataclass
class _Batch:
    """Good lines waiting for their transaction: records, fast-lane lines and chunks of a CSV file."""

    records: list[tuple[int, Record]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    chunks: list[tuple[int, Chunk]] = field(default_factory=list)
    size: int = 0

    def add(self, line_no: int, item: Record | str | Chunk) -> int:
        """Keep one item; returns how many lines it is."""
        if isinstance(item, Chunk):
            self.chunks.append((line_no, item))
            count = item.lines
        elif isinstance(item, str):
            self.lines.append(f"{line_no},{item}\n")
            count = 1
        else:
            self.records.append((line_no, item))
            count = 1
        self.size += count
        return count


def _report(result: IngestResult, line_no: int, error: LineError) -> None:
    result.bad += 1
    if len(result.errors) < MAX_REPORTED_ERRORS:
        result.errors.append({"line": line_no, "reason": error.reason})


# --- One batch ------------------------------------------------------------------------------------


def write_batch(
    batch: list[Record],
    *,
    source: str,
    fast: bool,
    numbers: Sequence[tuple[int, Record]] = (),
    lines: Sequence[str] = (),
    chunks: Sequence[tuple[int, Chunk]] = (),
    feed: Iterable[tuple[int, Record | str | Chunk]] = (),
) -> int:
    """Store one batch atomically; returns how many events were new.

    `numbers` pairs the records with their line numbers (which only order them: the first line of a
    repeated event id is the one kept); `lines` are fast-lane lines, "line_no,canonical CSV", and
    `chunks` runs of canonical CSV lines with the number of their first line; `feed` numbered items of
    any of the three kinds, staged PIECE_LINES lines at a time as they are read.
    """
    numbered = list(numbers) or list(enumerate(batch, start=1))
    with transaction.atomic(), connection.cursor() as cursor:
        _create_staging(cursor)
        stage = _stage_by_copy if fast else _stage_by_insert
        if numbered or lines or chunks:
            stage(cursor, numbered, lines, chunks)
        size = len(numbered) + len(lines) + sum(chunk.lines for _first, chunk in chunks)
        size += _stage_feed(cursor, stage, feed)
        return _write_staged(cursor, source=source, analyze=size >= ANALYZE_FROM)


def _stage_feed(cursor, stage: Callable, feed: Iterable[tuple[int, Record | str | Chunk]]) -> int:
    """Stage the feed PIECE_LINES lines at a time, as it is read; returns how many lines it had."""
    size, piece = 0, _Batch()
    for line_no, item in feed:
        piece.add(line_no, item)
        if piece.size >= PIECE_LINES:
            stage(cursor, piece.records, piece.lines, piece.chunks)
            size, piece = size + piece.size, _Batch()
    if piece.size:
        stage(cursor, piece.records, piece.lines, piece.chunks)
    return size + piece.size


def _create_staging(cursor) -> None:
    postgres = connection.vendor == "postgresql"
    suffix = " ON COMMIT DELETE ROWS" if postgres else ""
    numbering = ""
    if postgres:  # a chunk's lines are numbered by the sequence, set to its first line
        # Cached: the numbers of a run come from the session's memory, not one sequence update each.
        cursor.execute(f"CREATE TEMP SEQUENCE IF NOT EXISTS {STAGING}_line CACHE 65536")
        numbering = f" DEFAULT nextval('{STAGING}_line')"
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (line_no bigint NOT NULL{numbering}, "
        f"event_id text{_BYTEWISE[connection.vendor]} NOT NULL, "
        "member_id text NOT NULL, email text NOT NULL DEFAULT '', username text NOT NULL DEFAULT '', "
        "kind text NOT NULL, occurred_at timestamptz NOT NULL, quantity integer, minutes integer, "
        f"target_member_id text NOT NULL DEFAULT ''){suffix}"
    )
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGED_MEMBERS} "
        f"(member_id text NOT NULL, email text NOT NULL, username text NOT NULL){suffix}"
    )
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGED_IDS} (member_id text NOT NULL, id bigint, "
        f"email text, username text, user_id bigint){suffix}"
    )
    if postgres:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGED_NEW} (id bigint NOT NULL){suffix}")
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGED_ADDED} (member_id bigint NOT NULL, day integer NOT NULL,"
            f" kind text NOT NULL, quantity bigint NOT NULL, minutes bigint NOT NULL, events bigint NOT NULL){suffix}"
        )
    # Empty even when the batch runs inside an outer transaction (a connector's page, seed_demo,
    # tests), where ON COMMIT has not fired yet.
    for table in (STAGING, STAGED_MEMBERS, STAGED_IDS, *([STAGED_NEW, STAGED_ADDED] if postgres else [])):
        cursor.execute(f"TRUNCATE {table}" if postgres else f"DELETE FROM {table}")


def _record_row(line_no: int, record: Record) -> tuple:
    return (
        line_no,
        record.event_id,
        record.member_id,
        record.email,
        record.username,
        record.kind,
        record.occurred_at,
        record.quantity,
        record.minutes,
        record.target_member_id,
    )


def _stage_by_copy(cursor, numbered, lines: Sequence[str], chunks: Sequence[tuple[int, Chunk]]) -> None:
    buffer = io.StringIO()
    buffer.writelines(lines)
    writer = csv.writer(buffer, lineterminator="\n")  # as the fast-lane lines: COPY wants one kind
    for line_no, record in numbered:
        row = _record_row(line_no, record)
        writer.writerow((*row[:6], record.occurred_at.isoformat(), *row[7:]))
    if buffer.tell():
        buffer.seek(0)
        _copy(cursor, _STAGED_COLUMNS, buffer)
    for first, columns, text in _runs(chunks):
        cursor.execute("SELECT setval(%s, %s, false)", [f"{STAGING}_line", first])
        # Bytes: a StringIO made from a text keeps it as four bytes a character.
        _copy(cursor, columns, io.BytesIO(text.encode()))


def _runs(chunks: Sequence[tuple[int, Chunk]]) -> Iterator[tuple[int, tuple[str, ...], str]]:
    """Chunks whose lines follow one another in the file, joined: one COPY (and numbering) for each run."""
    parts: list[str] = []
    columns: tuple[str, ...] = ()
    first = following = 0
    for number, chunk in chunks:
        if parts and (number != following or chunk.columns != columns):
            yield first, columns, "".join(parts)
            parts = []
        if not parts:
            first, columns = number, chunk.columns
        parts.append(chunk.text)
        following = number + chunk.lines
    if parts:
        yield first, columns, "".join(parts)


def _copy(cursor, columns: Sequence[str], data: io.StringIO | io.BytesIO) -> None:
    texts = ", ".join(column for column in ("email", "username", "target_member_id") if column in columns)
    cursor.cursor.copy_expert(
        f"COPY {STAGING} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv"
        + (f", FORCE_NOT_NULL ({texts}))" if texts else ")"),
        data,
    )


def _stage_by_insert(cursor, numbered, lines: Sequence[str], chunks: Sequence[tuple[int, Chunk]]) -> None:
    adapt = connection.ops.adapt_datetimefield_value
    rows = [_record_row(line_no, record) for line_no, record in numbered]
    # Fast-lane text met on this path: the same values, through the ordinary check.
    texts: list[tuple[Sequence[str], int, str]] = []
    for line in lines:
        number, text = line.rstrip("\n").split(",", 1)
        texts.append((COLUMNS, int(number), text))
    for first, chunk in chunks:
        texts += [(chunk.columns, first + n, line) for n, line in enumerate(chunk.text.split("\n")[:-1])]
    for columns, line_no, text in texts:
        record = record_from_mapping(dict(zip(columns, text.split(","), strict=True)), from_text=True)
        rows.append(_record_row(line_no, record))
    cursor.executemany(
        f"INSERT INTO {STAGING} ({', '.join(_STAGED_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_STAGED_COLUMNS))})",
        [(*row[:6], adapt(row[6]), *row[7:]) for row in rows],
    )


def _write_staged(cursor, *, source: str, analyze: bool = False) -> int:
    """Members, then the events not stored yet, then exactly their aggregates; returns how many."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    postgres = connection.vendor == "postgresql"
    if postgres:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_CLASS, source])
        # Sorts and hashes of a batch in memory, not in temporary files (a batch of 1,000,000 lines
        # sorts its ids in 136 MB and groups its daily totals in 197 MB: with 64 MB both spilled to
        # disk, as 82 MB and 52 MB of temporary files); only as much as a batch needs is taken, per
        # sort or hash, for this transaction. No JIT compilation (seconds, for statements that take
        # less); the staging tables' statistics, for the joins' plans.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        # The commit does not wait for the disk: see the package's docstring for why that is safe.
        cursor.execute("SET LOCAL synchronous_commit = off")
        if analyze:
            cursor.execute(f"ANALYZE {STAGING} (member_id, event_id)")
    _write_members(cursor, now=now, analyze=analyze)
    if postgres:
        imported = _insert_new_and_add(cursor, source=source, now=now)
    else:
        imported = _insert_after_dedup(cursor, source=source, now=now)
    # The members with new events, for the next recompute (a narrow table: the member rows stay as they are).
    members_mark(cursor, f"SELECT id FROM {STAGED_NEW}" if postgres else _STAGED_MEMBER_IDS)
    if postgres:  # last, as a member's deletion takes the member row last (no deadlock between them)
        _lock_members(cursor)
    return imported


def _lock_members(cursor) -> None:
    """PostgreSQL: the batch's members locked against deletion until it commits, once each (the daily
    totals have no row-by-row foreign key: see DailyActivity.member); one deleted since the batch read
    it fails the batch, as the foreign key did at commit."""
    cursor.execute(
        f"SELECT (SELECT COUNT(*) FROM {STAGED_IDS}), COUNT(*) FROM (SELECT 1 FROM {MEMBER}"
        f" WHERE id IN (SELECT id FROM {STAGED_IDS}) ORDER BY id FOR KEY SHARE) locked"
    )
    named, locked = cursor.fetchone()
    if locked != named:
        raise IntegrityError(f"{named - locked} community member(s) of this batch were deleted meanwhile: run it again")


def _new_events(*, first_line: bool, unstored: bool = False) -> str:
    """The staged lines as event rows, in the dedup key's order (neighbouring keys land on the same
    B-tree pages, not one random page each); `first_line` keeps only the first line of each id,
    `unstored` only the ids not stored (committed) when the statement starts (its second parameter is
    the source again)."""
    distinct = "DISTINCT ON (s.event_id) " if first_line else ""
    stored = f"SELECT 1 FROM {EVENT} e WHERE e.source = %s AND e.event_id = s.event_id"
    return (
        f"INSERT INTO {EVENT} (source, event_id, member_id, kind, occurred_at, day, quantity, minutes,"
        f" target_member_id, is_self_like, ingested_at)"
        f" SELECT {distinct}%s, s.event_id, m.id, s.kind, s.occurred_at, {_DAY[connection.vendor]},"
        f" COALESCE(s.quantity, 1), COALESCE(s.minutes, 0), s.target_member_id, {_SELF_LIKE}, %s"
        f" FROM {STAGING} s JOIN {STAGED_IDS} m ON m.member_id = s.member_id"
        + (f" WHERE NOT EXISTS ({stored})" if unstored else "")
        + f" ORDER BY s.event_id{', s.line_no' if first_line else ''}"
    )


# Added to the daily totals in key order, so that two imports touching the same totals cannot deadlock.
_ADDED_TO_TOTALS = (
    f" ORDER BY 1, 2, 3 ON CONFLICT (member_id, day, kind) DO UPDATE SET"
    f" quantity = {DAILY}.quantity + EXCLUDED.quantity, minutes = {DAILY}.minutes + EXCLUDED.minutes,"
    f" events = {DAILY}.events + EXCLUDED.events"
)
_ADD_TO_DAILY = f" GROUP BY 1, 2, 3{_ADDED_TO_TOTALS}"
# What a rival writer of the daily totals can make MERGE meet (PostgreSQL's SQLSTATEs): a total it
# inserted and committed meanwhile, a deadlock over totals both update, a total it deleted meanwhile.
_MERGE_RACES = {"23505", "40P01", "40001"}


def _insert_new_and_add(cursor, *, source: str, now) -> int:
    """PostgreSQL: one statement inserts the events not stored yet, sums exactly the rows it inserted
    into a staging table of daily additions and keeps their members (for the recompute marks); a
    second adds those sums to the daily totals (see `_add_to_daily`).

    The insert goes first without ON CONFLICT: the ids stored before the statement began are left out
    by an anti-join (one walk of the source's range of the dedup index), and the rest go in as plain
    inserts, without the speculative insertion that ON CONFLICT makes of every row (a third more WAL
    records; 4.6 s against 8.1 s for a million events, measured alone). An id that a writer ignoring
    the source lock stores meanwhile fails that statement as a whole (its savepoint undoes it: nothing
    inserted, nothing summed); the batch then runs the statement that skips conflicts, exact against
    any writer (see the package's docstring).
    """
    new = "RETURNING member_id, day, kind, quantity, minutes, is_self_like),"
    rest = (
        f" added AS (INSERT INTO {STAGED_ADDED} (member_id, day, kind, quantity, minutes, events)"
        " SELECT member_id, day, kind, SUM(quantity), SUM(minutes), COUNT(*) FROM new WHERE NOT is_self_like"
        " GROUP BY 1, 2, 3),"
        f" touched AS (INSERT INTO {STAGED_NEW} (id) SELECT DISTINCT member_id FROM new)"
        " SELECT COUNT(*) FROM new"
    )
    imported = None
    try:
        with transaction.atomic():
            cursor.execute(
                f"WITH new AS ({_new_events(first_line=True, unstored=True)} {new}{rest}", [source, now, source]
            )
            imported = cursor.fetchone()[0]
    except IntegrityError as error:
        if violated_constraint(error) != _DEDUP_KEY:
            raise
    if imported is None:
        cursor.execute(
            f"WITH new AS ({_new_events(first_line=True)} ON CONFLICT (source, event_id) DO NOTHING {new}{rest}",
            [source, now],
        )
        imported = cursor.fetchone()[0]
    _add_to_daily(cursor)
    return imported


def _add_to_daily(cursor) -> None:
    """PostgreSQL: the batch's daily additions added to the totals, first by MERGE, which joins them
    with the totals once and inserts the new ones plainly: a quarter less backend CPU than the upsert,
    which makes every one of them a speculative insertion (885,187 new and 13,422 existing totals for
    the benchmark's million events: 7.0 s against 9.3 s, a third fewer WAL records).

    MERGE does not wait for a rival's total the way ON CONFLICT does: a total another import of a
    different source inserts and commits meanwhile fails it on the key, and rivals updating the same
    totals in another order can deadlock. Either undoes the MERGE whole (its savepoint), and the batch
    adds with the upsert, which takes the totals in key order and waits for a rival's, exact against
    any writer.
    """
    columns = "member_id, day, kind, quantity, minutes, events"
    try:
        with transaction.atomic():
            cursor.execute(
                f"MERGE INTO {DAILY} d USING (SELECT {columns} FROM {STAGED_ADDED} ORDER BY 1, 2, 3) a"
                " ON d.member_id = a.member_id AND d.day = a.day AND d.kind = a.kind"
                " WHEN MATCHED THEN UPDATE SET quantity = d.quantity + a.quantity, minutes = d.minutes + a.minutes,"
                " events = d.events + a.events"
                f" WHEN NOT MATCHED THEN INSERT ({columns})"
                " VALUES (a.member_id, a.day, a.kind, a.quantity, a.minutes, a.events)"
            )
            return
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) not in _MERGE_RACES:
            raise
    cursor.execute(f"INSERT INTO {DAILY} ({columns}) SELECT {columns} FROM {STAGED_ADDED}{_ADDED_TO_TOTALS}")


def _insert_after_dedup(cursor, *, source: str, now) -> int:
    """Elsewhere (SQLite, under the database's write lock): the repeated and stored ids deleted from the
    staged lines, then what is left inserted (no ON CONFLICT: a surprise fails loudly) and added."""
    cursor.execute(f"DELETE FROM {STAGING} WHERE line_no NOT IN (SELECT MIN(line_no) FROM {STAGING} GROUP BY event_id)")
    cursor.execute(
        f"DELETE FROM {STAGING} WHERE EXISTS "
        f"(SELECT 1 FROM {EVENT} e WHERE e.source = %s AND e.event_id = {STAGING}.event_id)",
        [source],
    )
    cursor.execute(_new_events(first_line=False), [source, now])
    imported = cursor.rowcount
    cursor.execute(
        f"INSERT INTO {DAILY} (member_id, day, kind, quantity, minutes, events)"
        f" SELECT m.id, {_DAY[connection.vendor]}, s.kind, SUM(COALESCE(s.quantity, 1)),"
        f" SUM(COALESCE(s.minutes, 0)), COUNT(*)"
        f" FROM {STAGING} s JOIN {STAGED_IDS} m ON m.member_id = s.member_id WHERE NOT {_SELF_LIKE}"
        f"{_ADD_TO_DAILY}"
    )
    return imported


def _write_members(cursor, *, now, analyze: bool) -> None:
    """New members created, known ones given their email (if they had none) and newest username."""
    named = _stage_members(cursor)
    # The members the batch names, read once (one join with the member table): the statements below
    # look at these small tables and touch only the member rows they change.
    _stage_member_rows(cursor, only_new=False)
    cursor.execute(
        f"INSERT INTO {MEMBER} ({_MEMBER_INSERT_COLUMNS})"
        f" SELECT p.member_id, p.username, p.email, FALSE, 0, 0, %s, {_METRIC_ZEROS}"
        f" FROM {STAGED_MEMBERS} p JOIN {STAGED_IDS} i ON i.member_id = p.member_id WHERE i.id IS NULL"
        f" ORDER BY p.member_id ON CONFLICT (external_id) DO NOTHING",
        [now],
    )
    _stage_member_rows(cursor, only_new=True)
    if analyze and connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {STAGED_IDS} (member_id)")
    if named:
        _name_members(cursor)


def _stage_members(cursor) -> bool:
    """The batch's members with the first email and the last username given; False if none is given."""
    cursor.execute(f"SELECT 1 FROM {STAGING} WHERE email <> '' OR username <> '' LIMIT 1")
    if cursor.fetchone() is None:  # the lines name no one (a file without those columns)
        cursor.execute(
            f"INSERT INTO {STAGED_MEMBERS} (member_id, email, username)"
            f" SELECT DISTINCT member_id, '', '' FROM {STAGING}"
        )
        return False
    cursor.execute(
        f"INSERT INTO {STAGED_MEMBERS} (member_id, email, username)"
        f" SELECT f.member_id, COALESCE(LOWER(e.email), ''), COALESCE(u.username, '') FROM"
        f" (SELECT member_id, MIN(CASE WHEN email <> '' THEN line_no END) AS email_line,"
        f" MAX(CASE WHEN username <> '' THEN line_no END) AS username_line FROM {STAGING} GROUP BY member_id) f"
        f" LEFT JOIN {STAGING} e ON e.line_no = f.email_line LEFT JOIN {STAGING} u ON u.line_no = f.username_line"
    )
    return True


def _name_members(cursor) -> None:
    cursor.execute(
        f"UPDATE {MEMBER} SET"
        f" email = CASE WHEN {MEMBER}.email = '' THEN p.email ELSE {MEMBER}.email END,"
        # The newest username wins: a member renamed on the platform is renamed here.
        f" username = CASE WHEN p.username <> '' THEN p.username ELSE {MEMBER}.username END"
        f" FROM {STAGED_MEMBERS} p, {STAGED_IDS} i WHERE i.member_id = p.member_id AND {MEMBER}.id = i.id"
        f" AND ((i.email = '' AND p.email <> '') OR (p.username <> '' AND p.username <> i.username))"
    )
    cursor.execute(
        f"UPDATE {MEMBER} SET user_id = u.id FROM {USER} u"
        f" WHERE {MEMBER}.user_id IS NULL AND {MEMBER}.email <> '' AND LOWER(u.email) = {MEMBER}.email"
        f" AND {MEMBER}.id IN (SELECT i.id FROM {STAGED_IDS} i JOIN {STAGED_MEMBERS} p ON p.member_id = i.member_id"
        f" WHERE i.user_id IS NULL AND p.email <> '')"
    )


def _stage_member_rows(cursor, *, only_new: bool) -> None:
    """Each staged member's row as stored (id NULL: not stored yet); `only_new` reads again those."""
    if only_new:
        cursor.execute(f"DELETE FROM {STAGED_IDS} WHERE id IS NULL")
    join = "JOIN" if only_new else "LEFT JOIN"
    cursor.execute(
        f"INSERT INTO {STAGED_IDS} (member_id, id, email, username, user_id)"
        f" SELECT p.member_id, m.id, m.email, m.username, m.user_id FROM {STAGED_MEMBERS} p"
        f" {join} {MEMBER} m ON m.external_id = p.member_id"
        + (f" WHERE p.member_id NOT IN (SELECT member_id FROM {STAGED_IDS})" if only_new else "")
    )
