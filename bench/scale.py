"""`scripts/bench --scale`: the data-heavy figures at two sizes 10× apart, and how each cost grows.

Each size is seeded into a database of its own (`<bench db>_scale1`, `_scale2`) by a child process
(`python -m bench.scale --child FACTOR`), which measures and prints one JSON line; the parent prints
the two columns and the growth factor (large ÷ small) of every figure. A growth near 10× is a cost
linear in the data, near 1× a cost that does not depend on it.

The factor scales the standard seed (`bench.seed`: 10,000 MAs, 100,000 community members,
1,000,000 events, 100,000 contributions, 1,000 of them the heavy member's); the default sizes are
0.01 and 0.1 of it, so the run takes minutes, not an hour.
"""

# SQL here is fixed text; the few values are parameters.

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import env

DEFAULT_FACTORS = (0.01, 0.1)
INCREMENTAL_EVENTS = 500


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


def configure(factor: float) -> dict[str, int]:
    """Scale the seed's sizes (module constants of `bench.seed`) by `factor`."""
    from bench import seed

    sizes = {
        "MAS": max(100, round(10_000 * factor)),
        "COMMUNITY_MEMBERS": max(2 * INCREMENTAL_EVENTS, round(100_000 * factor)),
        "EVENTS": round(1_000_000 * factor),
        "CONTRIBUTIONS": round(100_000 * factor),
        "HEAVY_CONTRIBUTIONS": max(10, round(1_000 * factor)),
        "OPPORTUNITIES": max(10, round(300 * factor)),
        "SIGNUPS": round(30_000 * factor),
    }
    for name, value in sizes.items():
        setattr(seed, name, value)
    return sizes


def child(factor: float) -> dict:
    """Seed one size from scratch and measure it; returns the figures."""
    sizes = configure(factor)
    figures: dict = {"factor": factor, "sizes": sizes}
    log(f"factor {factor}: {sizes}")
    env.database_recreate()
    env.setup_django()
    from django.core.management import call_command
    from django.db import connection

    from bench import seed

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed.seed(log=log)
    figures["seed_s"] = time.perf_counter() - started
    call_command("collectstatic", "--noinput", verbosity=0)
    _measure_ingestion(factor, figures)
    _measure_recompute(factor, figures)
    _measure_pages(figures)
    connection.close()
    return figures


def _measure_ingestion(factor: float, figures: dict) -> None:
    """Ingestion of EVENTS new events (the same generator as the main benchmark), in its own process."""
    from bench import seed
    from bench.common import INGEST_SOURCE
    from bench.data import child_run, events_csv

    path = env.VAR / f"scale-events-{factor}.csv"
    events_csv(path, count=seed.EVENTS, first_member=1, spread=seed.COMMUNITY_MEMBERS - 1, prefix="s", power=True)
    seconds, peak_kib, status = child_run(
        [sys.executable, "-m", "bench.ingest_child", str(path), INGEST_SOURCE],
        stdout_path=env.VAR / f"scale-ingest-{factor}.out",
    )
    if status:
        raise RuntimeError((env.VAR / f"scale-ingest-{factor}.out").read_text()[-2000:])
    figures["ingest_s"], figures["ingest_peak_mib"] = seconds, peak_kib / 1024
    path.unlink()


def _measure_recompute(factor: float, figures: dict) -> None:
    """The full recompute against one GROUP BY; then the same 500 new events for 500 members at every
    size: the incremental cost should not grow."""
    from bench import seed
    from bench.common import INGEST_SOURCE
    from bench.data import events_csv, group_by_seconds
    from community_levels.models import PendingRecompute
    from community_levels.recompute import levels_recompute
    from community_levels.services import activity_ingest_file

    figures["group_by_s"] = group_by_seconds()
    started = time.perf_counter()
    levels_recompute(full=True, reason="Benchmark scale: full recompute")
    figures["full_recompute_s"] = time.perf_counter() - started
    path = env.VAR / f"scale-events-1k-{factor}.csv"
    first = seed.COMMUNITY_MEMBERS // 2
    events_csv(path, count=INCREMENTAL_EVENTS, first_member=first, spread=INCREMENTAL_EVENTS, prefix="n", power=False)
    activity_ingest_file(path=path, source=INGEST_SOURCE, recompute=False)
    path.unlink()
    figures["dirty"] = PendingRecompute.objects.count()
    started = time.perf_counter()
    levels_recompute(full=False, reason="Benchmark scale: incremental recompute")
    figures["incremental_recompute_s"] = time.perf_counter() - started


