"""The data-heavy benchmarks: ingestion of a million events (peak memory of its own process) and recompute."""

# SQL here is fixed text; the few values are parameters.

import json
import subprocess
import sys
import time
from pathlib import Path

from bench import env
from bench.common import INGEST_SOURCE, log

COPY_TARGET_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_copy_target (event_id text, member_id text, kind text, "
    "occurred_at timestamptz, quantity integer, minutes integer)"
)


def events_csv(path: Path, *, count: int, first_member: int, spread: int, prefix: str, power: bool) -> None:
    """Canonical CSV events written by PostgreSQL itself (COPY TO), for existing community members."""
    member = (
        f"{first_member} + floor({spread} * power(((g * 104729) % 1000003) / 1000003.0, 3))::int"
        if power
        else f"{first_member} + (g % {spread})"
    )
    query = (
        "SELECT '" + prefix + "' || g AS event_id, 'bench-c' || (" + member + ") AS member_id, "
        "(ARRAY['visit','read','read','reply','like_given','like_received','post','comment'])[1 + g % 8] AS kind, "
        "to_char((now() - make_interval(secs => (g * 7919) % 2592000)) AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\') AS occurred_at, 1 AS quantity, (g % 5) AS minutes '
        f"FROM generate_series(1::bigint, {count}) g"
    )
    env.psql("-c", f"\\copy ({query}) TO '{path}' WITH (FORMAT csv, HEADER true)")


