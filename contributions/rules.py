"""The program's arithmetic: pro-rated targets, the pace line, caps and a member's status.

Pure functions of plain values, so the dashboard, the report, the reminders and the
year-end review all decide the same way, and the tests can check them row by row.
"""

import calendar
import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.db import models
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from contributions.models import ActivityType, Contribution, ProgramYear, ReviewOutcome

MONTHLY = ProgramYear.ProratingMethod.MONTHLY
DAILY = ProgramYear.ProratingMethod.DAILY

# A member's status in a program year (the spec's table). Once the year is reviewed, the status is
# the review's outcome itself, so those three are the model's choices, not copies of their strings.
MET = "met"
ON_TRACK = "on_track"
AT_RISK = "at_risk"
OPTED_OUT = ReviewOutcome.Outcome.OPTED_OUT
LAPSED = ReviewOutcome.Outcome.LAPSED
RECERTIFIED = ReviewOutcome.Outcome.RECERTIFIED

STATUS_LABELS = {
    MET: gettext_lazy("Met"),
    ON_TRACK: gettext_lazy("On track"),
    AT_RISK: gettext_lazy("At risk"),
    OPTED_OUT: gettext_lazy("Opted out"),
    LAPSED: gettext_lazy("Lapsed"),
    RECERTIFIED: gettext_lazy("Recertified"),
}


class OptedOutFilter(models.TextChoices):
    """The year report's "Opted out" filter (empty: everyone)."""

    YES = "yes", gettext_lazy("Yes")
    NO = "no", gettext_lazy("No")


STATUS_PILLS = {
    MET: "pill-ok",
    RECERTIFIED: "pill-ok",
    ON_TRACK: "pill-info",
    AT_RISK: "pill-warn",
    LAPSED: "pill-danger",
    OPTED_OUT: "pill-muted",
}


# A member certified less than this many days ago is settling in: never "at risk" for the pace
# (they had no time to keep it), and welcomed rather than "welcomed back".
NEW_MEMBER_DAYS = 30


def is_new_member(*, qualified_on: date | None, today: date) -> bool:
    return qualified_on is not None and 0 <= (today - qualified_on).days < NEW_MEMBER_DAYS


def requirement_owed(*, due_on: date, qualified_on: date | None) -> bool:
    """A technical requirement due before the member qualified is not owed that program year.

    They could not have met it as an MA, and the next year's requirements apply in full; the
    program team can still record it as met if the member did it anyway.
    """
    return qualified_on is None or due_on >= qualified_on


def requirement_overdue(*, due_on: date, met: bool, owed: bool, today: date) -> bool:
    """Owed, not met, and its due date has passed (from the day after it)."""
    return owed and not met and today > due_on


class RequirementProgress(models.TextChoices):
    """Where a member stands on one technical requirement of a year (`requirement_progress`)."""

    MET = "met", gettext_lazy("Met")
    NOT_OWED = "not_owed", gettext_lazy("Not owed this year")
    QUESTION = "question", gettext_lazy("Question from the verifier")
    REPORTED = "reported", gettext_lazy("Reported, waiting for verification")
    OPTED_OUT = "opted_out", gettext_lazy("Not needed while opted out")
    OVERDUE = "overdue", gettext_lazy("Overdue")
    TO_DO = "to_do", gettext_lazy("To do")


REQUIREMENT_PILLS = {
    RequirementProgress.MET: "pill-ok",
    RequirementProgress.NOT_OWED: "pill-muted",
    RequirementProgress.QUESTION: "pill-warn",
    RequirementProgress.REPORTED: "pill-info",
    RequirementProgress.OPTED_OUT: "pill-muted",
    RequirementProgress.OVERDUE: "pill-danger",
    RequirementProgress.TO_DO: "pill-warn",
}


def requirement_progress(
    *, met: bool, owed: bool, overdue: bool, open_report_state: str | None, opted_out: bool
) -> RequirementProgress:
    """The one rule for a requirement's state, in order: met, not owed, a report waiting on the member's
    answer or on a verifier (`open_report_state`: the state of the member's open report, None without
    one), opted out, overdue, to do. The member's dashboard and the year report (its page and exports)
    both show it, so they cannot disagree."""
    if met:
        return RequirementProgress.MET
    if not owed:
        return RequirementProgress.NOT_OWED
    if open_report_state == Contribution.State.NEEDS_INFO:
        return RequirementProgress.QUESTION
    if open_report_state is not None:
        return RequirementProgress.REPORTED
    if opted_out:
        return RequirementProgress.OPTED_OUT
    if overdue:
        return RequirementProgress.OVERDUE
    return RequirementProgress.TO_DO


def status_label(status: str) -> str:
    return str(STATUS_LABELS[status])


@dataclass(frozen=True)
class Target:
    points: int
    formula: str  # how the number was produced, shown to the member as is
    full: bool  # the member owes the full target


def prorated_target(*, base: int, method: str, qualified_on: date | None, opens_on: date, deadline: date) -> Target:
    """The target a member owes: full if they qualified before the year began, else their share.

    Monthly: ceil(base × (13 − month) / 12). Daily: ceil(base × days_remaining / days_in_year),
    counting the qualification day.
    """
    if qualified_on is None or qualified_on < opens_on:
        return _full_target(base, get_language())
    if method == DAILY:
        days_in_year = (deadline - opens_on).days
        days_remaining = max(0, (deadline - qualified_on).days)
        points = math.ceil(base * days_remaining / days_in_year)
        formula = _(
            "ceil(%(base)s × %(days)s days remaining ÷ %(total)s days in the year) = %(points)s points "
            "(qualified on %(date)s)."
        ) % {
            "base": base,
            "days": days_remaining,
            "total": days_in_year,
            "points": points,
            "date": date_format(qualified_on),
        }
        return Target(points, formula, False)
    months_remaining = 13 - qualified_on.month
    points = math.ceil(base * months_remaining / 12)
    formula = _(
        "ceil(%(base)s × %(months)s months remaining ÷ 12) = %(points)s points (qualified in %(month)s %(year)s)."
    ) % {
        "base": base,
        "months": months_remaining,
        "points": points,
        "month": _(calendar.month_name[qualified_on.month]),
        "year": qualified_on.year,
    }
    return Target(points, formula, False)


