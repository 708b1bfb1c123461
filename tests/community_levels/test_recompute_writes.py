"""What a recompute writes: each changed member row once, heap-only where PostgreSQL can, and the
credits of an MA account from all of its members."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community_levels import recompute, services
from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import CommunityMember, LevelChange
from community_levels.recompute import levels_recompute
from contributions.models import Contribution
from tests.community_levels.helpers import event, write_jsonl
from tests.factories import ActivityTypeFactory, ProgramYearFactory, UserFactory

pytestmark = pytest.mark.django_db
MEMBER = CommunityMember._meta.db_table


def ingest(tmp_path, events, name):
    return ingest_stream(parse_file(write_jsonl(tmp_path / name, events)), source="file")


def _member_writes(queries) -> list[str]:
    statements = [q["sql"].lstrip().replace('"', "") for q in queries.captured_queries]
    return [sql for sql in statements if sql.upper().startswith(f"UPDATE {MEMBER.upper()} ")]


@pytest.mark.parametrize("full", [False, True])
def test_a_recompute_writes_the_member_rows_in_one_statement_levels_included(tmp_path, full):
    ingest(tmp_path, [event(1, "a", "reply"), event(2, "b", "reply", quantity=40), event(3, "c", "visit")], "a.jsonl")
    with CaptureQueriesContext(connection) as queries:
        result = levels_recompute(full=full)
    assert (result.written, result.changed) == (3, 3)
    assert len(_member_writes(queries)) == 1
    assert LevelChange.objects.count() == 3
    assert not CommunityMember.objects.filter(level__isnull=True).exists()
    assert all(m.level_changed_at is not None for m in CommunityMember.objects.all())


@pytest.mark.parametrize("per_member_up_to", [0, 2500])
def test_an_incremental_recompute_places_members_as_a_full_one_would(tmp_path, monkeypatch, per_member_up_to):
    """Member by member (a few marked members) or in one pass over the daily rows (many): the same values,
    so the full recompute that follows finds nothing to write."""
    monkeypatch.setattr(recompute, "PER_MEMBER_UP_TO", per_member_up_to)
    ingest(
        tmp_path,
        [
            event(1, "a", "reply", quantity=12),
            event(2, "b", "visit", minutes=30, days=2),
            event(3, "c", "like_given", target_member_id="a", quantity=80),
        ],
        "a.jsonl",
    )
    levels_recompute()
    ingest(
        tmp_path,
        [
            event(4, "a", "idea", quantity=3, days=5),
            event(5, "b", "read", quantity=4, minutes=9, days=2),
            event(6, "b", "like_received", days=9),
            event(7, "c", "like_given", target_member_id="b", quantity=90, days=1),
        ],
        "b.jsonl",
    )
    services.member_set_excluded(member=CommunityMember.objects.get(external_id="c"), excluded=True)
    assert levels_recompute().members == 3
    assert CommunityMember.objects.get(external_id="c").m_likes_given == 0
    again = levels_recompute(full=True)
    assert (again.written, again.changed) == (0, 0)


def test_no_index_of_the_member_table_covers_what_a_recompute_writes():
    """Metrics, scores and the level change on every recompute: with none of them indexed (and room on
    the page, fillfactor 50) PostgreSQL rewrites a member row without touching any index (HOT)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes and storage parameters")
    written = {field.column for field in CommunityMember._meta.concrete_fields if field.name.startswith("m_")}
    written |= {"passive_score", "active_score", "level_id", "level_changed_at"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) WHERE c.relname = %s",
            [MEMBER],
        )
        indexed = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [MEMBER])
        options = cursor.fetchone()[0]
    assert indexed and not indexed & written
    assert "fillfactor=50" in options


def test_the_member_table_keeps_only_the_indexes_its_lookups_use():
    """The key, the unique external id, the email and the account: no level index (14 values), no
    `varchar_pattern_ops` copies (no prefix LIKE on a member), nothing the recompute writes."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [MEMBER])
        definitions = sorted(row[0].split(" USING ")[1] for row in cursor.fetchall())
    assert definitions == ["btree (email)", "btree (external_id)", "btree (id)", "btree (user_id)"]


def test_the_level_history_keeps_only_the_indexes_its_lookups_use():
    """A member's history (member, time), a run's changes, the admin's filter by new level; all four
    references stay checked, by the statement that writes them rather than a foreign key per row (their
    guards at work: test_level_history_guards.py)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes")
    table = LevelChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        definitions = sorted(row[0].split(" USING ")[1] for row in cursor.fetchall())
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY tgname", [table]
        )
        checks = [row[0] for row in cursor.fetchall()]
    assert definitions == ["btree (id)", "btree (member_id, changed_at)", "btree (run_id)", "btree (to_level_id)"]
    assert checks == ["levelchange_refers_on_insert", "levelchange_refers_on_update"]


