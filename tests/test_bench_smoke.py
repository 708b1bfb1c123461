"""The benchmark's table and statistics (scripts/bench), without seeding anything."""

import pytest

from bench.http import percentile
from bench.report import Row, markdown, number, table


def test_ratio_is_against_the_baseline_of_the_same_row():
    assert Row("dashboard", 25.0, "req/s", "trivial", 100.0).ratio == 0.25
    assert Row("overbooking", 0, "sign-ups").ratio is None
    assert Row("odd", 3.0, "s", "zero baseline", 0.0).ratio is None


def test_table_lines_up_and_marks_failures():
    rows = [
        Row("trivial page", 104.2, "req/s"),
        Row("dashboard / throughput", 18.94, "req/s", "trivial page, req/s", 104.2),
        Row("mixed load: ERRORS", 6, "requests", note="must be 0", ok=False),
    ]
    lines = table(rows).splitlines()
    assert len(lines) == 5 and len({len(line) for line in lines}) == 1  # every column padded to its width
    assert "0.18×" in lines[3] and "18.9" in lines[3]
    assert "FAIL must be 0" in lines[4]
    assert markdown(rows).splitlines()[3].startswith("| dashboard / throughput | 18.9 | req/s |")


def test_numbers_keep_three_significant_figures_at_most():
    assert [number(v) for v in (0, 0.974, 18.94, 104.2, 723221.4, None)] == ["0", "0.97", "18.9", "104", "723,221", "—"]


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 99) == 99 and percentile(values, 95) == 95 and percentile(values, 100) == 100
    assert percentile([5.0], 99) == 5.0 and percentile([], 99) == 0.0


def test_the_signup_rows_fail_on_overbooking_on_errors_and_on_a_lost_request():
    from bench.http import Burst
    from bench.web import signup_rows

    hot = Burst(requests=500, seconds=10.0, latencies_ms=[5.0] * 500)
    quiet = Burst(requests=500, seconds=5.0, latencies_ms=[2.0] * 500)
    rate, p99, overbooking = signup_rows(hot, quiet, held=40, live=500, capacity=40, overbooked=0, total=500)
    assert (rate.value, rate.baseline_value, rate.ok) == (50.0, 100.0, True)
    assert (p99.value, p99.baseline_value) == (5.0, 2.0)
    assert (overbooking.value, overbooking.ok) == (0, True)
    assert overbooking.note == "40/40 slots held, 460 waitlisted, 500/500 live; must be 0"
    assert not signup_rows(hot, quiet, held=41, live=500, capacity=40, overbooked=1, total=500)[2].ok
    assert not signup_rows(hot, quiet, held=40, live=499, capacity=40, overbooked=0, total=500)[2].ok
    failing = Burst(requests=500, seconds=10.0, errors=["HTTP 500"])
    assert not signup_rows(failing, quiet, held=40, live=500, capacity=40, overbooked=0, total=500)[0].ok


def test_the_signup_rounds_merge_into_one_rate_and_one_p99_over_all_their_requests():
    from bench.http import Burst, merged

    fast = Burst(requests=500, seconds=2.0, latencies_ms=[100.0] * 500)
    slow = Burst(requests=500, seconds=8.0, latencies_ms=[400.0] * 490 + [900.0] * 10, errors=["HTTP 502"])
    both = merged([fast, slow])
    assert (both.requests, both.seconds, both.per_second) == (1000, 10.0, 100.0)
    assert both.p99_ms == 400.0  # 10 of 1,000 are slower: the 99th percentile is the 990th
    assert merged([slow, slow]).p99_ms == 900.0  # 20 of 1,000
    assert both.errors == ["HTTP 502"]


def test_the_mixed_load_rows_compare_with_the_trivial_page_and_fail_on_any_error():
    from bench.web import mixed_rows

    total = {"Requests/s": "41.5", "Failure Count": "0", "Request Count": "1867", "95%": "180"}
    trivial = Row("trivial page /notifications/: throughput", 104.2, "req/s")
    throughput, errors = mixed_rows(total, seconds=45, trivial=trivial)
    assert (throughput.value, throughput.baseline_value, throughput.ok) == (41.5, 104.2, True)
    assert throughput.note.startswith("1867 requests in 45 s, p95 180 ms;")
    assert (errors.value, errors.ok) == (0, True)
    alone, failed = mixed_rows(total | {"Failure Count": "3"}, seconds=45)
    assert (alone.baseline, alone.baseline_value, alone.ok) == ("", None, False)
    assert (failed.value, failed.ok) == (3, False)


