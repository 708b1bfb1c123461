"""Seed the benchmark database at scale with set-based SQL (generate_series), never row by row.

The demo seed (`seed_demo`, a few seconds) brings the program years, the catalogue, the level
ladder and the scoring weights; on top of it:

* 10,000 MAs (users + MACertification), `bench.ma<N>@bench.example`; MA 1 is the heavy member;
* 100,000 community members (the first 10,000 linked to the MAs), 1,000,000 activity events and
  their daily aggregates, then one full recompute so everyone has a level;
* 100,000 contributions in the current program year, 1,000 of them MA 1's;
* 300 published opportunities with 30,000 sign-ups, plus the contention opportunity `bench-hot`
  and 50 quiet ones `bench-spread-<i>` for the sign-up benchmark;
* a superuser with an authenticator app (the admin requires MFA).
"""

# SQL here is fixed text; the few values are parameters.

import time
from collections.abc import Callable

MAS = 10_000
COMMUNITY_MEMBERS = 100_000
EVENTS = 1_000_000
CONTRIBUTIONS = 100_000
HEAVY_CONTRIBUTIONS = 1_000
OPPORTUNITIES = 300
SIGNUPS = 30_000
SPREAD_OPPORTUNITIES = 50
HOT_CAPACITY = 100
SEED_VERSION = "1"
STAFF_EMAIL = "bench.staff@bench.example"
KINDS = (
    "visit",
    "read",
    "read",
    "read",
    "like_given",
    "like_received",
    "reply",
    "post",
    "comment",
    "idea",
    "accepted_solution",
    "article",
)


def ma_email(n: int) -> str:
    return f"bench.ma{n}@bench.example"


def seeded() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_seed_info') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT version FROM bench_seed_info")
        row = cursor.fetchone()
    return row is not None and row[0] == SEED_VERSION


