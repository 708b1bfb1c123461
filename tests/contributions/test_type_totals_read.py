"""`member_years` reads each member's points per activity type in one grouped query; a page of the year
report (100 members, ~2,000 contributions) reads them without the ORM (issue 16). The totals it finds
must be those of the month-by-month read (the dashboard's, through the ORM) for every state, with and
without awarded points, past a cap, for a type that counts no points (a requirement report), and with
contributions of another year and of members not asked for."""

import random
from datetime import date

import pytest

from contributions import selectors
from contributions.models import ActivityType
from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory, ProgramYearFactory

pytestmark = pytest.mark.django_db

STATES = ["draft", "submitted", "needs_info", "verified", "verified", "rejected", "withdrawn"]


def _totals(rows) -> dict:
    return {
        row.member.pk: [
            (t.activity_type.pk, t.verified_raw, t.pending_raw, t.needs_info_raw, t.verified, t.excess, t.pending)
            for t in row.type_totals
        ]
        + [(row.verified, row.pending, row.excess, row.needs_info)]
        for row in rows
    }


def test_points_by_type_are_those_of_the_month_by_month_read():
    year = ProgramYearFactory(year=2026, target_points=400)
    other_year = ProgramYearFactory(year=2025)
    types = [
        ActivityTypeFactory(program_year=year, code="speaking", points=100),
        ActivityTypeFactory(program_year=year, code="replies", points=2, annual_cap=20),
        ActivityTypeFactory(
            program_year=year, code="blog", points=50, annual_cap=120, category=ActivityType.Category.ENABLEMENT
        ),
        ActivityTypeFactory(program_year=year, code="exam", points=0, tracking=ActivityType.Tracking.REQUIREMENT),
    ]
    earlier = ActivityTypeFactory(program_year=other_year, code="speaking", points=100)
    chance = random.Random(16)
    members = [MACertificationFactory().user for _ in range(12)]
    for member in [*members, MACertificationFactory().user]:  # the last one is not asked for
        for _ in range(chance.randint(0, 12)):
            kind = chance.choice(types)
            state = chance.choice(STATES)
            ContributionFactory(
                member=member,
                activity_type=kind,
                state=state,
                occurred_on=date(2026, chance.randint(1, 12), 1),
                claimed_points=kind.points * chance.randint(1, 3),
                awarded_points=chance.choice([None, kind.points // 2]) if state == "verified" else None,
            )
        ContributionFactory(member=member, activity_type=earlier, state="verified", awarded_points=77)
    by_type = selectors.member_years(program_year=year, members=members, today=date(2026, 6, 1))
    by_month = selectors.member_years(program_year=year, members=members, today=date(2026, 6, 1), by_month=True)
    assert _totals(by_type) == _totals(by_month)
    counted = [t for totals in _totals(by_type).values() for t in totals[:-1]]
    assert any(t[5] for t in counted)  # some excess over a cap
    assert any(t[3] for t in counted)  # some points waiting on the member's answer
    assert types[3].pk not in {t[0] for t in counted}  # a requirement report counts no points