def test_locust_runs_headless_for_the_members_and_seconds_asked(tmp_path):
    from bench.web import locust_command

    command = locust_command(users=20, seconds=45, port=8123, prefix=tmp_path / "locust")
    assert command[0].endswith(".venv/bin/locust") and "--headless" in command
    assert command[command.index("-u") + 1] == command[command.index("-r") + 1] == "20"
    assert command[command.index("-t") + 1] == "45s"
    assert command[command.index("--host") + 1] == "http://127.0.0.1:8123"
    assert command[command.index("--csv") + 1] == str(tmp_path / "locust")


def test_the_ingestion_rows_compare_with_psql_copy_and_fail_on_a_lost_or_bad_event():
    from bench.data import ingest_rows

    done = {"imported": 1_000_000, "bad": 0}
    rate, memory = ingest_rows(
        done, seconds=50.0, peak_kib=102_400, copy_seconds=5.0, copy_peak_kib=10_240, events=1_000_000
    )
    assert (rate.value, rate.baseline_value, rate.ok) == (20_000.0, 200_000.0, True)
    assert (memory.value, memory.baseline_value) == (100.0, 10.0)
    for result in ({"imported": 999_999, "bad": 0}, {"imported": 1_000_000, "bad": 1}):
        assert not ingest_rows(result, seconds=50.0, peak_kib=1, copy_seconds=5.0, copy_peak_kib=1, events=1_000_000)[
            0
        ].ok


def test_the_floor_rows_put_the_floor_against_copy_and_the_import_against_the_floor():
    from bench.data import floor_rows

    floor, against_floor = floor_rows(10.0, copy_seconds=2.0, events=1_000_000, ingest_seconds=40.0, imported=1_000_000)
    assert (floor.value, floor.baseline_value, floor.ratio) == (100_000.0, 500_000.0, 0.2)
    assert (against_floor.value, against_floor.baseline_value, against_floor.ratio) == (25_000.0, 100_000.0, 0.25)
    assert "10.0 s" in floor.note
    # Without the ingestion in the run (--only floor): the floor alone.
    assert len(floor_rows(10.0, copy_seconds=2.0, events=1_000_000)) == 1


def test_the_ingestion_floor_writes_into_empty_copies_of_both_tables_and_keeps_nothing(db):
    from django.db import connection

    from bench.data import floor_run
    from community_levels.models import ActivityEvent, CommunityMember, DailyActivity

    CommunityMember.objects.create(external_id="bench-c1", created_at="2026-01-01T00:00:00Z")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_copy_target (event_id text, member_id text, kind text, "
            "occurred_at timestamptz, quantity integer, minutes integer)"
        )
        cursor.execute(
            "INSERT INTO bench_copy_target VALUES ('e1', 'bench-c1', 'visit', '2026-11-02T10:00:00Z', 1, 3), "
            "('e2', 'bench-c1', 'visit', '2026-11-02T11:00:00Z', 1, 4), ('e3', 'bench-c1', 'read', "
            "'2026-11-03T10:00:00Z', 2, 0)"
        )
    seconds, events, totals = floor_run()
    assert seconds > 0
    assert (events, totals) == (3, 2)  # two visits on one day make one total
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_floor_event'), to_regclass('bench_floor_daily')")
        assert cursor.fetchone() == (None, None)
    assert not ActivityEvent.objects.exists()
    assert not DailyActivity.objects.exists()


def test_the_incremental_recompute_must_touch_exactly_the_thousand_members_with_new_events():
    from types import SimpleNamespace

    from bench.data import recompute_rows

    full = SimpleNamespace(members=60_000, changed=1_234)

    def rows(members: int, dirty: int, community: int = 60_000):
        return recompute_rows(
            full,
            SimpleNamespace(members=members),
            full_seconds=12.0,
            incremental_seconds=0.4,
            events=3_000_000,
            group_by_seconds=3.0,
            dirty=dirty,
            community_members=community,
        )

    full_row, incremental_row = rows(1000, 1000)
    assert (full_row.name, full_row.baseline, full_row.note) == (
        "full recompute of 60,000 members",
        "one GROUP BY over the 3.0M events, s",
        "1,234 level changes",
    )
    assert (incremental_row.baseline_value, incremental_row.ok) == (12.0, True)
    assert not rows(1200, 1200)[1].ok
    assert not rows(1000, 999)[1].ok
    assert rows(10, 10, community=600)[1].ok  # a small seed has no members 50,001 to 51,000 to check


