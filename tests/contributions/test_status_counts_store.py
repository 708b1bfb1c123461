"""The year's status counts are stored and served again only while nothing they read has changed.

`contributions.standing` keeps the counts of the last computation under a fingerprint of the standing's SQL
(today included) and the standing version, which triggers bump on every committed write of a table the
standing reads. Each kind of write below must change the next answer at once (it equals the standing
computed afresh); writes that change nothing the standing reads (a sign-in, a rename, a title) leave the
stored counts in use. The store works outside transactions only, so these tests commit (`transaction=True`).
"""

import re
from datetime import date

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import MACertification, User
from contributions import rules, selectors, standing
from contributions.models import (
    ActivityType,
    Contribution,
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    StandingChange,
    TargetOverride,
    TechnicalRequirement,
)
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    UserFactory,
)
from tests.helpers import held_open

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2026, 6, 1)  # 151 of 365 days: the pace line of a 400 target is at ~166 points
QUALIFIED = date(2025, 6, 1)


class World:
    """Three MAs of 2026: Alice on track (200 verified), Bob at risk (nothing), Carol met (400 verified)."""

    def __init__(self):
        self.year = ProgramYearFactory(year=2026, target_points=400)
        self.speaking = ActivityTypeFactory(program_year=self.year, code="speaking", points=100)
        self.alice, self.bob, self.carol = (
            MACertificationFactory(qualified_on=QUALIFIED, user__last_name=name).user
            for name in ("Alice", "Bob", "Carol")
        )
        ContributionFactory(member=self.alice, activity_type=self.speaking, state="verified", awarded_points=200)
        ContributionFactory(member=self.carol, activity_type=self.speaking, state="verified", awarded_points=400)
        self.requirement: TechnicalRequirement | None = None
        self.override: TargetOverride | None = None

    def add_requirement(self):
        self.requirement = TechnicalRequirement.objects.create(
            program_year=self.year, kind="exam", name="Exam", due_on=date(2026, 6, 30)
        )

    def add_override(self):
        self.override = TargetOverride.objects.create(
            member=self.alice, program_year=self.year, target_points=200, reason="Leave"
        )


def _counts(world) -> dict[str, int]:
    return selectors.program_year_status_counts(program_year=world.year, today=TODAY)


def _fresh(world) -> dict[str, int]:
    sql, params = standing.standing_rows(program_year=world.year, today=TODAY)
    return standing.status_counts(sql=sql, params=params)


def _served_from_the_store(world) -> dict[str, int]:
    """The counts, asserting they came from the store: one query, the version and the stored row."""
    with CaptureQueriesContext(connection) as queries:
        counts = _counts(world)
    assert len(queries.captured_queries) == 1, [q["sql"][:80] for q in queries.captured_queries]
    return counts


def _earlier_lapse(world):
    earlier = ProgramYearFactory(year=2025)
    ReviewOutcome.objects.create(
        member=world.bob, program_year=earlier, outcome=rules.LAPSED, target_points=400, verified_points=0
    )