def child_run(command: list[str], *, stdout_path: Path) -> tuple[float, int, int]:
    """Run a child under GNU time; returns (seconds, peak RSS in KiB from its rusage, exit status).

    GNU time (a small C program) forks the child and reads its rusage with wait4. Forking the child
    from this large process instead would not do: Linux carries the parent's high-water RSS into the
    child's maxrss across fork and exec.
    """
    rss_path = stdout_path.with_suffix(".maxrss")
    started = time.perf_counter()
    with stdout_path.open("w") as out:
        done = subprocess.run(  # noqa: S603
            ["/usr/bin/time", "-f", "%M", "-o", str(rss_path), *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    seconds = time.perf_counter() - started
    return seconds, int(rss_path.read_text().strip().splitlines()[-1]), done.returncode


def bench_ingest(args, rows, details) -> None:
    from bench import seed

    path = _events_file(fresh=True)
    copy_s, copy_kb = _copy_events(path)
    log(f"psql \\copy: {copy_s:.1f} s, peak {copy_kb / 1024:.0f} MiB")
    ingest_s, ingest_kb, ingest_exit = child_run(
        [sys.executable, "-m", "bench.ingest_child", str(path), INGEST_SOURCE], stdout_path=env.VAR / "ingest.out"
    )
    output = (env.VAR / "ingest.out").read_text()
    if ingest_exit:
        raise RuntimeError(f"ingestion failed: {output[-2000:]}")
    result = json.loads(output.strip().splitlines()[-1])
    log(f"ingestion: {result['imported']:,} imported in {ingest_s:.1f} s, peak {ingest_kb / 1024:.0f} MiB")
    # The copied rows stay for the floor (bench_floor), measured after the recompute: its writes (and their WAL)
    # must not weigh on the recompute's figure.
    details["ingest"] = {
        "result": result,
        "seconds": ingest_s,
        "peak_kib": ingest_kb,
        "copy_seconds": copy_s,
        "copy_peak_kib": copy_kb,
    }
    rows += ingest_rows(
        result, seconds=ingest_s, peak_kib=ingest_kb, copy_seconds=copy_s, copy_peak_kib=copy_kb, events=seed.EVENTS
    )


def bench_floor(args, rows, details) -> None:
    """The floor under the import (FLOOR_SQL) on the rows psql copied; copied now if the ingestion did not run."""
    from django.db import connection

    from bench import seed

    # The ingestion, when it ran before in this run, left the rows it copied in bench_copy_target.
    copy_s = details.get("ingest", {}).get("copy_seconds")
    if copy_s is None:
        copy_s, _kib = _copy_events(_events_file(fresh=False))
    floor_s, floor_events, floor_totals = floor_run()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bench_copy_target")
    log(
        f"floor: {floor_events:,} events and {floor_totals:,} daily totals INSERT ... SELECTed into empty copies "
        f"of their tables in {floor_s:.1f} s"
    )
    if floor_events != seed.EVENTS:
        raise RuntimeError(f"the floor wrote {floor_events:,} events of {seed.EVENTS:,}")
    details["floor"] = {"seconds": floor_s, "events": floor_events, "totals": floor_totals, "copy_seconds": copy_s}
    ingest = details.get("ingest")
    found = floor_rows(
        floor_s,
        copy_seconds=copy_s,
        events=seed.EVENTS,
        ingest_seconds=ingest["seconds"] if ingest else None,
        imported=ingest["result"]["imported"] if ingest else None,
    )
    # In the table beside the ingestion's rows, though measured last.
    after = max((n + 1 for n, row in enumerate(rows) if row.name.startswith("ingestion")), default=len(rows))
    rows[after:after] = found


def _events_file(*, fresh: bool) -> Path:
    """The benchmark's million events as canonical CSV, written anew (`fresh`) or only when missing."""
    from bench import seed

    path = env.VAR / "events-1m.csv"
    if fresh or not path.exists():
        started = time.perf_counter()
        events_csv(path, count=seed.EVENTS, first_member=1, spread=seed.COMMUNITY_MEMBERS - 1, prefix="i", power=True)
        log(
            f"Wrote {seed.EVENTS:,} events to {path.name} ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
    return path


def _copy_events(path: Path) -> tuple[float, int]:
    """The events file into bench_copy_target (emptied first) by psql's \\copy; returns (seconds, peak KiB)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(COPY_TARGET_SQL)
        cursor.execute("TRUNCATE bench_copy_target")
    copy_s, copy_kb, copy_exit = child_run(psql_copy_command(path), stdout_path=env.VAR / "copy.out")
    if copy_exit:
        raise RuntimeError(f"psql \\copy failed: {(env.VAR / 'copy.out').read_text()}")
    return copy_s, copy_kb


# The rows an import must store, written the cheapest way PostgreSQL offers once they are in the database:
# no parsing, no staging, no dedup, no lock; one INSERT ... SELECT each, into empty copies of the events and
# the daily totals with their keys (logged tables, as theirs; a populated table costs more per row), created in
# the measuring transaction and rolled back with it: nothing is kept.
FLOOR_SQL = (
    "CREATE TABLE bench_floor_event (LIKE community_levels_activityevent INCLUDING ALL)",
    "CREATE TABLE bench_floor_daily (LIKE community_levels_dailyactivity INCLUDING ALL)",
    "INSERT INTO bench_floor_event (source, event_id, member_id, kind, occurred_at, day, quantity, minutes, "
    "target_member_id, is_self_like, ingested_at) SELECT 'bench-floor', c.event_id, m.id, c.kind, c.occurred_at, "
    "((c.occurred_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01'), c.quantity, c.minutes, '', FALSE, now() "
    "FROM bench_copy_target c JOIN community_levels_communitymember m ON m.external_id = c.member_id",
    "INSERT INTO bench_floor_daily (member_id, day, kind, quantity, minutes, events) "
    "SELECT member_id, day, kind, SUM(quantity), SUM(minutes), COUNT(*) FROM bench_floor_event GROUP BY 1, 2, 3",
)


def floor_run() -> tuple[float, int, int]:
    """The floor under any import of the \\copy'd rows into this schema: writing its events and daily totals,
    nothing else. Returns (seconds, events written, daily totals written).

    Measured after the import, on the rows psql copied.
    """
    from django.db import connection, transaction

    written = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        started = time.perf_counter()
        for statement in FLOOR_SQL:
            cursor.execute(statement)
            written.append(cursor.rowcount)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, written[-2], written[-1]


def psql_copy_command(path: Path) -> list[str]:
    """psql's client-side \\copy of the events file into a plain table: the floor ingestion is measured against."""
    return [
        "psql",
        "-h",
        env.PG["host"],
        "-U",
        env.PG["user"],
        "-d",
        env.DB_NAME,
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        f"\\copy bench_copy_target FROM '{path}' WITH (FORMAT csv, HEADER true)",
    ]


def ingest_rows(
    result: dict, *, seconds: float, peak_kib: int, copy_seconds: float, copy_peak_kib: int, events: int
) -> list:
    """The ingestion's rows against psql's \\copy of the same file: the rate (which fails unless every event
    was imported and none was bad) and the peak memory."""
    from bench.report import Row

    return [
        Row(
            "ingestion of 1,000,000 events: rate",
            result["imported"] / seconds,
            "events/s",
            "psql \\copy of the same rows into a plain table, rows/s",
            events / copy_seconds,
            note=f"{seconds:.1f} s vs {copy_seconds:.1f} s; manage.py ingest_activity's path",
            ok=result["imported"] == events and result["bad"] == 0,
        ),
        Row(
            "ingestion: peak memory (maxrss)",
            peak_kib / 1024,
            "MiB",
            "psql \\copy, MiB",
            copy_peak_kib / 1024,
            note="child process rusage",
        ),
    ]


def floor_rows(
    floor_seconds: float,
    *,
    copy_seconds: float,
    events: int,
    ingest_seconds: float | None = None,
    imported: int | None = None,
) -> list:
    """The floor's rate against psql's \\copy and, when the ingestion ran, the import's rate against the floor."""
    from bench.report import Row

    rows = [
        Row(
            "ingestion floor: the same rows INSERT ... SELECTed",
            events / floor_seconds,
            "events/s",
            "psql \\copy of the same rows into a plain table, rows/s",
            events / copy_seconds,
            note=f"{floor_seconds:.1f} s: events and daily totals into empty copies with their keys; "
            "no parsing, staging or dedup",
        )
    ]
    if ingest_seconds and imported is not None:
        rows.append(
            Row(
                "ingestion: rate against the floor",
                imported / ingest_seconds,
                "events/s",
                "the floor above, events/s",
                events / floor_seconds,
                note=f"{ingest_seconds:.1f} s vs {floor_seconds:.1f} s",
            )
        )
    return rows


def bench_recompute(args, rows, details) -> None:
    from django.db import connection

    from bench import seed
    from community_levels.models import PendingRecompute
    from community_levels.recompute import levels_recompute
    from community_levels.services import activity_ingest_file

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM community_levels_activityevent")
        events = cursor.fetchone()[0]
    warm_process()
    group_by_s = group_by_seconds()
    log(f"GROUP BY over {events:,} events: {group_by_s:.2f} s")
    started = time.perf_counter()
    full = levels_recompute(full=True, reason="Benchmark: full recompute")
    full_s = time.perf_counter() - started
    log(f"full recompute: {full.members:,} members in {full_s:.1f} s ({full.changed:,} level changes)")

    path = env.VAR / "events-1k.csv"
    events_csv(path, count=1000, first_member=50_001, spread=1000, prefix=f"r{int(time.time())}-", power=False)
    activity_ingest_file(path=path, source=INGEST_SOURCE, recompute=False)
    dirty = PendingRecompute.objects.count()
    started = time.perf_counter()
    incremental = levels_recompute(full=False, reason="Benchmark: incremental recompute")
    incremental_s = time.perf_counter() - started
    log(f"incremental recompute: {incremental.members:,} members in {incremental_s:.2f} s")
    details["recompute"] = {
        "events": events,
        "group_by_s": group_by_s,
        "full_s": full_s,
        "full": full.as_dict(),
        "incremental_s": incremental_s,
        "dirty": dirty,
        "incremental": incremental.as_dict(),
    }
    rows += recompute_rows(
        full,
        incremental,
        full_seconds=full_s,
        incremental_seconds=incremental_s,
        events=events,
        group_by_seconds=group_by_s,
        dirty=dirty,
        community_members=seed.COMMUNITY_MEMBERS,
    )


def warm_process() -> None:
    """Load and index the URLconf, as the full run's in-process admin benchmark has done before the recompute.

    The recompute's notifications reverse() their URL; the first reverse() of a process imports every URL
    module and indexes them (0.2 s of Python here). Run alone (--only recompute) that one-off cost of a
    fresh process fell inside the timed recompute, and not in a full run.
    """
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - the property populates the resolver


# The outer query sums what the GROUP BY computes: counted only, the grouped rows' COUNT and SUMs would be
# dropped by the planner (never computed, quantity and minutes never read), a bare DISTINCT (member, kind).
GROUP_BY_SQL = (
    "SELECT COUNT(*), SUM(events), SUM(quantity), SUM(minutes) FROM (SELECT member_id, kind, COUNT(*) AS events, "
    "SUM(quantity) AS quantity, SUM(minutes) AS minutes "
    "FROM community_levels_activityevent GROUP BY member_id, kind) grouped"
)


def group_by_seconds() -> float:
    """How long one GROUP BY over every event takes: the floor a full recompute is compared with."""
    from django.db import connection

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(GROUP_BY_SQL)
        cursor.fetchone()
        return time.perf_counter() - started


def recompute_rows(
    full,
    incremental,
    *,
    full_seconds: float,
    incremental_seconds: float,
    events: int,
    group_by_seconds: float,
    dirty: int,
    community_members: int,
) -> list:
    """The recompute's rows: the full one against a bare GROUP BY over the events, the incremental one
    against the full one. The incremental one must recompute exactly the 1,000 members the new events
    touched (checked where the seed has the members 50,001 to 51,000 the events are for)."""
    from bench.report import Row

    return [
        Row(
            f"full recompute of {full.members:,} members",
            full_seconds,
            "s",
            f"one GROUP BY over the {events / 1e6:.1f}M events, s",
            group_by_seconds,
            note=f"{full.changed:,} level changes",
        ),
        Row(
            f"incremental recompute of {incremental.members:,} changed members",
            incremental_seconds,
            "s",
            "full recompute, s",
            full_seconds,
            ok=incremental.members == dirty == 1000 or community_members < 51_000,
        ),
    ]
