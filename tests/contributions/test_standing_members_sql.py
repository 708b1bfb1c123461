"""The standing's SQL of the year's MAs is compiled once per state of the year and search, and is always the one
the year as it is now builds: a changed deadline or year is a new SQL, and who is counted follows it."""

from datetime import date

import pytest

from contributions import standing
from contributions.models import ProgramYear, ReviewOutcome
from tests.factories import MACertificationFactory, ProgramYearFactory

pytestmark = pytest.mark.django_db


def _ids(program_year) -> set[int]:
    from django.db import connection

    sql, params = standing.standing_rows(program_year=program_year, today=date(2026, 6, 1))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM ({sql}) s", params)
        return {row[0] for row in cursor.fetchall()}


def test_members_follow_the_year_as_it_is_now():
    year = ProgramYearFactory(year=2026)
    earlier = ProgramYearFactory(year=2025)
    old_hand = MACertificationFactory(qualified_on=date(2025, 6, 1)).user
    newcomer = MACertificationFactory(qualified_on=date(2026, 9, 1)).user
    lapsed = MACertificationFactory(qualified_on=date(2024, 6, 1)).user
    ReviewOutcome.objects.create(
        member=lapsed, program_year=earlier, outcome="lapsed", target_points=400, verified_points=0
    )
    assert _ids(year) == {old_hand.pk, newcomer.pk}
    assert _ids(year) == {old_hand.pk, newcomer.pk}  # the compiled SQL again, same answer
    year.deadline = date(2026, 8, 1)  # the newcomer qualified after this deadline
    assert _ids(year) == {old_hand.pk}
    ProgramYear.objects.filter(pk=year.pk).update(deadline=date(2026, 8, 1))
    year.refresh_from_db()
    assert _ids(year) == {old_hand.pk}
    searched, _ = standing.standing_rows(program_year=year, today=date(2026, 6, 1), search="zz")
    assert searched != standing.standing_rows(program_year=year, today=date(2026, 6, 1))[0]
