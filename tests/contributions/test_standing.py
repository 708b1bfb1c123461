"""The report's SQL standing decides every member's status exactly as the Python rules do."""

import random
from datetime import date, timedelta

import pytest

from contributions import rules, selectors, standing
from contributions.models import OptOut, RequirementStatus, ReviewOutcome, TargetOverride, TechnicalRequirement
from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory, ProgramYearFactory

pytestmark = pytest.mark.django_db


def _sql_column(program_year, today, column, **filters) -> dict:
    from django.db import connection

    sql, params = standing.standing_rows(program_year=program_year, today=today, **filters)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {column} FROM ({sql}) s", params)
        return dict(cursor.fetchall())


def _sql_statuses(program_year, today, **filters) -> dict[int, str]:
    return _sql_column(program_year, today, "status", **filters)


@pytest.mark.parametrize("method", [rules.MONTHLY, rules.DAILY])
def test_sql_standing_agrees_with_the_python_rules_member_by_member(method):
    year = ProgramYearFactory(year=2026, target_points=400, prorating_method=method)
    speaking = ActivityTypeFactory(program_year=year, code="speaking", points=100)
    replies = ActivityTypeFactory(program_year=year, code="replies", points=2, annual_cap=100)
    ActivityTypeFactory(program_year=year, code="blog", points=50, annual_cap=120)
    requirement = TechnicalRequirement.objects.create(
        program_year=year, kind="exam", name="Exam", due_on=date(2026, 6, 30)
    )
    chance = random.Random(16)
    types = list(year.activity_types.all())
    for n in range(60):
        qualified = date(2026, 1, 1) + timedelta(days=chance.randint(-400, 360))
        member = MACertificationFactory(qualified_on=qualified).user
        for _ in range(chance.randint(0, 6)):
            kind = chance.choice(types)
            state = chance.choice(["verified", "verified", "submitted", "needs_info", "draft", "rejected"])
            ContributionFactory(
                member=member,
                activity_type=kind,
                state=state,
                claimed_points=kind.points * chance.randint(1, 3),
                awarded_points=chance.choice([None, kind.points]) if state == "verified" else None,
            )
        if n % 3 == 0:
            RequirementStatus.objects.create(requirement=requirement, member=member, met_on=date(2026, 5, 1))
        if n % 11 == 0:
            TargetOverride.objects.create(member=member, program_year=year, target_points=50, reason="Leave")
        if n % 13 == 0:
            OptOut.objects.create(member=member, program_year=year, reason="Sabbatical")
        if n % 17 == 1:
            ReviewOutcome.objects.create(
                member=member, program_year=year, outcome="recertified", target_points=400, verified_points=400
            )
    assert speaking.pk and replies.pk
    for today in (date(2026, 1, 1), date(2026, 3, 17), date(2026, 9, 30), date(2027, 1, 1)):
        rows = selectors.program_year_report(program_year=year, today=today)
        python = {row.member.pk: row.status for row in rows}
        assert _sql_statuses(year, today) == python
        assert len(set(python.values())) >= 3
        # the opted-out column (the report's filter) too, members with several records of the year included
        assert _sql_column(year, today, "opted_out") == {row.member.pk: row.opt_out is not None for row in rows}
    met = {pk for pk, status in _sql_statuses(year, date(2026, 9, 30), status=rules.MET).items()}
    assert met == {pk for pk, s in _sql_statuses(year, date(2026, 9, 30)).items() if s == rules.MET}
