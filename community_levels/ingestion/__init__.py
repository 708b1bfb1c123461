"""Streaming, idempotent ingestion of community activity in the canonical format.

A file (JSON Lines or CSV) or a connector is read as a stream of `(line_no, Record | LineError)`
(`parsing`); on PostgreSQL a file's lines already in the canonical shape skip the Python checks and
travel as the CSV text they are (`canonical`). Good lines go to the database in batches (`writing`),
each batch in one transaction, the same statements on PostgreSQL and SQLite:

1. the batch is loaded into a session TEMP staging table (COPY on PostgreSQL, multi-row inserts
   elsewhere) and the members it names are created or updated;
2. under the ingestion lock of its source, the staged lines whose event id is repeated in the batch
   or already stored are deleted; what is left is inserted into the events, summed into the
   per-member daily aggregates and its members marked for recompute.

Idempotency holds by construction, on both databases: the lock (PostgreSQL: a transaction-level
advisory lock per source; SQLite: the database's write lock, which the batch's first write takes
and keeps) means no other batch of the source stores an event between the moment step 2 decides
what is new and the commit, so the aggregates add exactly the events inserted; the events are
inserted without ON CONFLICT, so anything else that stored one meanwhile fails the batch loudly
instead of being counted. A replayed line, a file imported twice, two imports of it at once or a
run killed half-way and started again all end with the same totals.
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
    file_format,
    parse_csv,
    parse_file,
    parse_jsonl,
    record_from_mapping,
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
    "file_format",
    "ingest_file",
    "ingest_stream",
    "parse_csv",
    "parse_file",
    "parse_jsonl",
    "record_from_mapping",
    "revoke_events",
    "write_batch",
]