@time_machine.travel("2026-06-15 12:00:00+00:00", tick=False)
def test_an_incremental_recompute_credits_an_account_with_all_of_its_members(tmp_path):
    """One MA account, two community members: new activity of one of them recomputes the account's
    credit from both, as a full recompute would."""
    year = ProgramYearFactory(year=2026)
    ActivityTypeFactory(program_year=year, code="community-replies", tracking="community", points=1, annual_cap=None)
    user = UserFactory(email="ava@example.com")
    ingest(
        tmp_path,
        [
            event(1, "ava-forum", "reply", quantity=3, email="ava@example.com"),
            event(2, "ava-blog", "reply", quantity=4, email="ava@example.com"),
        ],
        "a.jsonl",
    )
    levels_recompute()
    assert Contribution.objects.get(member=user).quantity == 7
    ingest(tmp_path, [event(3, "ava-forum", "reply", quantity=5)], "b.jsonl")
    assert levels_recompute().members == 1
    assert Contribution.objects.get(member=user).quantity == 12
    levels_recompute(full=True)
    assert Contribution.objects.get(member=user).quantity == 12


def _indexed_columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND (a.attnum = ANY(i.indkey) OR pg_get_expr(i.indpred, i.indrelid) LIKE '%%' || a.attname || '%%') "
            "WHERE i.indrelid = %s::regclass",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def _reloptions(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0] or []


