"""The dashboard's progress pictures: the bar's SVG geometry and the Chart.js series (pure: they read
a `MemberYear` and query nothing)."""

from collections import defaultdict
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from contributions import rules, selectors
from contributions.models import Contribution

# The bar's geometry is in a 0..100 viewBox; the SVG stretches it to the card's width.
BAR_WIDTH = 100


def bar_geometry(*, standing: selectors.MemberYear) -> dict:
    """Widths (0..100) of the verified and pending parts, and where the pace and target marks sit."""
    target = standing.target_points
    scale = max(target, standing.verified + standing.pending, 1)

    def at(points: float) -> float:
        return round(BAR_WIDTH * points / scale, 2)

    return {
        "verified": at(standing.verified),
        "pending_x": at(standing.verified),
        "pending": at(standing.pending),
        "pace": at(standing.pace_points),
        "target": at(target),
        "percent": min(100, round(100 * standing.verified / target)) if target else 100,
    }


def _months(start: date, end: date) -> list[date]:
    months = []
    current = date(start.year, start.month, 1)
    while current < end:
        months.append(current)
        current = date(current.year + (current.month // 12), current.month % 12 + 1, 1)
    return months


def chart_data(*, standing: selectors.MemberYear) -> dict:
    """Cumulative verified and verified+pending points per month (caps applied), with the pace line."""
    program_year = standing.program_year
    # From the month the member qualified: months before it are not theirs to show.
    months = _months(max(program_year.opens_on, standing.start), program_year.deadline)
    per_type, caps = _points_by_type_and_month(standing)
    this_month = date(standing.today.year, standing.today.month, 1)
    verified_series: list[int | None] = []  # None: a month still to come
    total_series: list[int | None] = []
    running = {pk: [0, 0] for pk in per_type}
    for month in months:
        verified_sum = pending_sum = 0
        for pk, by_month in per_type.items():
            running[pk][0] += by_month.get(month, [0, 0])[0]
            running[pk][1] += by_month.get(month, [0, 0])[1]
            verified, _excess = rules.capped(running[pk][0], caps.get(pk))
            cap = caps.get(pk)
            pending = running[pk][1] if cap is None else min(running[pk][1], cap - verified)
            verified_sum += verified
            pending_sum += pending
        if month <= this_month:
            verified_series.append(verified_sum)
            total_series.append(verified_sum + pending_sum)
        else:
            verified_series.append(None)
            total_series.append(None)
    target = standing.target_points
    pace = _pace_series(months=months, target=target, start=standing.start, deadline=program_year.deadline)
    return {
        "labels": [date_format(m, "M Y") for m in months],
        "verified": verified_series,
        "total": total_series,
        "pace": pace,
        "target": target,
        "names": {
            "verified": _("Verified"),
            "total": _("Verified + pending"),
            "pace": _("Pace"),
            "target": _("Target"),
        },
    }


def _points_by_type_and_month(
    standing: selectors.MemberYear,
) -> tuple[dict[int, dict[date, list[int]]], dict[int, int | None]]:
    """[verified, pending] points per activity type and month, and each type's annual cap."""
    per_type: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    caps: dict[int, int | None] = {}
    types = {t.activity_type.pk: t.activity_type for t in standing.type_totals}
    for row in standing.monthly.get("rows", []):
        activity_type = types.get(row["activity_type_id"])
        if activity_type is None:
            continue
        caps[activity_type.pk] = activity_type.annual_cap
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        bucket = per_type[activity_type.pk][month]
        if row["state"] == Contribution.State.VERIFIED:
            bucket[0] += row["awarded"] or 0
        else:
            bucket[1] += row["claimed"] or 0
    return per_type, caps


def _pace_series(*, months: list[date], target: int, start: date, deadline: date) -> list[int]:
    """The points the pace line expects by the end of each month shown."""
    pace = []
    for index in range(len(months)):
        month_end = months[index + 1] if index + 1 < len(months) else deadline
        share = rules.elapsed_share(today=month_end, start=start, deadline=deadline)
        pace.append(round(target * share))
    return pace
