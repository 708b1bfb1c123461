"""Every metric and every year's count the recompute's SQL sums from the daily totals, against the same
sums in plain Python, for every way a run reads them (one pass over everyone, one pass over the marked
members, member by member)."""

import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from community_levels import recompute
from community_levels.metrics import CONTRIBUTION_CODES, KINDS, METRICS
from community_levels.models import CommunityMember, DailyActivity, PendingRecompute
from community_levels.recompute import levels_recompute, metrics_select_sql
from community_levels.rules import load_rules
from tests.community_levels.helpers import reference_metrics

pytestmark = pytest.mark.django_db

# A kind the ladder knows nothing of (a platform's new event type): a day visited, nothing else.
UNKNOWN_KIND = "poll_vote"
YEAR = (20_010, 20_030)


def _seed(rng: random.Random) -> list[CommunityMember]:
    members = [CommunityMember.objects.create(external_id=f"m{n}", username=f"m{n}") for n in range(12)]
    members[3].is_excluded = True
    members[3].save()
    rows = []
    for member in members[:-1]:  # the last one has no activity at all
        for day in rng.sample(range(20_000, 20_040), rng.randint(1, 14)):
            for kind in rng.sample([*KINDS, UNKNOWN_KIND], rng.randint(1, 4)):
                rows.append(
                    DailyActivity(
                        member=member,
                        day=day,
                        kind=kind,
                        quantity=rng.choice([0, 1, 3, 40, 120]),
                        minutes=rng.randint(0, 90),
                        events=1,
                    )
                )
    # Only likes received on a day: not a day visited.
    rows.append(DailyActivity(member=members[5], day=20_100, kind="like_received", quantity=2, minutes=0, events=1))
    DailyActivity.objects.bulk_create(rows)
    return members


def _expected(cap: int | None) -> dict[int, tuple[dict, list]]:
    """Per member: the metrics (by column) and the year's count of each credited kind (None: none)."""
    per_member: dict[int, list[DailyActivity]] = defaultdict(list)
    for row in DailyActivity.objects.all():
        per_member[row.member_id].append(row)
    expected = {}
    for member in CommunityMember.objects.all():
        rows = [] if member.is_excluded else per_member[member.pk]
        values = reference_metrics(rows, cap)
        counts = []
        for kind in CONTRIBUTION_CODES.values():
            in_year = [r.quantity for r in rows if r.kind == kind and YEAR[0] <= r.day < YEAR[1]]
            counts.append(sum(in_year) if in_year else None)
        expected[member.pk] = ({m.column: values[m.code] for m in METRICS}, counts)
    return expected


@pytest.mark.parametrize("seed", [1, 2])
def test_the_metrics_select_sums_what_python_sums(seed):
    _seed(random.Random(seed))
    rules = load_rules()
    assert rules.caps.get("likes_given")  # the cap is part of what is checked
    expected = _expected(rules.caps.get("likes_given"))
    sql, params = metrics_select_sql(rules, full=True, year=YEAR)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    got = {
        row["mid"]: (
            {m.column: row[m.column] for m in METRICS},
            [row[f"c{n}"] for n in range(len(CONTRIBUTION_CODES))],
        )
        for row in rows
    }
    assert got == expected


@pytest.mark.parametrize("mode", ["full", "one pass over the marked", "member by member"])
def test_every_way_of_reading_the_daily_totals_gives_the_members_the_same_metrics(monkeypatch, mode):
    members = _seed(random.Random(3))
    monkeypatch.setattr(recompute, "PER_MEMBER_UP_TO", 2500 if mode == "member by member" else 0)
    if mode != "full":
        PendingRecompute.objects.bulk_create(PendingRecompute(member=m) for m in members)
    levels_recompute(full=mode == "full")
    expected = _expected(load_rules().caps.get("likes_given"))
    members = CommunityMember.objects.all()
    got = {m.pk: {metric.column: getattr(m, metric.column) for metric in METRICS} for m in members}
    assert got == {pk: values for pk, (values, _counts) in expected.items()}


@pytest.mark.parametrize("weight", [Decimal("0.05"), Decimal("999999.99"), Decimal("12.5"), Decimal("0.333")])
def test_a_score_in_sql_is_the_exact_weighted_sum(weight):
    """Whole hundredths in integers for the weights of two decimals (every stored one), NUMERIC otherwise:
    either way exactly the Decimal sum, up to the largest metric times the largest weight."""
    from dataclasses import replace

    from community_levels.rules import score_sql

    rules = load_rules()
    rules = replace(rules, weights={**rules.weights, "pages_read": weight, "likes_received": weight})
    metrics = [{m.column: n * 7_919 % 1_000 for n, m in enumerate(METRICS)}, {m.column: 2_147_483_647 for m in METRICS}]
    for values in metrics:
        for tier in ("passive", "active"):
            sql, params = score_sql(tier, rules, prefix="v.")
            columns = ", ".join(f"CAST(%s AS INTEGER) AS {column}" for column in values)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {sql} FROM (SELECT {columns}) v", [*params, *values.values()])
                got = cursor.fetchone()[0]
            expected = sum(rules.weights[m.code] * values[m.column] for m in METRICS if m.tier == tier)
            assert got == expected
