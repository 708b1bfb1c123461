"""The community credit upsert names its columns through the model: the named row's fields and the
constants generate the column list, and this test compares them with `Contribution`'s table, so a
renamed, reordered or new required field fails here rather than writing the wrong columns."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import NOT_PROVIDED

from contributions import services
from contributions.models import ActivityType, Contribution
from tests.factories import ActivityTypeFactory, ProgramYearFactory, UserFactory


def test_every_column_the_upsert_writes_is_a_field_of_the_model():
    named = services.community_credit_columns()
    model_columns = {f.column for f in Contribution._meta.concrete_fields}
    assert set(named) <= model_columns
    assert len(named) == len(set(named))
    assert [Contribution._meta.get_field(name).column for name in services.CommunityCredit._fields] == named[
        : len(services.CommunityCredit._fields)
    ]


def test_the_upsert_writes_every_required_column():
    """A NOT NULL column with no default that the upsert left out would fail every recompute."""
    required = {
        f.column
        for f in Contribution._meta.concrete_fields
        if not f.primary_key and not f.null and f.default is NOT_PROVIDED and f.db_default is NOT_PROVIDED
    }
    assert required <= set(services.community_credit_columns())


@pytest.mark.django_db
def test_each_value_lands_in_its_column():
    year = ProgramYearFactory(year=2026)
    replies = ActivityTypeFactory(
        program_year=year, code="replies", points=2, annual_cap=50, tracking=ActivityType.Tracking.COMMUNITY
    )
    member = UserFactory()
    written = services.contributions_sync_community(
        program_year=year, counts=[(member.pk, "replies", 30)], occurred_on=date(2026, 6, 1)
    )
    assert written == 1
    credit = Contribution.objects.get(member=member)
    assert (credit.activity_type, credit.program_year, credit.quantity) == (replies, year, Decimal(30))
    assert (credit.claimed_points, credit.awarded_points) == (50, 50)
    assert (credit.state, credit.source, credit.source_key) == (
        "verified",
        "community",
        f"community:2026:replies:{member.pk}",
    )
    assert credit.title.startswith(f"{replies.name}: 30 in the community")
    assert credit.history.get().history_type == "+"


def test_the_rows_are_the_counts_credited_at_the_types_points_within_the_annual_cap():
    """The pure part of the recount: no database, just the catalogue (by code) and the counts."""
    replies = ActivityType(pk=7, code="replies", name="Forum replies", points=2, annual_cap=50)
    answers = ActivityType(pk=8, code="answers", name="Accepted answers", points=5, annual_cap=None)
    rows = services.community_credit_rows(
        year=2026,
        types={"replies": replies, "answers": answers},
        counts=[(1, "replies", 30), (1, "answers", 3), (2, "replies", 10), (2, "unknown", 9), (3, "answers", 0)],
    )
    assert [(r.member, r.activity_type, r.quantity, r.claimed_points, r.awarded_points) for r in rows] == [
        (1, 7, Decimal(30), 50, 50),  # 60 points for 30 replies, capped at 50
        (1, 8, Decimal(3), 15, 15),
        (2, 7, Decimal(10), 20, 20),
    ]  # a code outside the catalogue and a count of zero earn nothing
    assert [r.source_key for r in rows] == [
        "community:2026:replies:1",
        "community:2026:answers:1",
        "community:2026:replies:2",
    ]
    assert rows[0].title == "Forum replies: 30 in the community (2026)"


@pytest.mark.django_db
def test_the_upsert_credits_what_the_python_rule_says_and_writes_each_credit_once():
    """On PostgreSQL the credits are computed in the upsert's SQL; they are `community_credit_rows`' (the rule
    the SQLite run applies), and counts that did not change write nothing the second time."""
    year = ProgramYearFactory(year=2026)
    community = ActivityType.Tracking.COMMUNITY
    ActivityTypeFactory(program_year=year, code="replies", name="R" * 195, points=2, annual_cap=50, tracking=community)
    ActivityTypeFactory(program_year=year, code="answers", points=5, annual_cap=None, tracking=community)
    ActivityTypeFactory(program_year=year, code="retired", points=3, tracking=community, is_active=False)
    ActivityTypeFactory(program_year=year, code="manual", points=3)
    ActivityTypeFactory(program_year=ProgramYearFactory(year=2025), code="old", points=3, tracking=community)
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    counts = [
        (a.pk, "replies", 30),  # 60 points, capped at 50
        (a.pk, "answers", 3),
        (b.pk, "replies", 10),
        (b.pk, "unknown", 9),
        (c.pk, "answers", 0),
        (c.pk, "retired", 4),
        (c.pk, "manual", 4),
        (c.pk, "old", 4),
        (c.pk, "replies", 25),
    ]
    written = services.contributions_sync_community(program_year=year, counts=counts, occurred_on=date(2026, 6, 1))
    types = {t.code: t for t in ActivityType.objects.filter(program_year=year, tracking=community, is_active=True)}
    expected = services.community_credit_rows(year=2026, types=types, counts=counts)
    stored = [
        services.CommunityCredit(
            member=credit.member_id,
            activity_type=credit.activity_type_id,
            title=credit.title,
            quantity=credit.quantity,
            claimed_points=credit.claimed_points,
            awarded_points=credit.awarded_points,
            source_key=credit.source_key,
        )
        for credit in Contribution.objects.filter(source="community")
    ]
    assert written == len(expected) == 4
    assert sorted(stored) == sorted(expected)
    assert len(expected[0].title) == 200
    history = Contribution.history.count()
    assert services.contributions_sync_community(program_year=year, counts=counts, occurred_on=date(2026, 6, 2)) == 0
    assert Contribution.history.count() == history
    # A changed count writes that credit alone.
    counts[2] = (b.pk, "replies", 11)
    assert services.contributions_sync_community(program_year=year, counts=counts, occurred_on=date(2026, 6, 2)) == 1
    assert Contribution.objects.get(member=b).awarded_points == 22
