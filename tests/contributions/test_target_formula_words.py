"""The target's formula reads the same to the member (dashboard) and to the program team (the year's report
and its export): in the third person, never "you". The walk read the report's CSV: target_reason "you were
certified before the program year began", "(you qualified in October 2026)", about someone else."""

from datetime import date

from contributions import rules

YEAR = {"base": 400, "opens_on": date(2026, 1, 1), "deadline": date(2027, 1, 1)}


def test_the_full_target_says_who_without_you():
    formula = rules.prorated_target(method=rules.MONTHLY, qualified_on=date(2024, 3, 10), **YEAR).formula
    assert formula == "400 points: certified before the program year began."


def test_the_monthly_share_says_when_without_you():
    formula = rules.prorated_target(method=rules.MONTHLY, qualified_on=date(2026, 10, 5), **YEAR).formula
    assert formula == "ceil(400 × 3 months remaining ÷ 12) = 100 points (qualified in October 2026)."


def test_the_daily_share_says_when_without_you():
    formula = rules.prorated_target(method=rules.DAILY, qualified_on=date(2026, 12, 1), **YEAR).formula
    assert formula.endswith("(qualified on 1 Dec 2026).") and "you" not in formula  # the site's date format
