"""`python -m bench` (what scripts/bench runs): prepare the benchmark database, measure, print one table."""

import argparse
import sys
import time

from bench import env
from bench.common import STARTED, log
from bench.data import bench_floor, bench_ingest, bench_recompute
from bench.prepare import prepare
from bench.web import bench_admin, bench_mixed, bench_pages, bench_signups


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the benchmark database when it is already seeded (skips dropping, migrating from scratch "
        "and seeding; the state the previous run changed is reset first)",
    )
    parser.add_argument("--seconds", type=int, default=15, help="wrk seconds per page (default 15), in 3 rounds")
    parser.add_argument("--mixed-seconds", type=int, default=45, help="duration of the locust run (default 45)")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="instead: the data-heavy figures (ingestion, full and incremental recompute, year report, dashboard) "
        "at two sizes 10x apart, each in a database of its own, with the growth factor of each (bench/scale.py)",
    )
    parser.add_argument(
        "--scale-factors",
        default="0.01,0.1",
        help="the two sizes of --scale as fractions of the standard seed (default 0.01,0.1; 0.1,1 for the full size)",
    )
    parser.add_argument(
        "--only",
        default="pages,signups,mixed,admin,ingest,recompute,floor",
        help="comma-separated subset of: pages, signups, mixed, admin, ingest, recompute, floor (the ingestion's "
        "floor, measured last so that its writes do not weigh on the recompute)",
    )
    return parser.parse_args(argv)


BENCHMARKS = {
    "pages": bench_pages,
    "signups": bench_signups,
    "mixed": bench_mixed,
    "admin": bench_admin,
    "ingest": bench_ingest,
    "recompute": bench_recompute,
    "floor": bench_floor,
}


# The data-heavy benchmarks start from a settled database: a CHECKPOINT (untimed) first writes out what the
# phases before left dirty. Without it the recompute ran while the checkpoint the import's ~700 MB of WAL
# had started was still writing the import's pages: the recompute's writes (its first change of each page
# after a checkpoint starts is a whole page in the WAL) competed with the import's, which the import's
# figure never paid for (its commit does not wait for them), while its baseline, a read-only GROUP BY,
# barely noticed (5.0 s against 3.9 s with a CHECKPOINT first, GROUP BY 2.07 s and 1.87 s, in one pair of runs).
SETTLED = ("ingest", "recompute", "floor")


def settle() -> None:
    """CHECKPOINT: the pages the phases before wrote reach the disk before the next phase is timed."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    log(f"checkpoint (untimed): {time.perf_counter() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    from bench import report

    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.scale:
        from bench import scale

        small, large = (float(f) for f in args.scale_factors.split(","))
        return scale.main((small, large))
    selected = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in selected if name not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    info = prepare(reuse=args.reuse)
    rows: list[report.Row] = []
    details: dict = {}
    for name in selected:
        log(f"--- {name}")
        if name in SETTLED:
            settle()
        started = time.perf_counter()
        BENCHMARKS[name](args, rows, details)
        details.setdefault("durations_s", {})[name] = time.perf_counter() - started
    total = time.perf_counter() - STARTED
    machine = report.machine() | {"postgresql": report.postgres_version(), "wrk": report.wrk_version()}
    path = report.write(
        rows,
        folder=env.RESULTS,
        extra={"machine": machine, "total_s": total, "args": vars(args), "prepare": info, "details": details},
    )
    print()
    print(
        f"MA Home benchmarks — {machine['nproc']} CPU ({machine['cpu']}), {machine['memory_gb']} GB, "
        f"PostgreSQL {machine['postgresql']}; gunicorn 2 workers × 4 threads, production settings"
    )
    print(report.table(rows))
    print()
    print(f"Total {total / 60:.1f} min; JSON: {path.relative_to(env.ROOT)}")
    failed = [row.name for row in rows if not row.ok]
    if failed:
        print(f"FAILED: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0
