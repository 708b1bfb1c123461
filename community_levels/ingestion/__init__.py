"""Streaming, idempotent ingestion of community activity in the canonical format.

A file (JSON Lines or CSV) or a connector is read as a stream of `(line_no, Record | LineError)`
(`parsing`); on PostgreSQL a file's lines already in the canonical shape skip the Python checks and
travel as the CSV text they are (`canonical`). Good lines go to the database in batches (`writing`),
each batch in one transaction (a connector's page: the page's, with its watermark):

1. the batch is loaded into a session TEMP staging table as it is read, a piece at a time (COPY on
   PostgreSQL, multi-row inserts elsewhere; memory holds one piece, whatever the size of the batch
   or the file), and the members it names are created or updated;
2. under the ingestion lock of its source, the events not stored yet are inserted, summed into the
   per-member daily aggregates and their members marked for recompute.

Idempotency holds by construction. On PostgreSQL one statement inserts the staged lines (the first line
of an id repeated in the batch, by `DISTINCT ON`) and sums exactly the rows that insert RETURNs into
the batch's daily additions, which the next statement adds to the aggregates (MERGE, or an upsert when
a rival writer of the same aggregates gets in its way). The insert leaves out the ids stored before it
began (an anti-join) and inserts the rest plainly; an id another transaction stores meanwhile makes it
fail whole (the insert waits for that transaction, then meets the unique key), and the batch runs it
again with `ON CONFLICT (source, event_id) DO NOTHING`, which skips such an id: a stored id is neither
inserted nor counted, whoever wrote it. Elsewhere (SQLite) the repeated and stored ids are deleted from
the staging table first, under the database's write lock, which the batch's first write takes and
keeps; the events are inserted without ON CONFLICT, so anything that stored one meanwhile fails the
batch loudly instead of being counted. The lock of the source (PostgreSQL: a transaction-level advisory
lock) keeps one batch of a source at a time. A replayed line, a file imported twice, two imports of it
at once or a run killed half-way and started again all end with the same totals.

A batch's commit does not wait for its WAL to reach the disk (`SET LOCAL synchronous_commit = off`,
that transaction only, a connector's page with it; the WAL writer flushes it within a fraction of
a second). A crash of the database server in that window loses the whole batch, never part of it
(WAL is replayed in order: events, aggregates and member changes commit or vanish together), and no
durable commit can depend on a lost one: any later commit that did reach the disk carries every
earlier commit's WAL with it. Run again, the import writes what was lost, by the idempotency above;
the count an interrupted run printed is the only thing the crash can make wrong.
"""

from community_levels.ingestion.canonical import COLUMNS
from community_levels.ingestion.parsing import (
    EPOCH,
    KINDS,
    MAX_REPORTED_ERRORS,
    REQUIRED,
    IngestResult,
    LineError,
    ParsedLine,
    Record,
    UnreadableFile,
    file_format,
    is_activity_file,
    parse_csv,
    parse_file,
    parse_jsonl,
    record_from_mapping,
    text_file_refusal,
)
from community_levels.ingestion.revoking import revoke_events
from community_levels.ingestion.writing import (
    _MEMBER_INSERT_COLUMNS,
    BATCH_SIZE,
    DAILY,
    EVENT,
    MEMBER,
    USER,
    ingest_file,
    ingest_stream,
    write_batch,
)

__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "DAILY",
    "EPOCH",
    "EVENT",
    "KINDS",
    "MAX_REPORTED_ERRORS",
    "MEMBER",
    "REQUIRED",
    "USER",
    "_MEMBER_INSERT_COLUMNS",
    "IngestResult",
    "LineError",
    "ParsedLine",
    "Record",
    "UnreadableFile",
    "file_format",
    "ingest_file",
    "ingest_stream",
    "is_activity_file",
    "parse_csv",
    "parse_file",
    "parse_jsonl",
    "record_from_mapping",
    "revoke_events",
    "text_file_refusal",
    "write_batch",
]