def _measure_pages(figures: dict) -> None:
    """The year report (staff) and the heaviest member's dashboard, in-process."""
    from django.test import Client

    from accounts.models import User
    from bench import seed
    from bench.common import HEAVY_EMAIL
    from bench.web import page_timing
    from contributions.selectors import program_year_current

    staff = Client()
    staff.force_login(User.objects.get(email=seed.STAFF_EMAIL))
    year = program_year_current()
    if year is None:
        raise SystemExit("bench: no current program year (run the seed first)")
    figures["year_report_ms"], figures["year_report_queries"], _size = page_timing(
        staff, f"/admin/contributions/programyear/{year.pk}/report/", 3
    )
    member = Client()
    member.force_login(User.objects.get(email=HEAVY_EMAIL))
    figures["dashboard_ms"], figures["dashboard_queries"], _size = page_timing(member, "/", 5)


ROWS = (
    # (key, label, unit, what the growth says)
    ("ingest_s", "ingestion of the seed's events again", "s", "linear: every event is parsed and inserted once"),
    ("group_by_s", "one GROUP BY over all events (reference)", "s", "linear: reads every event"),
    (
        "full_recompute_s",
        "full recompute of every member",
        "s",
        "linear: one GROUP BY over the daily aggregates, writes only changed members",
    ),
    (
        "incremental_recompute_s",
        "incremental recompute, 500 new events of 500 members",
        "s",
        "flat: only the members with new activity",
    ),
    (
        "year_report_ms",
        "admin year report, one page",
        "ms",
        "flat: served from the counts and rows stored for the standing (a first view after a write counts "
        "every MA in SQL: linear in the MAs)",
    ),
    ("year_report_queries", "admin year report, SQL queries", "queries", "flat"),
    (
        "dashboard_ms",
        "dashboard of the heaviest member",
        "ms",
        "grows with the member's own contributions (seed: 1,000 × factor), not with the others'",
    ),
    ("dashboard_queries", "dashboard, SQL queries", "queries", "flat"),
)


def table(small: dict, large: dict) -> str:
    lines = [
        f"| figure | {small['factor']}× seed | {large['factor']}× seed | growth | how it grows |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, label, unit, note in ROWS:
        a, b = small[key], large[key]
        growth = f"{b / a:.1f}×" if a else "—"
        fmt = "{:,.0f}" if unit == "queries" else "{:,.2f}" if unit == "s" else "{:,.0f}"
        lines.append(f"| {label} ({unit}) | {fmt.format(a)} | {fmt.format(b)} | {growth} | {note} |")
    sizes = " → ".join(
        f"{s['sizes']['EVENTS']:,} events, {s['sizes']['COMMUNITY_MEMBERS']:,} members, {s['sizes']['MAS']:,} MAs"
        for s in (small, large)
    )
    return "\n".join(lines) + f"\n\nSizes: {sizes}."


def main(factors: tuple[float, float] = DEFAULT_FACTORS) -> int:
    results = []
    for index, factor in enumerate(factors, start=1):
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.scale", "--child", str(factor)],
            env={**os.environ, "MAHOME_BENCH_DB": f"{env.DB_NAME}_scale{index}"},
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode:
            print(f"scale run at factor {factor} failed", file=sys.stderr)
            return 1
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        log(f"factor {factor} measured in {time.perf_counter() - started:.0f} s")
    text = table(*results)
    env.RESULTS.mkdir(parents=True, exist_ok=True)
    (env.RESULTS / "scale-latest.json").write_text(json.dumps(results, indent=2))
    Path(env.RESULTS / "scale-latest.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(float(sys.argv[2]))))
        sys.exit(0)
    sys.exit(main())