@lru_cache(maxsize=32)
def _full_target(base: int, language: str | None) -> Target:
    """The full target, the same for everyone certified before the year began: made once per base and
    language (its formula is translated), not once per member (~10 µs each: a report page has 100)."""
    formula = _("%(base)s points: certified before the program year began.") % {"base": base}
    return Target(base, formula, True)


def elapsed_share(*, today: date, start: date, deadline: date) -> float:
    """How much of the member's year has passed (0..1); the pace line sits at target × share."""
    total = (deadline - start).days
    if total <= 0 or today >= deadline:
        return 1.0
    if today <= start:
        return 0.0
    return (today - start).days / total


def capped(total: int, cap: int | None) -> tuple[int, int]:
    """(counted, excess) of a type's points for a member's year under its annual cap."""
    if cap is None or total <= cap:
        return total, 0
    return cap, total - cap


def maintained(*, target: int, verified: int, requirements_met: bool) -> bool:
    """The year's rule for keeping the certificate: the verified points reach the target and every owed
    technical requirement is met. "Met" before the year-end review and "recertified" at it both ask it,
    and so does the review's "would meet the target if verified" (with the waiting points counted)."""
    return verified >= target and requirements_met


def status_for(
    *,
    target: int,
    verified: int,
    pending: int,
    requirements_met: bool,
    share: float,
    opted_out: bool,
    outcome: str | None,
    new_member: bool = False,
) -> str:
    """The spec's status rules, in order: review outcome, opt-out, met, on track, at risk.

    A member in their first NEW_MEMBER_DAYS is on track whatever the pace.
    """
    if outcome is not None:
        return ReviewOutcome.Outcome(outcome)
    if opted_out:
        return OPTED_OUT
    if maintained(target=target, verified=verified, requirements_met=requirements_met):
        return MET
    if new_member or verified + pending >= target * share:
        return ON_TRACK
    return AT_RISK


# A claim of an activity type (the claim form, its live preview and the submitting services ask these).
def points_for(*, activity_type: ActivityType, quantity: Decimal | int) -> int:
    """Points for a quantity: the type's points times the `counted_quantity`, rounded half up."""
    counted = counted_quantity(activity_type=activity_type, quantity=quantity)
    return int((Decimal(activity_type.points) * counted).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def counted_quantity(*, activity_type: ActivityType, quantity: Decimal | int) -> Decimal:
    """The part of a quantity that earns points: all of it where the unit takes fractions (hours),
    else its whole units. New claims are whole already (`whole_units_refusal`); a fraction stored
    before that rule (or under a unit changed since) earns nothing for its fraction."""
    amount = Decimal(quantity)
    return amount if activity_type.takes_fractions else amount.to_integral_value(rounding=ROUND_FLOOR)


def quantity_text(quantity: Decimal | int) -> str:
    """A quantity as people write it: 1.5, 2 (not 1.50, 2.00 or 2E+1)."""
    return f"{Decimal(quantity).normalize():f}"


# Keyed by the unit as stored (a TextChoices member equals its value).
UNIT_SINGULAR: dict[str, Promise] = {
    ActivityType.Unit.ITEM: gettext_lazy("item"),
    ActivityType.Unit.HOUR: gettext_lazy("hour"),
    ActivityType.Unit.SESSION: gettext_lazy("session"),
}
UNITS_PLURAL: dict[str, Promise] = {
    ActivityType.Unit.ITEM: gettext_lazy("items"),
    ActivityType.Unit.HOUR: gettext_lazy("hours"),
    ActivityType.Unit.SESSION: gettext_lazy("sessions"),
}


def whole_units_refusal(*, activity_type: ActivityType, quantity: Decimal | int) -> str | None:
    """Why `quantity` cannot be claimed of this type (part of an item or a session), or None.

    Every way a contribution is written asks this: the claim form and its preview (through
    `quantity_refusal`), the member's services and the automatic credits."""
    amount = Decimal(quantity)
    if activity_type.takes_fractions or amount == amount.to_integral_value():
        return None
    return whole_units_message(type_name=activity_type.name, unit=activity_type.unit, quantity=amount)


def whole_units_message(*, type_name: str, unit: str, quantity: Decimal | int) -> str:
    """The words of `whole_units_refusal` (also for the database's refusal, which names the unit)."""
    return _("Enter a whole number of %(units)s: “%(type)s” counts whole %(units)s, and %(quantity)s is not one.") % {
        "units": UNITS_PLURAL.get(unit, gettext_lazy("units")),
        "type": type_name,
        "quantity": quantity_text(quantity),
    }


def quantity_refusal(*, activity_type: ActivityType, quantity: Decimal | int) -> str | None:
    """Why one claim of `quantity` is refused for this type (over its maximum per claim, or part of a
    unit that is counted whole), or None."""
    limit = activity_type.max_quantity_per_claim
    if Decimal(quantity) > limit:
        return _(
            "“%(type)s” allows at most %(limit)s %(units)s per claim. For more, log separate contributions, "
            "each with its own date."
        ) % {"type": activity_type.name, "limit": quantity_text(limit), "units": UNITS_PLURAL[activity_type.unit]}
    return whole_units_refusal(activity_type=activity_type, quantity=quantity)
