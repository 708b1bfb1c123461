"""Prepare the benchmark database: create, migrate and seed it, or reset what a previous run changed."""

# SQL here is fixed text; the few values are parameters.

import time

from bench import env
from bench.common import INGEST_SOURCE, TRIVIAL_EMAIL, log


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
