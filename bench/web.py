"""The benchmarks through HTTP and the admin: page latency, sign-up contention, the mixed load, admin pages."""

# SQL here is fixed text; the few values are parameters.

import csv
import json
import os
import subprocess
import time
from pathlib import Path

from bench import env
from bench.common import HEAVY_EMAIL, TRIVIAL_EMAIL, log

# Each page's time is split into this many rounds, alternating with the trivial page's.
PAGE_ROUNDS = 3


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
        # The trivial page and each page alternate in rounds (the machine's speed drifts over a minute:
        # a page measured a minute after its baseline carried that drift in its ratio).
        rounds: dict[str, list[http.PageLoad]] = {path: [] for path in ["/notifications/", *(p for _, p, _ in pages)]}
        for _ in range(PAGE_ROUNDS):
            for path, loads in rounds.items():
                session = sessions[TRIVIAL_EMAIL if path == "/notifications/" else HEAVY_EMAIL]
                seconds = max(1, round(args.seconds / PAGE_ROUNDS))
                loads.append(http.wrk_page(port, path, session=session, seconds=seconds))
        trivial = http.combined(rounds["/notifications/"])
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
            load = http.combined(rounds[path])
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
    from bench import http, seed
    from engagements.models import Opportunity

    clients, each = 50, 10
    hot = Opportunity.objects.get(slug="bench-hot-1")
    spread = [f"bench-spread-{i}" for i in range(1, clients + 1)]
    _clear_contended_signups()
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
        # Each member first views the opportunity (its page holds the sign-up button), untimed: the POST
        # is then a seen session's, as a member's is (accounts.middleware writes the session list's row
        # on a session's first request and then at most every 5 minutes), not its very first request.
        view_before_signing_up(port, [item for items in contention_plan + quiet_plan for item in items])
        # SIGNUP_ROUNDS rounds of both bursts, in alternating order, the sign-ups cleared before each (the
        # same members sign up again): one burst of 500 lasts 2-5 s, and the machine's speed drifts more
        # than that between two bursts run once each.
        hot_bursts, quiet_bursts, hot_verdicts, spread_overbooked = [], [], [], []
        for n in range(SIGNUP_ROUNDS):
            _clear_contended_signups()
            for burst in ("hot", "quiet") if n % 2 == 0 else ("quiet", "hot"):
                if burst == "hot":
                    hot_bursts.append(http.signup_burst(port, contention_plan))
                    hot_verdicts.append(_hot_verdict(hot))
                else:
                    quiet_bursts.append(http.signup_burst(port, quiet_plan))
                    spread_overbooked.append(_spread_overbooked(spread))
    hot_burst, quiet_burst = http.merged(hot_bursts), http.merged(quiet_bursts)
    # Each round must hold exactly the capacity and keep every request live: the worst round is reported.
    held = max(round_held for round_held, _live, _over in hot_verdicts)
    live = min(round_live for _held, round_live, _over in hot_verdicts)
    overbooked = sum(over for _held, _live, over in hot_verdicts) + sum(spread_overbooked)
    log(
        f"sign-ups on one opportunity: {hot_burst.per_second:.1f}/s, p99 {hot_burst.p99_ms:.0f} ms, "
        f"{held} holding of capacity {hot.capacity}, {live} live, {len(hot_burst.errors)} errors"
    )
    log(f"sign-ups on 50 opportunities: {quiet_burst.per_second:.1f}/s, p99 {quiet_burst.p99_ms:.0f} ms")
    details["signups"] = {
        "contention": _burst_details(hot_burst) | {"held": held, "live": live, "capacity": hot.capacity},
        "spread": _burst_details(quiet_burst),
    }
    rows += signup_rows(
        hot_burst,
        quiet_burst,
        held=held,
        live=live,
        capacity=hot.capacity,
        overbooked=overbooked,
        total=clients * each,
        rounds=SIGNUP_ROUNDS,
    )


SIGNUP_ROUNDS = 3


def _hot_verdict(hot) -> tuple[int, int, int]:
    """The contended opportunity after a burst: (slots held, live sign-ups, held beyond capacity)."""
    from engagements.models import SignUp

    held = SignUp.objects.filter(opportunity=hot, state__in=SignUp.SLOT_STATES).count()
    live = SignUp.objects.filter(opportunity=hot, state__in=SignUp.LIVE_STATES).count()
    return held, live, _overbooked(held, hot.capacity)


