from datetime import date

import pytest

from contributions import rules


@pytest.mark.parametrize(
    ("qualified_on", "target"),
    [
        (date(2020, 11, 3), 400),
        (date(2021, 1, 15), 400),
        (date(2021, 7, 1), 200),
        (date(2021, 7, 31), 200),
        (date(2021, 10, 20), 100),
        (date(2021, 12, 1), 34),
    ],
)
def test_monthly_prorating_matches_the_spec_table(qualified_on, target):
    result = rules.prorated_target(
        base=400, method="monthly", qualified_on=qualified_on, opens_on=date(2021, 1, 1), deadline=date(2022, 1, 1)
    )
    assert result.points == target
    assert str(target) in result.formula


def test_monthly_formula_is_explained():
    result = rules.prorated_target(
        base=400, method="monthly", qualified_on=date(2021, 7, 1), opens_on=date(2021, 1, 1), deadline=date(2022, 1, 1)
    )
    assert result.formula.startswith("ceil(400 × 6 months remaining ÷ 12) = 200 points")
    assert not result.full


@pytest.mark.parametrize(
    ("year", "qualified_on", "target", "days", "days_in_year"),
    [
        # Leap year: 2024 has 366 days; 29 February counts as its own day.
        (2024, date(2024, 2, 29), 336, 307, 366),  # ceil(400 × 307 / 366) = ceil(335.52)
        (2024, date(2024, 12, 31), 2, 1, 366),  # ceil(400 × 1 / 366) = ceil(1.09)
        (2024, date(2024, 1, 1), 400, 366, 366),  # qualified on the first day: the whole year
        (2021, date(2021, 3, 1), 336, 306, 365),  # ceil(400 × 306 / 365) = ceil(335.34)
    ],
)
def test_daily_prorating_counts_the_qualification_day_and_leap_years(year, qualified_on, target, days, days_in_year):
    result = rules.prorated_target(
        base=400, method="daily", qualified_on=qualified_on, opens_on=date(year, 1, 1), deadline=date(year + 1, 1, 1)
    )
    assert result.points == target
    assert f"{days} days remaining ÷ {days_in_year} days" in result.formula


def test_daily_and_monthly_differ_within_a_month():
    daily = rules.prorated_target(
        base=400, method="daily", qualified_on=date(2021, 7, 31), opens_on=date(2021, 1, 1), deadline=date(2022, 1, 1)
    )
    # 31 July → 154 days remaining of 365: ceil(168.77) = 169, not the monthly 200.
    assert daily.points == 169


def test_member_without_qualification_date_owes_the_full_target():
    result = rules.prorated_target(
        base=400, method="monthly", qualified_on=None, opens_on=date(2021, 1, 1), deadline=date(2022, 1, 1)
    )
    assert result.points == 400 and result.full


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"verified": 400, "pending": 0, "requirements_met": True}, rules.MET),
        ({"verified": 400, "pending": 0, "requirements_met": False}, rules.ON_TRACK),
        ({"verified": 100, "pending": 100, "requirements_met": True}, rules.ON_TRACK),  # 200 ≥ 400 × 0.5
        ({"verified": 100, "pending": 99, "requirements_met": True}, rules.AT_RISK),
        ({"verified": 500, "pending": 0, "requirements_met": True, "opted_out": True}, rules.OPTED_OUT),
        ({"verified": 500, "pending": 0, "requirements_met": True, "outcome": "lapsed"}, rules.LAPSED),
        ({"verified": 0, "pending": 0, "requirements_met": False, "outcome": "recertified"}, rules.RECERTIFIED),
    ],
)
def test_status_rules(kwargs, status):
    arguments = {"target": 400, "share": 0.5, "opted_out": False, "outcome": None, **kwargs}
    assert rules.status_for(**arguments) == status


def test_elapsed_share_runs_from_start_to_deadline():
    assert rules.elapsed_share(today=date(2021, 1, 1), start=date(2021, 1, 1), deadline=date(2022, 1, 1)) == 0
    assert rules.elapsed_share(today=date(2022, 1, 1), start=date(2021, 1, 1), deadline=date(2022, 1, 1)) == 1
    half = rules.elapsed_share(today=date(2021, 7, 2), start=date(2021, 1, 1), deadline=date(2022, 1, 1))
    assert 0.49 < half < 0.51


def test_caps_keep_the_excess():
    assert rules.capped(120, 100) == (100, 20)
    assert rules.capped(80, 100) == (80, 0)
    assert rules.capped(500, None) == (500, 0)