# Each: what to set up before the counts are stored (or None), and the write that must change them.
WRITES = {
    "contribution added": (
        None,
        lambda w: ContributionFactory(member=w.bob, activity_type=w.speaking, state="verified", awarded_points=200),
    ),
    "contribution decided": (None, lambda w: Contribution.objects.filter(member=w.alice).update(state="rejected")),
    "contribution deleted": (None, lambda w: Contribution.objects.filter(member=w.carol).delete()),
    "activity type capped": (None, lambda w: ActivityType.objects.filter(pk=w.speaking.pk).update(annual_cap=100)),
    "override added": (None, World.add_override),
    "override changed": (
        World.add_override,
        lambda w: TargetOverride.objects.filter(pk=w.override.pk).update(target_points=400),
    ),
    "override removed": (World.add_override, lambda w: TargetOverride.objects.filter(pk=w.override.pk).delete()),
    "opt-out added": (None, lambda w: OptOut.objects.create(member=w.bob, program_year=w.year, reason="Sabbatical")),
    "opt-out removed": (
        lambda w: OptOut.objects.create(member=w.bob, program_year=w.year, reason="Sabbatical"),
        lambda w: OptOut.objects.filter(member=w.bob).delete(),
    ),
    "outcome of the year": (
        None,
        lambda w: ReviewOutcome.objects.create(
            member=w.bob, program_year=w.year, outcome=rules.LAPSED, target_points=400, verified_points=0
        ),
    ),
    "outcome of an earlier year": (None, _earlier_lapse),
    "requirement added": (None, World.add_requirement),
    "requirement moved": (
        World.add_requirement,
        lambda w: TechnicalRequirement.objects.filter(pk=w.requirement.pk).update(due_on=date(2025, 3, 1)),
    ),
    "requirement met": (
        World.add_requirement,
        lambda w: RequirementStatus.objects.create(requirement=w.requirement, member=w.carol, met_on=date(2026, 5, 1)),
    ),
    "certification added": (
        None,
        lambda w: MACertification.objects.create(
            user=UserFactory(), certificate_number="MA-NEW", qualified_on=QUALIFIED
        ),
    ),
    "certification's date changed": (
        None,
        lambda w: MACertification.objects.filter(user=w.bob).update(qualified_on=date(2026, 5, 20)),
    ),
    "certification removed": (None, lambda w: MACertification.objects.filter(user=w.bob).delete()),
    "member deactivated": (None, lambda w: User.objects.filter(pk=w.bob.pk).update(is_active=False)),
    "member deleted": (None, lambda w: User.objects.get(pk=w.bob.pk).delete()),
    "program year's target changed": (None, lambda w: _year_changed(w, target_points=200)),
    "earlier year's deadline moved": (
        _earlier_lapse,  # Bob's certification ended in 2025's review, before 2026 ...
        lambda w: ProgramYear.objects.filter(year=2025).update(deadline=date(2025, 5, 1)),  # ... or before he qualified
    ),
}


def _year_changed(world, **fields):
    """The year's own figures come with the year the page reads (and are in the fingerprint)."""
    ProgramYear.objects.filter(pk=world.year.pk).update(**fields)
    world.year.refresh_from_db()


@pytest.mark.parametrize("kind", list(WRITES))
def test_every_kind_of_write_changes_the_next_counts(kind):
    world = World()
    prepare, write = WRITES[kind]
    if prepare is not None:
        prepare(world)
    before = _counts(world)
    assert before == _fresh(world)
    assert _served_from_the_store(world) == before
    rows = _rows(world)
    assert rows == _fresh_rows(world)
    assert _rows_served_again(world) == rows
    write(world)
    after = _counts(world)
    assert after == _fresh(world)
    assert after != before  # each write above changes some member's status
    assert _rows(world) == _fresh_rows(world)


def _page(world):
    return selectors.program_year_report_page(program_year=world.year, number=1, per_page=100, today=TODAY)


def _rows(world) -> list[tuple]:
    """What the report's rows show of each member (`report_rows.py`), in the page's order."""
    return [
        (
            row.member.pk,
            row.member.email,
            row.member.get_full_name(),
            row.target_points,
            row.override is not None,
            row.verified,
            row.excess,
            row.pending,
            row.status,
            [(r.requirement.name, r.met_on) for r in row.requirements],
            row.opt_out is not None,
        )
        for row in _page(world).page.object_list
    ]


def _fresh_rows(world) -> list[tuple]:
    with transaction.atomic():  # inside a transaction nothing is stored or served: computed afresh
        return _rows(world)


def _rows_served_again(world) -> list[tuple]:
    """The page's rows, asserting they came from the process's pages: the stored counts' query alone."""
    with CaptureQueriesContext(connection) as queries:
        rows = _rows(world)
    assert len(queries.captured_queries) == 1, [q["sql"][:80] for q in queries.captured_queries]
    return rows