def _spread_overbooked(slugs: list[str]) -> int:
    from engagements.models import Opportunity, SignUp

    return sum(
        _overbooked(SignUp.objects.filter(opportunity=o, state__in=SignUp.SLOT_STATES).count(), o.capacity)
        for o in Opportunity.objects.filter(slug__in=slugs)
    )


def view_before_signing_up(port: int, items: list[tuple[str, str]]) -> None:
    """GET each (opportunity slug, session)'s page once, 8 at a time; fails unless each answers 200."""
    from concurrent.futures import ThreadPoolExecutor

    from bench import http

    def view(item: tuple[str, str]) -> int:
        slug, session = item
        return http.request(port, "GET", f"/engagements/{slug}/", session=session)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(view, items))
    if any(status != 200 for status in statuses):
        raise RuntimeError(f"opportunity pages before the sign-ups answered {sorted(set(statuses))}")


def _clear_contended_signups() -> None:
    """Remove the sign-ups a previous run made on the contended and the spread opportunities."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM engagements_signup WHERE opportunity_id IN "
            "(SELECT id FROM engagements_opportunity WHERE slug LIKE 'bench-hot-%%' OR slug LIKE 'bench-spread-%%')"
        )


def _burst_details(burst) -> dict:
    return {"per_second": burst.per_second, "p50_ms": burst.p50_ms, "p99_ms": burst.p99_ms, "errors": burst.errors[:10]}


def signup_rows(
    hot, quiet, *, held: int, live: int, capacity: int | None, overbooked: int, total: int, rounds: int = 1
) -> list:
    """The sign-up benchmark's rows: the rate and p99 on one opportunity against 50, and the overbooking
    verdict (none held past capacity, every request live: a slot or the waitlist), `total` sign-ups a
    round on each side; `held` and `live` are the worst round's."""
    from bench.report import Row

    return [
        Row(
            "sign-ups, 50 clients on ONE opportunity: rate",
            hot.per_second,
            "sign-ups/s",
            "same, 50 clients on 50 opportunities",
            quiet.per_second,
            note=f"{total} sign-ups"
            + (f" in each of {rounds} rounds (alternating with the 50)" if rounds > 1 else "")
            + f", {len(hot.errors) + len(quiet.errors)} errors",
            ok=not hot.errors and not quiet.errors,
        ),
        Row(
            "sign-ups, 50 clients on ONE opportunity: p99",
            hot.p99_ms,
            "ms",
            "same, 50 clients on 50 opportunities",
            quiet.p99_ms,
        ),
        Row(
            "sign-ups: OVERBOOKING (holding beyond capacity)",
            overbooked,
            "sign-ups",
            note=f"{held}/{capacity} slots held, {live - held} waitlisted, {live}/{total} live"
            + (" (the worst of the rounds)" if rounds > 1 else "")
            + "; must be 0",
            ok=overbooked == 0 and live == total,
        ),
    ]