def seed(*, log: Callable[[str], None]) -> dict[str, float]:
    """Fill a freshly migrated database; returns seconds per step."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    timings: dict[str, float] = {}

    def step(name: str, sql: str, params: list | None = None) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            rows = cursor.rowcount
        timings[name] = time.perf_counter() - started
        log(f"  {name}: {rows:,} rows in {timings[name]:.1f} s")

    started = time.perf_counter()
    call_command("seed_demo", verbosity=0)
    timings["demo data (reference data)"] = time.perf_counter() - started
    log(f"  demo data (program years, catalogue, ladder): {timings['demo data (reference data)']:.1f} s")

    _seed_members(step, password=make_password(PASSWORD_FOR_SEED))
    _seed_contributions(step)
    _seed_opportunities(step)
    _seed_community(step)
    started = time.perf_counter()
    from community_levels.recompute import levels_recompute

    result = levels_recompute(full=True, reason="Benchmark seed")
    timings["first full recompute"] = time.perf_counter() - started
    log(f"  first full recompute: {result.members:,} members in {timings['first full recompute']:.1f} s")
    _staff_user()
    # VACUUM too: the first full recompute rewrote every member row, and a server with autovacuum off (this
    # machine kind's) would leave the recompute and the pages reading a table three times its size.
    step("vacuum analyze", "VACUUM ANALYZE")
    step(
        "seed marker",
        "CREATE TABLE bench_seed_info AS SELECT %s::text AS version, now() AS seeded_at",
        [SEED_VERSION],
    )
    return timings


PASSWORD_FOR_SEED = "bench-password-not-secret"


def _seed_members(step, *, password: str) -> None:
    """The MAs (one set-based insert), their certifications, and a numbered index of them for the later steps."""
    from django.db import transaction

    with transaction.atomic():
        step(
            "users",
            "INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff, is_active, "
            "date_joined, email, preferred_name, bio, company_type, country, email_account, email_community, "
            "email_engagement, email_maintenance, employer, interests, job_title, linkedin_url, phone, time_zone) "
            "SELECT %s, FALSE, 'Bench', 'Member ' || lpad(g::text, 5, '0'), FALSE, TRUE, now(), "
            "'bench.ma' || g || '@bench.example', '', '', '', 'Nowhere', TRUE, TRUE, TRUE, TRUE, '', '[]'::jsonb, "
            "'', '', '', 'UTC' FROM generate_series(1, %s) g",
            [password, MAS],
        )
        step(
            "certifications",
            "INSERT INTO accounts_macertification (certificate_number, qualified_on, created_at, user_id) "
            "SELECT 'BENCH-' || u.id, DATE '2018-01-01' + (u.id %% 3000)::int, now(), u.id FROM accounts_user u "
            "WHERE u.email LIKE 'bench.ma%%@bench.example'",
        )
        step(
            "bench user index",
            "CREATE TEMP TABLE bench_users AS SELECT g AS n, u.id FROM generate_series(1, %s) g "
            "JOIN accounts_user u ON u.email = 'bench.ma' || g || '@bench.example'",
            [MAS],
        )
        step("bench user index key", "CREATE UNIQUE INDEX ON bench_users (n)")


def _seed_contributions(step) -> None:
    # MA 1 has 1,000 contributions; the other 99,000 are spread over MAs 2..10,000.
    # States: 60 % verified, 25 % submitted (the verification queue), 5 % each draft, needs_info, rejected.
    step(
        "contributions",
        "WITH year AS (SELECT id, opens_on FROM contributions_programyear "
        "  WHERE opens_on <= CURRENT_DATE ORDER BY opens_on DESC LIMIT 1), "
        "types AS (SELECT array_agg(t.id ORDER BY t.id) AS ids, array_agg(t.points ORDER BY t.id) AS points "
        "  FROM contributions_activitytype t JOIN year ON t.program_year_id = year.id "
        "  WHERE t.tracking = 'manual' AND t.is_active), "
        "src AS (SELECT g, CASE WHEN g <= %s THEN 1 ELSE 2 + (g %% %s) END AS n, g %% 20 AS s "
        "  FROM generate_series(1, %s) g) "
        "INSERT INTO contributions_contribution (title, description, occurred_on, quantity, evidence_url, "
        "evidence_file, state, claimed_points, awarded_points, decision_note, decided_at, source, source_key, "
        "created_at, submitted_at, updated_at, activity_type_id, member_id, program_year_id) "
        "SELECT 'Bench contribution ' || src.g, 'Seeded for the benchmark.', "
        "LEAST(year.opens_on + (src.g %% 320), CURRENT_DATE), 1, 'https://example.com/evidence/' || src.g, '', "
        "CASE WHEN src.s < 12 THEN 'verified' WHEN src.s < 17 THEN 'submitted' WHEN src.s = 17 THEN 'draft' "
        "  WHEN src.s = 18 THEN 'needs_info' ELSE 'rejected' END, "
        "types.points[1 + src.g %% array_length(types.ids, 1)], "
        "CASE WHEN src.s < 12 THEN types.points[1 + src.g %% array_length(types.ids, 1)] END, "
        "CASE WHEN src.s >= 18 THEN 'Please add the agenda.' ELSE '' END, "
        "CASE WHEN src.s < 12 OR src.s >= 18 THEN now() - make_interval(days => src.g %% 200) END, "
        "'manual', '', now() - make_interval(days => src.g %% 300), "
        "CASE WHEN src.s <> 17 THEN now() - make_interval(days => src.g %% 300, secs => src.g) END, now(), "
        "types.ids[1 + src.g %% array_length(types.ids, 1)], u.id, year.id "
        "FROM src JOIN bench_users u ON u.n = src.n CROSS JOIN year CROSS JOIN types",
        [HEAVY_CONTRIBUTIONS, MAS - 1, CONTRIBUTIONS],
    )


def _seed_opportunities(step) -> None:
    common = (
        "INSERT INTO engagements_opportunity (title, slug, category, points, summary, description, participation, "
        "crediting, starts_at, ends_at, location, capacity, signup_opens_at, signup_closes_at, waitlist_enabled, "
        "offer_hours, state, cancellation_reason, created_at, updated_at, activity_type_id) "
        "SELECT %s || g, %s || g, t.category, t.points, 'A seeded opportunity for the benchmark.', "
        "'What it is.', 'What it takes.', 'Credited on completion.', now() + make_interval(days => 30 + g %% 200), "
        "NULL, '', %s, NULL, NULL, TRUE, 48, 'published', '', now(), now(), t.id "
        "FROM generate_series(1, %s) g CROSS JOIN LATERAL (SELECT at.id, at.category, at.points "
        "  FROM contributions_activitytype at JOIN contributions_programyear py ON py.id = at.program_year_id "
        "  WHERE at.tracking = 'engagement' AND py.opens_on <= CURRENT_DATE "
        "  ORDER BY py.opens_on DESC, at.id LIMIT 1) t"
    )
    step("opportunities", common, ["Bench opportunity ", "bench-opp-", 120, OPPORTUNITIES])
    step(
        "spread opportunities",
        common,
        ["Bench quiet opportunity ", "bench-spread-", HOT_CAPACITY, SPREAD_OPPORTUNITIES],
    )
    step("hot opportunity", common, ["Bench popular opportunity ", "bench-hot-", HOT_CAPACITY, 1])
    step(
        "sign-ups",
        "WITH opps AS (SELECT row_number() OVER (ORDER BY id) AS k, id FROM engagements_opportunity "
        "  WHERE slug LIKE 'bench-opp-%%') "
        "INSERT INTO engagements_signup (state, created_at, confirmed_at, next_steps, end_reason, end_note, "
        "updated_at, member_id, opportunity_id) "
        "SELECT 'confirmed', now(), now(), '', '', '', now(), u.id, opps.id FROM generate_series(1, %s) g "
        "JOIN bench_users u ON u.n = 2 + (g %% %s) JOIN opps ON opps.k = 1 + (g %% %s)",
        [SIGNUPS, MAS - 1, OPPORTUNITIES],
    )


def _seed_community(step) -> None:
    metric_columns = (
        "m_member_days, m_days_visited, m_reading_minutes, m_pages_read, m_posts, m_replies, m_articles, "
        "m_comments, m_ideas, m_accepted_solutions, m_likes_given, m_likes_received"
    )
    step(
        "community members",
        "INSERT INTO community_levels_communitymember (external_id, username, email, user_id, is_excluded, "
        "passive_score, active_score, created_at, " + metric_columns + ") "
        "SELECT 'bench-c' || g, 'bench_user_' || g, CASE WHEN g <= %s THEN 'bench.ma' || g || '@bench.example' "
        "ELSE '' END, u.id, FALSE, 0, 0, now(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 "
        "FROM generate_series(1, %s) g LEFT JOIN bench_users u ON u.n = g",
        [MAS, COMMUNITY_MEMBERS],
    )
    step(
        "community member index",
        "CREATE TEMP TABLE bench_members AS SELECT substr(external_id, 8)::int AS n, id "
        "FROM community_levels_communitymember WHERE external_id LIKE 'bench-c%%'",
    )
    step("community member index key", "CREATE UNIQUE INDEX ON bench_members (n)")
    # Activity is skewed like a real forum: a few members do most of it (power law on the member number).
    step(
        "activity events",
        "INSERT INTO community_levels_activityevent (source, event_id, member_id, kind, occurred_at, day, quantity, "
        "minutes, target_member_id, is_self_like, ingested_at) "
        "SELECT 'bench-seed', 'e' || s.g, m.id, s.kind, s.at, floor(extract(epoch FROM s.at) / 86400)::int, 1, "
        "CASE WHEN s.kind IN ('visit', 'read') THEN 1 + s.g %% 10 ELSE 0 END, '', FALSE, now() "
        "FROM (SELECT g, (%s::text[])[1 + g %% %s] AS kind, "
        "  now() - make_interval(secs => (g * 7919) %% 31536000) AS at, "
        "  1 + floor(%s * power(((g * 104729) %% 1000003) / 1000003.0, 3))::int AS n "
        "  FROM generate_series(1::bigint, %s) g) s JOIN bench_members m ON m.n = s.n",
        [list(KINDS), len(KINDS), COMMUNITY_MEMBERS, EVENTS],
    )
    step(
        "daily aggregates",
        "INSERT INTO community_levels_dailyactivity (member_id, day, kind, quantity, minutes, events) "
        "SELECT member_id, day, kind, SUM(quantity), SUM(minutes), COUNT(*) FROM community_levels_activityevent "
        "WHERE source = 'bench-seed' AND NOT is_self_like GROUP BY member_id, day, kind",
    )


def _staff_user() -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    from accounts.models import User

    user = User.objects.filter(email=STAFF_EMAIL).first()
    if user is None:
        user = User.objects.create_superuser(email=STAFF_EMAIL, password=PASSWORD_FOR_SEED)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
