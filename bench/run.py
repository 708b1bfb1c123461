"""`python -m bench` (what scripts/bench runs): prepare the benchmark database, measure, print one table."""

# SQL here is fixed text; the few values are parameters.

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import env

STARTED = time.perf_counter()
INGEST_SOURCE = "bench-ingest"
TRIVIAL_EMAIL = "bench.trivial@bench.example"
HEAVY_EMAIL = "bench.ma1@bench.example"


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the benchmark database when it is already seeded (skips dropping, migrating from scratch "
        "and seeding; the state the previous run changed is reset first)",
    )
    parser.add_argument("--seconds", type=int, default=15, help="duration of each wrk page run (default 15)")
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
        default="pages,signups,mixed,admin,ingest,recompute",
        help="comma-separated subset of: pages, signups, mixed, admin, ingest, recompute",
    )
    return parser.parse_args(argv)


# --- Preparation ----------------------------------------------------------------------------------


def prepare(*, reuse: bool) -> dict:
    from bench import seed

    info: dict = {"seeded_this_run": False}
    fresh = not (reuse and env.database_exists())
    if fresh:
        log(f"Creating the benchmark database {env.DB_NAME} (dropped if it existed)")
        env.database_recreate()
    env.setup_django()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    log(f"Migrated in {time.perf_counter() - started:.1f} s")
    if fresh or not seed.seeded():
        if not fresh:
            log("The database is not (fully) seeded: recreating it")
            from django.db import connection

            connection.close()
            env.database_recreate()
            call_command("migrate", verbosity=0)
        log("Seeding (set-based SQL)")
        started = time.perf_counter()
        info["seed_steps_s"] = seed.seed(log=log)
        info["seed_s"] = time.perf_counter() - started
        info["seeded_this_run"] = True
        log(f"Seeded in {info['seed_s']:.1f} s")
    else:
        log("Reusing the seeded database")
        reset_previous_run()
    started = time.perf_counter()
    call_command("collectstatic", "--noinput", verbosity=0)
    log(f"collectstatic in {time.perf_counter() - started:.1f} s")
    _trivial_user()
    _flush_broker()
    return info


def _trivial_user() -> None:
    from accounts.models import User

    if not User.objects.filter(email=TRIVIAL_EMAIL).exists():
        User.objects.create_user(email=TRIVIAL_EMAIL, password=None, first_name="Trivial")


def _flush_broker() -> None:
    """Tasks the pages enqueued (emails, recomputes) wait in the benchmark's own Redis database."""
    import redis

    redis.Redis.from_url(env.BROKER_URL).flushdb()


def reset_previous_run() -> None:
    """Undo what a previous run added, so a reused database is measured in the seeded state."""
    from django.db import connection

    from community_levels.recompute import levels_recompute

    with connection.cursor() as cursor:
        cursor.execute("SELECT seeded_at FROM bench_seed_info")
        seeded_at = cursor.fetchone()[0]
        cursor.execute(
            "DELETE FROM engagements_signup WHERE created_at > %s AND opportunity_id IN "
            "(SELECT id FROM engagements_opportunity WHERE slug LIKE 'bench-%%')",
            [seeded_at],
        )
        signups = cursor.rowcount
        cursor.execute(
            "DELETE FROM contributions_contribution WHERE created_at > %s AND title = 'Load-test workshop'", [seeded_at]
        )
        contributions = cursor.rowcount
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM community_levels_activityevent WHERE source = %s)", [INGEST_SOURCE]
        )
        ingested = cursor.fetchone()[0]
    log(f"Reset: removed {signups:,} sign-ups and {contributions:,} contributions of the previous run")
    if ingested:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM community_levels_activityevent WHERE source = %s", [INGEST_SOURCE])
            cursor.execute("TRUNCATE community_levels_dailyactivity")
            cursor.execute(
                "INSERT INTO community_levels_dailyactivity (member_id, day, kind, quantity, minutes, events) "
                "SELECT member_id, day, kind, SUM(quantity), SUM(minutes), COUNT(*) "
                "FROM community_levels_activityevent WHERE NOT is_self_like GROUP BY member_id, day, kind"
            )
            cursor.execute("VACUUM ANALYZE community_levels_activityevent")
            cursor.execute("VACUUM ANALYZE community_levels_dailyactivity")
        levels_recompute(full=True, reason="Benchmark reset")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE community_levels_communitymember")
        log(f"Reset: removed the previously ingested events and recomputed in {time.perf_counter() - started:.1f} s")