def test_the_credits_and_standing_totals_a_recompute_rewrites_fit_beside_their_old_versions():
    """A full recompute after an import rewrites a third of the community credits (9,654 of 29,302 in the
    benchmark) and the standing totals of nearly every MA, all in one transaction: with no indexed column
    changed and room left on their pages, PostgreSQL writes each new version heap-only (no index touched)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes and storage parameters")
    from contributions.models import StandingTotals
    from contributions.services.automatic import _COMMUNITY_CREDIT_UPDATED

    credits = Contribution._meta.db_table
    updated = {Contribution._meta.get_field(name).column for name in _COMMUNITY_CREDIT_UPDATED}
    assert updated and not updated & _indexed_columns(credits)
    assert "fillfactor=70" in _reloptions(credits)
    totals = StandingTotals._meta.db_table
    assert not {"verified", "pending"} & _indexed_columns(totals)
    assert "fillfactor=50" in _reloptions(totals)


@pytest.mark.parametrize("full", [False, True])
def test_only_the_pass_over_the_daily_rows_is_compiled(tmp_path, monkeypatch, full):
    """Its 18 aggregates per row run a fifth faster compiled (JIT, no inlining); compiling the statement
    that places the members (scores, the ladder's CASE) would cost more than it saves, so JIT is off again."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    monkeypatch.setattr(recompute, "PER_MEMBER_UP_TO", 0)
    ingest(tmp_path, [event(1, "a", "reply"), event(2, "b", "visit")], "a.jsonl")
    with CaptureQueriesContext(connection) as queries:
        levels_recompute(full=full)
    statements = [" ".join(q["sql"].split()[:4]) for q in queries.captured_queries]
    grouping = statements.index(f"CREATE TEMP TABLE {recompute.GROUPED}")
    assert statements[grouping - 2 : grouping + 2] == [
        "SET LOCAL jit =",
        "SET LOCAL jit_inline_above_cost =",
        f"CREATE TEMP TABLE {recompute.GROUPED}",
        "SET LOCAL jit =",
    ]
    assert [q["sql"] for q in queries.captured_queries][grouping - 2].endswith("on")
    assert [q["sql"] for q in queries.captured_queries][grouping + 1].endswith("off")
    assert statements.index(f"CREATE TEMP TABLE {recompute.PLACED}") > grouping


@time_machine.travel("2026-06-15 12:00:00+00:00", tick=False)
def test_the_credits_and_their_history_are_written_by_one_statement(tmp_path):
    """The upsert's rows go on to the history in the same statement: a new credit is `+`, a changed one `~`,
    each with the values the credit holds after it; an unchanged credit writes neither."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's upsert")
    year = ProgramYearFactory(year=2026)
    ActivityTypeFactory(program_year=year, code="community-replies", tracking="community", points=2, annual_cap=None)
    ActivityTypeFactory(program_year=year, code="community-posts", tracking="community", points=5, annual_cap=None)
    ava, bo = UserFactory(email="ava@example.com"), UserFactory(email="bo@example.com")
    ingest(
        tmp_path,
        [
            event(1, "ava", "reply", quantity=3, email="ava@example.com"),
            event(2, "bo", "post", quantity=1, email="bo@example.com"),
        ],
        "a.jsonl",
    )
    levels_recompute()
    ingest(tmp_path, [event(3, "ava", "reply", quantity=4), event(4, "bo", "reply", quantity=2)], "b.jsonl")
    with CaptureQueriesContext(connection) as queries:
        levels_recompute()
    history_table = Contribution.history.model._meta.db_table
    statements = [q["sql"] for q in queries.captured_queries]
    assert [sql for sql in statements if history_table in sql and "INSERT" in sql.upper()] == [
        sql for sql in statements if "ON CONFLICT" in sql and Contribution._meta.db_table in sql
    ]
    replies = Contribution.objects.get(member=ava)
    assert [(h.history_type, h.quantity, h.awarded_points) for h in replies.history.order_by("history_id")] == [
        ("+", 3, 6),
        ("~", 7, 14),
    ]
    assert sorted(
        (c.activity_type.code, [h.history_type for h in c.history.all()])
        for c in Contribution.objects.filter(member=bo)
    ) == [("community-posts", ["+"]), ("community-replies", ["+"])]


def test_the_notifications_texts_are_translated_once_per_recompute(tmp_path, monkeypatch):
    """A full recompute after an import raises thousands of MAs (3,193 in the benchmark): each text is
    translated once and filled in per MA, not looked up in the catalogue twice per MA."""
    from accounts.models import Notification, User

    count = 30
    User.objects.bulk_create([User(email=f"t{m}@example.org", first_name="T", password="!") for m in range(count)])
    ingest(tmp_path, [event(f"t{m}-1", f"t{m}", "reply", email=f"t{m}@example.org") for m in range(count)], "a.jsonl")
    levels_recompute()
    ingest(tmp_path, [event(f"t{m}-2", f"t{m}", "reply", quantity=10) for m in range(count)], "b.jsonl")
    looked_up = []

    def counted(message):
        looked_up.append(message)
        return recompute_gettext(message)

    recompute_gettext = recompute._
    monkeypatch.setattr(recompute, "_", counted)
    assert levels_recompute().raised == count
    assert len(looked_up) < 10
    titles = set(Notification.objects.filter(kind="community.level_up").values_list("title", flat=True))
    assert titles == {"You reached General Contributor in the community"}


def test_a_runs_counts_and_notifications_are_those_of_the_history_it_wrote(tmp_path):
    """A first level, a level raised and one lowered in the same run (a rule change): the run's counts
    and notifications (read with the placed members) agree with the history rows it wrote."""
    from django.db.models import Count, F, Q

    from accounts.models import Notification
    from community_levels.models import Level

    users = {name: UserFactory(email=f"{name}@example.com") for name in "abc"}
    ingest(
        tmp_path,
        [event(1, "b", "reply", email="b@example.com"), event(2, "c", "reply", quantity=10, email="c@example.com")],
        "a.jsonl",
    )
    levels_recompute()
    ingest(tmp_path, [event(3, "a", "reply", email="a@example.com"), event(4, "b", "reply", quantity=400)], "b.jsonl")
    Level.objects.filter(name="General Contributor").update(min_score=60)
    Notification.objects.all().delete()
    result = levels_recompute(full=True, reason="rules", is_rule_change=True)
    history = LevelChange.objects.filter(run_id=result.run_id)
    expected = history.aggregate(
        changed=Count("pk"),
        raised=Count("pk", filter=Q(from_level__isnull=False, to_level__rank__gt=F("from_level__rank"))),
        lowered=Count("pk", filter=Q(from_level__isnull=False, to_level__rank__lt=F("from_level__rank"))),
    )
    assert (result.changed, result.raised, result.lowered) == (
        expected["changed"],
        expected["raised"],
        expected["lowered"],
    )
    assert (result.changed, result.raised, result.lowered) == (3, 1, 1)
    first = history.get(from_level__isnull=True)
    assert first.member.external_id == "a"
    notified = sorted(Notification.objects.values_list("user__email", "kind", "title"))
    raised = history.get(member__external_id="b").to_level.name
    lowered = history.get(member__external_id="c").to_level.name
    assert [(email, kind) for email, kind, _title in notified] == [
        (users["b"].email, "community.level_up"),
        (users["c"].email, "community.level_changed"),
    ]
    assert raised in notified[0][2] and lowered in notified[1][2]