# Writes that change what a row shows without changing any status.
ROW_WRITES = {
    "member renamed": lambda w: _renamed(w.alice),
    "email changed": lambda w: User.objects.filter(pk=w.bob.pk).update(email="robert@example.com"),
    "last name changed (the page's order)": lambda w: User.objects.filter(pk=w.alice.pk).update(last_name="Zed"),
    "requirement renamed": lambda w: TechnicalRequirement.objects.filter(pk=w.requirement.pk).update(name="Quiz"),
    "points moved between types": lambda w: Contribution.objects.filter(member=w.alice).update(
        activity_type=ActivityTypeFactory(program_year=w.year, code="blog", points=50, annual_cap=150)
    ),
    "activity type's tracking changed": lambda w: ActivityType.objects.filter(pk=w.speaking.pk).update(
        tracking=ActivityType.Tracking.REQUIREMENT
    ),
}


@pytest.mark.parametrize("kind", list(ROW_WRITES))
def test_writes_that_change_a_row_but_no_status_change_the_next_rows(kind):
    world = World()
    world.add_requirement()
    rows = _rows(world)
    assert _rows_served_again(world) == rows
    ROW_WRITES[kind](world)
    after = _rows(world)
    assert after == _fresh_rows(world)
    assert after != rows


@pytest.mark.parametrize(
    "write",
    [
        lambda w: User.objects.filter(pk=w.alice.pk).update(last_login=timezone.now()),  # a sign-in
        lambda w: UserFactory(),  # a new user without a certification: a statement, but no MA
        lambda w: _saved(w.alice),  # a full save() of the user, nothing changed
        lambda w: Contribution.objects.filter(member=w.alice).update(title="Renamed"),  # no counted column
    ],
    ids=["sign-in", "new user", "save", "title"],
)
def test_writes_that_change_nothing_shown_keep_the_stored_counts_and_rows(write):
    world = World()
    before = _counts(world)
    rows = _rows(world)
    write(world)
    assert _served_from_the_store(world) == before
    assert _rows_served_again(world) == rows


def _saved(user):
    user.refresh_from_db()
    user.save()


def _renamed(user):
    user.first_name = "Renamed"
    user.save()


def test_another_day_is_computed_for_that_day():
    world = World()
    assert _counts(world)[rules.ON_TRACK] == 1  # Alice, 200 of the ~166 the pace asks on 1 June
    autumn = selectors.program_year_status_counts(program_year=world.year, today=date(2026, 10, 1))
    sql, params = standing.standing_rows(program_year=world.year, today=date(2026, 10, 1))
    assert autumn == standing.status_counts(sql=sql, params=params)
    assert autumn.get(rules.ON_TRACK, 0) == 0  # by October the pace asks ~300


def test_a_transaction_counts_its_own_writes_and_stores_nothing_it_rolls_back():
    world = World()
    before = _counts(world)

    class Undone(Exception):
        pass

    with pytest.raises(Undone), transaction.atomic():
        OptOut.objects.create(member=world.bob, program_year=world.year, reason="Sabbatical")
        inside = _counts(world)
        assert inside == _fresh(world) and inside != before
        raise Undone
    assert _counts(world) == before == _fresh(world)


def test_counts_stored_while_a_write_is_uncommitted_are_not_served_after_its_commit():
    """A reader stores the counts without a concurrent writer's uncommitted opt-out; once the writer commits,
    the version it bumped no longer matches the stored one and the next reader counts the opt-out."""
    world = World()
    with held_open(lambda: OptOut.objects.create(member=world.bob, program_year=world.year, reason="Sabbatical")):
        during = _counts(world)  # does not wait for the writer, and does not see its opt-out
        assert during.get(rules.OPTED_OUT, 0) == 0
        assert _served_from_the_store(world) == during
    after = _counts(world)
    assert after[rules.OPTED_OUT] == 1 and after == _fresh(world)