# --- Benchmarks -----------------------------------------------------------------------------------


def bench_pages(args, rows, details) -> None:
    from bench import http
    from bench.report import Row

    sessions = http.sessions_for([TRIVIAL_EMAIL, HEAVY_EMAIL])
    pages = [
        ("dashboard /", "/", "the member with 1,000 contributions"),
        ("opportunities /engagements/", "/engagements/", "300 published, 30,000 sign-ups"),
        ("community /community/me/", "/community/me/", "linked to the most active of 100,000 members"),
    ]
    with http.gunicorn() as port:
        # Warm both workers (imports, templates, connections) before measuring.
        for path in ["/notifications/", *(p for _, p, _ in pages)]:
            for _ in range(4):
                http.request(port, "GET", path, session=sessions[HEAVY_EMAIL])
        trivial = http.wrk_page(port, "/notifications/", session=sessions[TRIVIAL_EMAIL], seconds=args.seconds)
        log(f"trivial /notifications/: {trivial.rps:.1f} req/s, p95 {trivial.p95_ms:.0f} ms")
        details["pages"] = {"/notifications/ (trivial)": trivial.__dict__}
        rows.append(
            Row(
                "trivial page /notifications/: throughput",
                trivial.rps,
                "req/s",
                note=f"{trivial.errors} errors",
                ok=trivial.errors == 0,
            )
        )
        rows.append(Row("trivial page /notifications/: p95", trivial.p95_ms, "ms"))
        for label, path, note in pages:
            load = http.wrk_page(port, path, session=sessions[HEAVY_EMAIL], seconds=args.seconds)
            log(f"{path}: {load.rps:.1f} req/s, p95 {load.p95_ms:.0f} ms, {load.errors} errors")
            details["pages"][path] = load.__dict__
            rows.append(
                Row(
                    f"{label}: throughput",
                    load.rps,
                    "req/s",
                    "trivial page, req/s",
                    trivial.rps,
                    note=f"{note}; {load.errors} errors",
                    ok=load.errors == 0,
                )
            )
            rows.append(Row(f"{label}: p95", load.p95_ms, "ms", "trivial page, p95 ms", trivial.p95_ms))


def _overbooked(held: int, capacity: int | None) -> int:
    """Seats held past the capacity (an opportunity without a capacity has no limit)."""
    return 0 if capacity is None else max(0, held - capacity)