def test_the_copy_floor_loads_the_events_file_with_psql(tmp_path):
    from bench.data import psql_copy_command

    command = psql_copy_command(tmp_path / "events.csv")
    assert command[0] == "psql" and command[command.index("-v") + 1] == "ON_ERROR_STOP=1"
    assert command[-1] == f"\\copy bench_copy_target FROM '{tmp_path / 'events.csv'}' WITH (FORMAT csv, HEADER true)"


@pytest.mark.django_db
def test_a_page_timing_counts_the_queries_of_one_request_and_refuses_an_error(client, member):
    from bench.web import page_timing

    client.force_login(member)
    ms, queries, size = page_timing(client, "/notifications/", 2)
    assert ms > 0 and queries > 0 and size > 0
    with pytest.raises(RuntimeError, match="answered 404"):
        page_timing(client, "/no-such-page/", 1)


@pytest.mark.django_db
def test_the_group_by_floor_runs_over_the_events_table():
    from bench.data import group_by_seconds

    assert group_by_seconds() >= 0


@pytest.mark.django_db
def test_the_group_by_floor_computes_its_aggregates():
    # Counted from outside, the grouped rows' COUNT and SUMs are dropped by the planner (their output
    # becomes NULL and the scan does not even read quantity and minutes): the floor would be a bare
    # DISTINCT over (member, kind), not the GROUP BY the row names.
    from django.db import connection

    from bench.data import GROUP_BY_SQL

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (VERBOSE, FORMAT JSON) " + GROUP_BY_SQL)
        plan = cursor.fetchone()[0]

    def outputs(node):
        yield from node.get("Output", [])
        for child in node.get("Plans", []):
            yield from outputs(child)

    computed = " ".join(outputs(plan[0]["Plan"]))
    assert "NULL::" not in computed
    assert "sum(" in computed and "count(*)" in computed and "minutes" in computed


def test_the_recompute_benchmark_warms_the_process_as_the_full_run_does():
    # In a full run the in-process admin benchmark has loaded the URLconf before the recompute is timed;
    # alone (--only recompute), the recompute's first reverse() would import and index it inside the timing.
    from django.urls import get_resolver
    from django.utils.translation import get_language

    from bench.data import warm_process

    resolver = get_resolver()
    resolver._reverse_dict.clear()  # as in a fresh process
    resolver._populated = False
    warm_process()
    assert resolver._populated and get_language() in resolver._reverse_dict


@pytest.mark.django_db
def test_the_write_before_each_view_of_the_year_report_moves_the_standing_version(client, member):
    """The "first view after a write" row times a report that cannot be served from the stored counts and
    rows: its write, though it changes nothing the year holds, moves the standing's version."""
    from django.db import connection

    from bench.web import page_timing, touch_program_year
    from contributions.standing import _version_sql
    from tests.factories import ProgramYearFactory

    def version() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {_version_sql()}")
            return cursor.fetchone()[0]

    year = ProgramYearFactory()
    target = year.target_points
    first = version()
    touch_program_year(year.pk)
    assert version() > first
    year.refresh_from_db()
    assert year.target_points == target
    calls = []
    client.force_login(member)
    page_timing(client, "/notifications/", 3, before=lambda: calls.append(1))
    assert calls == [1, 1, 1]


def test_rounds_of_a_page_combine_into_the_rate_over_all_their_time():
    from bench.http import PageLoad, combined

    loads = [
        PageLoad("/", rps=100.0, p50_ms=10, p95_ms=50, p99_ms=90, requests=500, errors=0),  # 5 s
        PageLoad("/", rps=50.0, p50_ms=20, p95_ms=80, p99_ms=120, requests=250, errors=1),  # 5 s
        PageLoad("/", rps=200.0, p50_ms=5, p95_ms=30, p99_ms=60, requests=2000, errors=2),  # 10 s
    ]
    load = combined(loads)
    # 2,750 requests in 20 s: not the mean of the three rates (116.7).
    assert load.rps == pytest.approx(137.5)
    assert (load.requests, load.errors) == (2750, 3)
    assert (load.p50_ms, load.p95_ms, load.p99_ms) == (10, 50, 90)
