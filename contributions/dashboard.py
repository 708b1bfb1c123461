"""The maintenance part of the member dashboard, built in a fixed number of queries.

Reached through `contributions.selectors.dashboard_for`; kept apart so selectors.py stays short.
"""

from collections import defaultdict
from datetime import date

from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import MACertification, User
from contributions import rules, selectors
from contributions.models import Contribution, ProgramYear, ReviewOutcome

# The bar's geometry is in a 0..100 viewBox; the SVG stretches it to the card's width.
BAR_WIDTH = 100


def build(*, user: User, today: date) -> dict:
    certification = MACertification.objects.filter(user=user).first()
    if certification is not None:
        user.certification = certification
    years = list(ProgramYear.objects.filter(Q(opens_on__lte=today) | Q(published_at__isnull=False)).order_by("year"))
    started = [y for y in years if y.opens_on <= today]
    program_year = started[-1] if started else None
    next_program_year = next((y for y in years if y.opens_on > today and y.is_published), None)
    context: dict = {
        "certification": certification,
        "program_year": program_year,
        "next_program_year": next_program_year,
        "standing": None,
        "lapsed": None,
        "certificate": selectors.certificate_current(member=user, today=today),
        "recent": [],
        "needs_info": None,
        "drafts": 0,
        "chart": None,
        "bar": None,
        "next_step": None,
        "new_member": certification is not None
        and rules.is_new_member(qualified_on=certification.qualified_on, today=today),
    }
    if certification is None or program_year is None:
        return context
    context["lapsed"] = _exit_before(user=user, program_year=program_year, qualified_on=certification.qualified_on)
    if context["lapsed"] is not None:
        context["next_step"] = {
            "text": _("Your certification ended after the %(year)s review. To return, re-qualify as an MA.")
            % {"year": context["lapsed"].program_year.year},
            "url": reverse("contributions:catalogue"),
            "label": _("See the requirements"),
        }
        return context
    standing = selectors.member_years(
        program_year=program_year, members=[user], today=today, by_month=True, with_reports=True
    )[0]
    counts = selectors.year_contribution_counts(user=user, program_year=program_year)
    context.update(
        standing=standing,
        recent=list(
            selectors.contribution_list(user=user, program_year=program_year)[: selectors.RECENT_CONTRIBUTIONS]
        ),
        drafts=counts.get(Contribution.State.DRAFT, 0),
        needs_info=(
            Contribution.objects.filter(member=user, program_year=program_year, state=Contribution.State.NEEDS_INFO)
            .order_by("updated_at")
            .first()
            if counts.get(Contribution.State.NEEDS_INFO)
            else None
        ),
        chart=chart_data(standing=standing),
        bar=bar_geometry(standing=standing),
    )
    context["next_step"] = next_step(standing=standing, needs_info=context["needs_info"], drafts=context["drafts"])
    return context


def _exit_before(*, user: User, program_year: ProgramYear, qualified_on: date) -> ReviewOutcome | None:
    """The earlier review that ended this member's certification (lapsed or opted out), if any."""
    return (
        ReviewOutcome.objects.filter(
            member=user,
            program_year__year__lt=program_year.year,
            program_year__deadline__gt=qualified_on,
            outcome__in=[ReviewOutcome.Outcome.LAPSED, ReviewOutcome.Outcome.OPTED_OUT],
        )
        .select_related("program_year")
        .order_by("-program_year__year")
        .first()
    )


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
    per_type: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    caps = {}
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
    this_month = date(standing.today.year, standing.today.month, 1)
    verified_series, total_series = [], []
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
    start = standing.start
    pace = []
    for index in range(len(months)):
        month_end = months[index + 1] if index + 1 < len(months) else program_year.deadline
        share = rules.elapsed_share(today=month_end, start=start, deadline=program_year.deadline)
        pace.append(round(target * share))
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


def next_step(*, standing: selectors.MemberYear, needs_info: Contribution | None, drafts: int) -> dict:
    """The one thing the member should do next, most urgent first."""
    new_url = reverse("contributions:new")
    if standing.outcome is not None:
        if standing.outcome.outcome == ReviewOutcome.Outcome.RECERTIFIED:
            return {
                "text": _("You are recertified. Look at next year's requirements to get a head start."),
                "url": reverse("contributions:catalogue"),
                "label": _("See the catalogue"),
            }
        return {
            "text": _("The year-end review closed this year for you. Contact the program team if this is wrong."),
            "url": reverse("contributions:list"),
            "label": _("Your contributions"),
        }
    if standing.opt_out is not None:
        if standing.can_change_opt_out:
            return {
                "text": _("You opted out of this year's maintenance. You can undo it until %(date)s.")
                % {"date": date_format(standing.program_year.deadline)},
                "url": "#opt-out",
                "label": _("Review your opt-out"),
            }
        return {
            "text": _("You opted out this year; your certificate stays valid until it expires."),
            "url": reverse("contributions:catalogue"),
            "label": _("See the catalogue"),
        }
    if needs_info is not None:
        return {
            "text": _("A verifier needs more information about “%(title)s”.") % {"title": needs_info.title},
            "url": reverse("contributions:detail", args=[needs_info.pk]),
            "label": _("Answer the verifier"),
        }
    if standing.status == rules.MET:
        return {
            "text": _("You have met this year's requirements. Well done!"),
            "url": reverse("contributions:catalogue"),
            "label": _("See next year's catalogue"),
        }
    overdue = [r for r in standing.requirements_pending if r.overdue]
    if overdue:
        return {
            "text": _("“%(name)s” was due on %(date)s and is not recorded as met.")
            % {"name": overdue[0].requirement.name, "date": date_format(overdue[0].requirement.due_on)},
            "url": "#requirements",
            "label": _("See the requirements"),
        }
    if drafts:
        return {
            "text": _("You have %(count)s draft contribution(s) not yet submitted.") % {"count": drafts},
            "url": reverse("contributions:list") + "?state=draft",
            "label": _("Submit your drafts"),
        }
    if standing.deadline_passed:
        return {
            "text": _("The deadline has passed; your year awaits the final review."),
            "url": reverse("contributions:list"),
            "label": _("Your contributions"),
        }
    if standing.verified + standing.pending >= standing.target_points:
        pending = standing.requirements_pending
        if pending:
            return {
                "text": _("Your points are covered once verified. Still to do: %(name)s, due %(date)s.")
                % {"name": pending[0].requirement.name, "date": date_format(pending[0].requirement.due_on)},
                "url": "#requirements",
                "label": _("See the requirements"),
            }
        return {
            "text": _("Your submitted points cover the target; they are waiting for verification."),
            "url": reverse("contributions:list"),
            "label": _("Your contributions"),
        }
    missing = standing.target_points - standing.verified - standing.pending
    if standing.status == rules.AT_RISK:
        return {
            "text": _(
                "You need %(missing)s more points in %(days)s days. An opportunity is the fastest way to earn them."
            )
            % {"missing": missing, "days": standing.days_to_deadline},
            "url": "/engagements/",
            "label": _("Find an opportunity"),
        }
    return {
        "text": _("You are on track. %(missing)s points to go: log your next contribution.") % {"missing": missing},
        "url": new_url,
        "label": _("Log a contribution"),
    }