def bench_signups(args, rows, details) -> None:
    from django.db import connection

    from bench import http, seed
    from bench.report import Row
    from engagements.models import Opportunity, SignUp

    clients, each = 50, 10
    hot = Opportunity.objects.get(slug="bench-hot-1")
    spread = [f"bench-spread-{i}" for i in range(1, clients + 1)]
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM engagements_signup WHERE opportunity_id IN "
            "(SELECT id FROM engagements_opportunity WHERE slug LIKE 'bench-hot-%%' OR slug LIKE 'bench-spread-%%')"
        )
    contention_emails = [seed.ma_email(5001 + i) for i in range(clients * each)]
    quiet_emails = [seed.ma_email(5001 + clients * each + i) for i in range(clients * each)]
    sessions = http.sessions_for(contention_emails + quiet_emails)
    contention_plan = [
        [("bench-hot-1", sessions[contention_emails[c * each + k]]) for k in range(each)] for c in range(clients)
    ]
    quiet_plan = [[(spread[c], sessions[quiet_emails[c * each + k]]) for k in range(each)] for c in range(clients)]
    with http.gunicorn() as port:
        for _ in range(8):
            http.request(port, "GET", "/engagements/bench-hot-1/", session=sessions[contention_emails[0]])
        hot_burst = http.signup_burst(port, contention_plan)
        quiet_burst = http.signup_burst(port, quiet_plan)
    held = SignUp.objects.filter(opportunity=hot, state__in=SignUp.SLOT_STATES).count()
    live = SignUp.objects.filter(opportunity=hot, state__in=SignUp.LIVE_STATES).count()
    overbooked = _overbooked(held, hot.capacity)
    quiet_overbooked = sum(
        _overbooked(SignUp.objects.filter(opportunity=o, state__in=SignUp.SLOT_STATES).count(), o.capacity)
        for o in Opportunity.objects.filter(slug__in=spread)
    )
    log(
        f"sign-ups on one opportunity: {hot_burst.per_second:.1f}/s, p99 {hot_burst.p99_ms:.0f} ms, "
        f"{held} holding of capacity {hot.capacity}, {live} live, {len(hot_burst.errors)} errors"
    )
    log(f"sign-ups on 50 opportunities: {quiet_burst.per_second:.1f}/s, p99 {quiet_burst.p99_ms:.0f} ms")
    details["signups"] = {
        "contention": {
            "per_second": hot_burst.per_second,
            "p50_ms": hot_burst.p50_ms,
            "p99_ms": hot_burst.p99_ms,
            "errors": hot_burst.errors[:10],
            "held": held,
            "live": live,
            "capacity": hot.capacity,
        },
        "spread": {
            "per_second": quiet_burst.per_second,
            "p50_ms": quiet_burst.p50_ms,
            "p99_ms": quiet_burst.p99_ms,
            "errors": quiet_burst.errors[:10],
        },
    }
    total = clients * each
    rows.append(
        Row(
            "sign-ups, 50 clients on ONE opportunity: rate",
            hot_burst.per_second,
            "sign-ups/s",
            "same, 50 clients on 50 opportunities",
            quiet_burst.per_second,
            note=f"{total} sign-ups, {len(hot_burst.errors) + len(quiet_burst.errors)} errors",
            ok=not hot_burst.errors and not quiet_burst.errors,
        )
    )
    rows.append(
        Row(
            "sign-ups, 50 clients on ONE opportunity: p99",
            hot_burst.p99_ms,
            "ms",
            "same, 50 clients on 50 opportunities",
            quiet_burst.p99_ms,
        )
    )
    rows.append(
        Row(
            "sign-ups: OVERBOOKING (holding beyond capacity)",
            overbooked + quiet_overbooked,
            "sign-ups",
            note=f"{held}/{hot.capacity} slots held, {live - held} waitlisted, {live}/{total} live; must be 0",
            ok=overbooked == 0 and quiet_overbooked == 0 and live == total,
        )
    )