def bench_mixed(args, rows, details) -> None:
    from django.conf import settings

    from bench import http, seed

    sessions = http.sessions_for([seed.ma_email(n) for n in range(2, 502)])
    activity_type = _open_manual_type()
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
        done = subprocess.run(  # noqa: S603
            locust_command(users=users, seconds=args.mixed_seconds, port=port, prefix=prefix),
            env={**os.environ, "BENCH_LOCUST_DATA": str(data_file)},
            capture_output=True,
            text=True,
            check=False,
        )
    with Path(f"{prefix}_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    total = stats["Aggregated"]
    details["mixed"] = {
        "users": users,
        "seconds": args.mixed_seconds,
        "locust_exit": done.returncode,
        "stats": {
            name: {k: row[k] for k in ("Request Count", "Failure Count", "Requests/s", "50%", "95%")}
            for name, row in stats.items()
        },
        "failures": Path(f"{prefix}_failures.csv").read_text().splitlines()[1:6],
    }
    rps, failures, count = float(total["Requests/s"]), total["Failure Count"], total["Request Count"]
    log(f"mixed load: {rps:.1f} req/s, {failures} failures of {count} requests")
    trivial = next((r for r in rows if r.name.startswith("trivial page /notifications/: throughput")), None)
    rows += mixed_rows(total, seconds=args.mixed_seconds, trivial=trivial)


def _open_manual_type():
    """The first manual activity type open this year: what the load's members submit contributions of."""
    from contributions.models import ActivityType
    from contributions.selectors import program_year_current

    activity_type = (
        ActivityType.objects.filter(
            program_year=program_year_current(), tracking=ActivityType.Tracking.MANUAL, is_active=True
        )
        .order_by("pk")
        .first()
    )
    if activity_type is None:
        raise SystemExit("bench: no manual activity type open this year (run the seed first)")
    return activity_type


def locust_command(*, users: int, seconds: int, port: int, prefix: Path) -> list[str]:
    """locust, headless: `users` members started at once for `seconds`, its statistics as CSV at `prefix`."""
    return [
        str(env.ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(env.ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
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


def mixed_rows(total: dict[str, str], *, seconds: int, trivial=None) -> list:
    """The mixed load's rows from locust's aggregated statistics: throughput against the trivial page
    (when it was measured), and the errors, which must be none."""
    from bench.report import Row

    failures = int(total["Failure Count"])
    return [
        Row(
            "mixed load (locust, 20 members): throughput",
            float(total["Requests/s"]),
            "req/s",
            "trivial page, req/s" if trivial else "",
            trivial.value if trivial else None,
            note=f"{total['Request Count']} requests in {seconds} s, p95 {total['95%']} ms; "
            "0.5–2 s think time per member",
            ok=failures == 0,
        ),
        Row(
            "mixed load: ERRORS",
            failures,
            "requests",
            note="browse, submit contributions, sign up; must be 0",
            ok=failures == 0,
        ),
    ]


def page_timing(client, path: str, repeat: int, before=None) -> tuple[float, int, int]:
    """A page served in-process `repeat` times after one warm-up: the median milliseconds, the SQL
    queries and the bytes of the last response (fails on anything but 200). `before`, if given, runs
    before each request, untimed (a write the page must then see)."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path, secure=True)  # warm
    times, queries = [], 0
    for _ in range(repeat):
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, secure=True)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        queries = len(captured.captured_queries)
    return statistics.median(times), queries, len(response.content)


def bench_admin(args, rows, details) -> None:
    from django.test import Client

    from accounts.models import User
    from bench import seed
    from bench.report import Row
    from contributions import admin_views
    from contributions.models import Contribution
    from contributions.selectors import program_year_current

    staff = Client()
    staff.force_login(User.objects.get(email=seed.STAFF_EMAIL))
    member = Client()
    member.force_login(User.objects.get(email=TRIVIAL_EMAIL))
    program_year = program_year_current()
    if program_year is None:
        raise SystemExit("bench: no current program year (run the seed first)")
    trivial_ms, trivial_q, _ = page_timing(member, "/notifications/", 20)
    queue_size = Contribution.objects.filter(state=Contribution.State.SUBMITTED).count()
    report = f"/admin/contributions/programyear/{program_year.pk}/report/"
    shown = f"{program_year.year}: all MAs computed, {admin_views.years.REPORT_PAGE_SIZE} rows shown"
    pages = [
        (
            "admin verification queue",
            "/admin/contributions/contribution/",
            10,
            f"{queue_size:,} submitted of {Contribution.objects.count():,}",
            None,
        ),
        # as many as the trivial page it is divided by (3 when a page cost 1-2 s)
        ("admin year report", report, 20, f"{shown}; served from the counts and rows stored for the standing", None),
        (
            "admin year report, first view after a write",
            report,
            20,
            f"{shown}; every MA's status counted again and the rows read again",
            lambda: touch_program_year(program_year.pk),
        ),
    ]
    details["admin"] = {"trivial": {"ms": trivial_ms, "queries": trivial_q}}
    log(f"trivial page in-process: {trivial_ms:.1f} ms, {trivial_q} queries")
    for label, path, repeat, note, before in pages:
        ms, queries, size = page_timing(staff, path, repeat, before=before)
        log(f"{label}: {ms:.0f} ms, {queries} queries, {size / 1024:.0f} KiB")
        details["admin"][label] = {"ms": ms, "queries": queries, "bytes": size}
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


def touch_program_year(pk: int) -> None:
    """A write to the program year that changes nothing it holds: the year report's stored counts and
    rows cannot be served after it (its statement moves the standing's version), as after any write
    an admin or a member makes."""
    from django.db.models import F

    from contributions.models import ProgramYear

    ProgramYear.objects.filter(pk=pk).update(target_points=F("target_points"))