def test_every_table_the_standing_reads_bumps_the_version():
    """The standing's SQL names its tables through the models; each one it reads has the version's trigger.
    A new input of the standing (a table joined in `certified_in`, say) fails here until it has one."""
    world = World()
    sql, _ = standing.standing_rows(program_year=world.year, today=TODAY)
    tables = {model._meta.db_table for model in apps.get_models()}
    read = {table for table in tables if re.search(rf'(?<![\w"]){table}(?![\w"])|"{table}"', sql)}
    assert {"accounts_user", "accounts_macertification", "contributions_standingtotals"} <= read
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT t.tgrelid::regclass::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE p.proname = %s",
            [standing.VERSION_FUNCTION],
        )
        bumped = {row[0] for row in cursor.fetchall()}
    assert read <= bumped, read - bumped


def test_every_table_the_report_rows_read_bumps_the_version():
    """The page's rows are kept by the version too: each table their queries read has the trigger, except
    the contributions, read through the points by type, which change only with a counted column, which
    the standing totals' refresh follows (its statements bump; the writes above check it)."""
    world = World()
    world.add_requirement()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        _rows(world)
    tables = {model._meta.db_table for model in apps.get_models()}
    sql = "\n".join(query["sql"] for query in queries.captured_queries)
    read = {table for table in tables if re.search(rf'(?<![\w"]){table}(?![\w"])|"{table}"', sql)}
    assert {"accounts_user", "contributions_activitytype", "contributions_requirementstatus"} <= read
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT t.tgrelid::regclass::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE p.proname = %s",
            [standing.VERSION_FUNCTION],
        )
        bumped = {row[0] for row in cursor.fetchall()}
    assert read - bumped == {"contributions_contribution"}, read - bumped


def test_the_report_page_reads_its_stored_counts_in_one_query_at_any_number_of_mas(client, program_admin):
    """The page in autocommit, as served: after a write the first view counts again and stores (the count,
    the store and its clean-up: 3 queries more than the 14 of the page in a transaction, for a program
    admin); the next ones read the stored counts in one query and reuse the rows computed at the same
    version (the page's members and their 4 standing queries saved: 9). 4 MAs or 24, the same queries
    (the admin's home, visited first, stores the same counts: a write comes before each pass)."""
    from tests.helpers import with_mfa

    world = World()
    client.force_login(with_mfa(program_admin))
    client.get("/admin/")  # the session's first request records it
    url = f"/admin/contributions/programyear/{world.year.pk}/report/"
    counted = []
    added = 0
    for more in (1, 20):
        added += more
        for _ in range(more):
            MACertificationFactory(qualified_on=QUALIFIED)
        views = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200
            views.append(len(captured.captured_queries))
        assert sum(response.context["chart"]["counts"]) == 3 + added
        counted.append(views)
    assert counted[0] == counted[1] == [17, 9], counted


def test_folding_the_changes_keeps_the_version_and_the_stored_counts(monkeypatch):
    """The changes counted row by row are moved into the version's slot 0 once they pile up: the version is
    the same before and after, so the stored counts stay in use, and the next write still moves it."""
    world = World()
    monkeypatch.setattr(standing, "CHANGES_UNFOLDED", 0)
    OptOut.objects.create(member=world.bob, program_year=world.year, reason="Sabbatical")  # a change to count
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {standing._version_sql()}")
        version = cursor.fetchone()[0]
    before = _counts(world)  # counts, stores, and folds
    assert not StandingChange.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {standing._version_sql()}")
        assert cursor.fetchone()[0] == version
    assert _served_from_the_store(world) == before
    OptOut.objects.filter(member=world.bob).delete()
    assert _counts(world) == _fresh(world) != before


def test_a_writer_does_not_wait_for_another_writers_version_change():
    """Two transactions that each change an input of the standing (the version's rows are inserted, none
    updated) do not wait for each other: the second commits while the first is still open."""
    world = World()

    def opt_out():
        OptOut.objects.create(member=world.bob, program_year=world.year, reason="Sabbatical")

    with held_open(opt_out), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        TargetOverride.objects.create(member=world.alice, program_year=world.year, target_points=1, reason="x")
        ContributionFactory(member=world.carol, activity_type=world.speaking, state="verified")
    assert _counts(world) == _fresh(world)