def bench_mixed(args, rows, details) -> None:
    from django.conf import settings

    from bench import http, seed
    from bench.report import Row
    from contributions.models import ActivityType
    from contributions.selectors import program_year_current

    emails = [seed.ma_email(n) for n in range(2, 502)]
    sessions = http.sessions_for(emails)
    program_year = program_year_current()
    activity_type = (
        ActivityType.objects.filter(program_year=program_year, tracking=ActivityType.Tracking.MANUAL, is_active=True)
        .order_by("pk")
        .first()
    )
    if activity_type is None:
        raise SystemExit("bench: no manual activity type open this year (run the seed first)")
    users = 20
    with http.gunicorn() as port:
        data_file = env.VAR / "locust-data.json"
        data_file.write_text(
            json.dumps(
                {
                    "sessions": list(sessions.values()),
                    "slugs": [f"bench-opp-{i}" for i in range(1, seed.OPPORTUNITIES + 1)],
                    "activity_type": activity_type.pk,
                    "session_cookie": settings.SESSION_COOKIE_NAME,
                    "csrf_cookie": settings.CSRF_COOKIE_NAME,
                    "csrf": http.CSRF_SECRET,
                    "host": f"127.0.0.1:{port}",
                }
            )
        )
        prefix = env.VAR / "locust"
        command = [
            str(env.ROOT / ".venv" / "bin" / "locust"),
            "-f",
            str(env.ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{args.mixed_seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "10",
        ]
        done = subprocess.run(  # noqa: S603
            command,
            env={**os.environ, "BENCH_LOCUST_DATA": str(data_file)},
            capture_output=True,
            text=True,
            check=False,
        )
    with Path(f"{prefix}_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    total = stats["Aggregated"]
    failures = int(total["Failure Count"])
    failure_lines = Path(f"{prefix}_failures.csv").read_text().splitlines()[1:6]
    details["mixed"] = {
        "users": users,
        "seconds": args.mixed_seconds,
        "locust_exit": done.returncode,
        "stats": {
            name: {k: row[k] for k in ("Request Count", "Failure Count", "Requests/s", "50%", "95%")}
            for name, row in stats.items()
        },
        "failures": failure_lines,
    }
    rps = float(total["Requests/s"])
    log(f"mixed load: {rps:.1f} req/s, {failures} failures of {total['Request Count']} requests")
    trivial = next((r for r in rows if r.name.startswith("trivial page /notifications/: throughput")), None)
    rows.append(
        Row(
            "mixed load (locust, 20 members): throughput",
            rps,
            "req/s",
            "trivial page, req/s" if trivial else "",
            trivial.value if trivial else None,
            note=f"{total['Request Count']} requests in {args.mixed_seconds} s, p95 {total['95%']} ms; "
            "0.5–2 s think time per member",
            ok=failures == 0,
        )
    )
    rows.append(
        Row(
            "mixed load: ERRORS",
            failures,
            "requests",
            note="browse, submit contributions, sign up; must be 0",
            ok=failures == 0,
        )
    )


def bench_admin(args, rows, details) -> None:
    import statistics

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from bench import seed
    from bench.report import Row
    from contributions import admin_views
    from contributions.models import Contribution
    from contributions.selectors import program_year_current

    def measure(client: Client, path: str, repeat: int) -> tuple[float, int, int]:
        client.get(path, secure=True)  # warm
        times, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path, secure=True)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            queries = len(captured.captured_queries)
        return statistics.median(times), queries, len(response.content)

    staff = Client()
    staff.force_login(User.objects.get(email=seed.STAFF_EMAIL))
    member = Client()
    member.force_login(User.objects.get(email=TRIVIAL_EMAIL))
    program_year = program_year_current()
    if program_year is None:
        raise SystemExit("bench: no current program year (run the seed first)")
    trivial_ms, trivial_q, _ = measure(member, "/notifications/", 20)
    queue_size = Contribution.objects.filter(state=Contribution.State.SUBMITTED).count()
    pages = [
        (
            "admin verification queue",
            "/admin/contributions/contribution/",
            10,
            f"{queue_size:,} submitted of {Contribution.objects.count():,}",
        ),
        (
            "admin year report",
            f"/admin/contributions/programyear/{program_year.pk}/report/",
            3,
            f"{program_year.year}: all MAs computed, {admin_views.years.REPORT_PAGE_SIZE} rows shown",
        ),
    ]
    details["admin"] = {"trivial": {"ms": trivial_ms, "queries": trivial_q}}
    log(f"trivial page in-process: {trivial_ms:.1f} ms, {trivial_q} queries")
    for label, path, repeat, note in pages:
        ms, queries, size = measure(staff, path, repeat)
        log(f"{label}: {ms:.0f} ms, {queries} queries, {size / 1024:.0f} KiB")
        details["admin"][path] = {"ms": ms, "queries": queries, "bytes": size}
        rows.append(
            Row(
                f"{label}: time per page",
                ms,
                "ms",
                "trivial page in-process, ms",
                trivial_ms,
                note=f"{note}; {size / 1024:.0f} KiB",
            )
        )
        rows.append(Row(f"{label}: SQL queries", queries, "queries", "trivial page, queries", trivial_q))


def _events_csv(path: Path, *, count: int, first_member: int, spread: int, prefix: str, power: bool) -> None:
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


def _child(command: list[str], *, stdout_path: Path) -> tuple[float, int, int]:
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
    from django.db import connection

    from bench import seed
    from bench.report import Row

    path = env.VAR / "events-1m.csv"
    started = time.perf_counter()
    _events_csv(path, count=seed.EVENTS, first_member=1, spread=seed.COMMUNITY_MEMBERS - 1, prefix="i", power=True)
    log(
        f"Wrote {seed.EVENTS:,} events to {path.name} ({path.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_copy_target (event_id text, member_id text, kind text, "
            "occurred_at timestamptz, quantity integer, minutes integer)"
        )
        cursor.execute("TRUNCATE bench_copy_target")
    copy_s, copy_kb, copy_exit = _child(
        [
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
        ],
        stdout_path=env.VAR / "copy.out",
    )
    if copy_exit:
        raise RuntimeError(f"psql \\copy failed: {(env.VAR / 'copy.out').read_text()}")
    log(f"psql \\copy: {copy_s:.1f} s, peak {copy_kb / 1024:.0f} MiB")
    ingest_s, ingest_kb, ingest_exit = _child(
        [sys.executable, "-m", "bench.ingest_child", str(path), INGEST_SOURCE], stdout_path=env.VAR / "ingest.out"
    )
    output = (env.VAR / "ingest.out").read_text()
    if ingest_exit:
        raise RuntimeError(f"ingestion failed: {output[-2000:]}")
    result = json.loads(output.strip().splitlines()[-1])
    log(f"ingestion: {result['imported']:,} imported in {ingest_s:.1f} s, peak {ingest_kb / 1024:.0f} MiB")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bench_copy_target")
    details["ingest"] = {
        "result": result,
        "seconds": ingest_s,
        "peak_kib": ingest_kb,
        "copy_seconds": copy_s,
        "copy_peak_kib": copy_kb,
    }
    good = result["imported"] == seed.EVENTS and result["bad"] == 0
    rows.append(
        Row(
            "ingestion of 1,000,000 events: rate",
            result["imported"] / ingest_s,
            "events/s",
            "psql \\copy of the same rows into a plain table, rows/s",
            seed.EVENTS / copy_s,
            note=f"{ingest_s:.1f} s vs {copy_s:.1f} s; manage.py ingest_activity's path",
            ok=good,
        )
    )
    rows.append(
        Row(
            "ingestion: peak memory (maxrss)",
            ingest_kb / 1024,
            "MiB",
            "psql \\copy, MiB",
            copy_kb / 1024,
            note="child process rusage",
        )
    )


def bench_recompute(args, rows, details) -> None:
    from django.db import connection

    from bench import seed
    from bench.report import Row
    from community_levels.models import CommunityMember
    from community_levels.recompute import levels_recompute
    from community_levels.services import activity_ingest_file

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM community_levels_activityevent")
        events = cursor.fetchone()[0]
        started = time.perf_counter()
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT member_id, kind, COUNT(*), SUM(quantity), SUM(minutes) "
            "FROM community_levels_activityevent GROUP BY member_id, kind) grouped"
        )
        cursor.fetchone()
        group_by_s = time.perf_counter() - started
    log(f"GROUP BY over {events:,} events: {group_by_s:.2f} s")
    started = time.perf_counter()
    full = levels_recompute(full=True, reason="Benchmark: full recompute")
    full_s = time.perf_counter() - started
    log(f"full recompute: {full.members:,} members in {full_s:.1f} s ({full.changed:,} level changes)")

    path = env.VAR / "events-1k.csv"
    _events_csv(path, count=1000, first_member=50_001, spread=1000, prefix=f"r{int(time.time())}-", power=False)
    activity_ingest_file(path=path, source=INGEST_SOURCE, recompute=False)
    dirty = CommunityMember.objects.filter(needs_recompute=True).count()
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
    rows.append(
        Row(
            f"full recompute of {full.members:,} members",
            full_s,
            "s",
            f"one GROUP BY over the {events / 1e6:.1f}M events, s",
            group_by_s,
            note=f"{full.changed:,} level changes",
        )
    )
    rows.append(
        Row(
            f"incremental recompute of {incremental.members:,} changed members",
            incremental_s,
            "s",
            "full recompute, s",
            full_s,
            ok=incremental.members == dirty == 1000 or seed.COMMUNITY_MEMBERS < 51_000,
        )
    )


BENCHMARKS = {
    "pages": bench_pages,
    "signups": bench_signups,
    "mixed": bench_mixed,
    "admin": bench_admin,
    "ingest": bench_ingest,
    "recompute": bench_recompute,
}


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
