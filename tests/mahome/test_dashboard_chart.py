"""What the dashboard hands Chart.js (the JSON in #points-chart-data): one point per month, labelled by
the month's name, each series saying where things stand at the end of that month."""

import json
import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from contributions import rules
from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory, ProgramYearFactory

pytestmark = pytest.mark.django_db


def _chart(client, member, *, on: datetime) -> dict:
    with time_machine.travel(on, tick=False):
        client.force_login(member)
        html = client.get("/").content.decode()
    data = re.search(r'<script id="points-chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert data is not None
    return json.loads(data.group(1))


def test_each_month_point_is_the_end_of_that_month_for_the_pace_and_the_members_points(client, member):
    """A walk of the demo reported the pace line's points as labelled by the month's first day ("1 Jan"
    for the points due by the end of January). A month's point carries the month's name, and both lines
    say where things stand at its end: the points dated in it count, and the pace is what is due once
    its last day is over (computed at the first day after it, the exclusive bound `elapsed_share` takes)."""
    year = ProgramYearFactory(year=2026, target_points=400)
    talk = ActivityTypeFactory(program_year=year, points=100)
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    for day in (date(2026, 1, 31), date(2026, 2, 1)):
        ContributionFactory(member=member, activity_type=talk, state="verified", awarded_points=100, occurred_on=day)

    chart = _chart(client, member, on=datetime(2026, 3, 10, 9, tzinfo=UTC))

    months = [date(2026, month, 1) for month in range(1, 13)]
    assert chart["labels"] == [m.strftime("%b %Y") for m in months]
    assert chart["verified"][:3] == [100, 200, 200] and chart["verified"][3:] == [None] * 9
    ends = [*months[1:], year.deadline]  # each month's end: the first day after it
    assert chart["pace"] == [
        round(400 * rules.elapsed_share(today=end, start=year.opens_on, deadline=year.deadline)) for end in ends
    ]
    assert chart["pace"][0] == round(400 * 31 / 365) and chart["pace"][-1] == chart["target"] == 400


def test_a_months_pace_point_is_the_pace_today_once_the_month_is_over(client, member):
    """The bar's "pace today" on 1 February (January over) is the chart's January point."""
    year = ProgramYearFactory(year=2026, target_points=400)
    ActivityTypeFactory(program_year=year, points=100)
    MACertificationFactory(user=member, qualified_on=date(2026, 7, 15))
    chart = _chart(client, member, on=datetime(2026, 9, 1, 9, tzinfo=UTC))
    assert chart["labels"][0] == "Jul 2026" and len(chart["labels"]) == 6
    with time_machine.travel(datetime(2026, 8, 1, 9, tzinfo=UTC), tick=False):
        client.force_login(member)
        standing = client.get("/").context["maintenance"]["standing"]
    assert standing.pace_points == chart["pace"][0]
