"""The member dashboard at `/`, composed from each app's selectors in a fixed number of queries.

It shows pieces of every app, so it lives with the project (shared/docs/style.md): no app imports
it. `page` is what the view renders; `build` is the certification-maintenance part of it.
Nothing here writes, and nothing changes the objects it is given.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import MACertification, User
from community_levels.selectors import level_for_member
from contributions import rules, selectors
from contributions.models import ActivityType, Contribution, ProgramYear, ReviewOutcome
from engagements.models import SignUp
from engagements.selectors import upcoming_for_member
from mahome.dashboard_chart import bar_geometry, chart_data


def page(*, user: User, now: datetime | None = None, first_visit: bool = False) -> dict:
    """The context of `dashboard.html`: maintenance (`build`), upcoming engagements, community standing,
    and `greet_as_new`: "Welcome to MA Home" rather than "Welcome back", on the member's first visit
    (`first_visit`: `accounts.requests.is_first_visit`) and while a newly certified member settles in
    (`new_member`)."""
    now = now or timezone.now()
    upcoming = upcoming_for_member(user=user)
    offer = next(
        (
            HeldOffer(
                title=signup.opportunity.title,
                url=signup.opportunity.get_absolute_url(),
                expires_at=signup.offer_expires_at,
            )
            for signup in upcoming
            if signup.state == SignUp.State.OFFERED
            and signup.offer_expires_at is not None
            and signup.offer_expires_at > now
        ),
        None,
    )
    maintenance = build(user=user, today=timezone.localdate(now), offer=offer)
    return {
        "maintenance": maintenance,
        "upcoming": upcoming,
        "community_standing": level_for_member(user=user),
        "greet_as_new": first_visit or maintenance["new_member"],
    }


def build(*, user: User, today: date | None = None, offer: "HeldOffer | None" = None) -> dict:
    """Everything the maintenance part of `/` shows, in a fixed number of queries.

    Keys: certification, program_year, next_program_year, standing (MemberYear or None),
    lapsed (ReviewOutcome that ended the certification, or None), certificate, recent,
    needs_info (a contribution waiting for the member's answer, or None), drafts (count),
    chart (data for Chart.js), bar (SVG geometry of the progress bar), next_step.
    `offer` is a slot held for the member (from the engagements app, see `page`).
    """
    today = today or timezone.localdate()
    program_year = ProgramYear.objects.current(today)
    member = _member_with_year_facts(user=user, program_year=program_year)
    # The annotations above, absent when there is no program year (the page stops before reading them).
    ended_by: int | None = getattr(member, "ended_by", None)
    question_id: int | None = getattr(member, "question_id", None)
    drafts: int = getattr(member, "drafts", None) or 0
    try:
        certification = member.certification
    except MACertification.DoesNotExist:
        certification = None
    context = _empty_context(user=user, certification=certification, program_year=program_year, today=today)
    if certification is None or program_year is None:
        return context
    if ended_by is not None:
        context["lapsed"] = ReviewOutcome.objects.select_related("program_year").get(pk=ended_by)
        context["next_step"] = _lapsed_step(context["lapsed"])
        return context
    standing = selectors.member_years(
        program_year=program_year, members=[member], today=today, by_month=True, with_reports=True
    )[0]
    recent, needs_info = _recent_and_question(user=user, program_year=program_year, question_id=question_id)
    context.update(
        standing=standing,
        recent=recent,
        drafts=drafts,
        needs_info=needs_info,
        chart=chart_data(standing=standing),
        bar=bar_geometry(standing=standing),
    )
    context["next_step"] = next_step(
        standing=standing, needs_info=context["needs_info"], drafts=context["drafts"], offer=offer
    )
    return context


def _empty_context(
    *, user: User, certification: MACertification | None, program_year: ProgramYear | None, today: date
) -> dict:
    """The keys every dashboard has, before the member's standing in the year is known."""
    return {
        "certification": certification,
        "program_year": program_year,
        "next_program_year": (
            ProgramYear.objects.filter(opens_on__gt=today, published_at__isnull=False).order_by("year").first()
        ),
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


def _member_with_year_facts(*, user: User, program_year: ProgramYear | None) -> User:
    """The member read again (the caller's object is left as it was) with their certification, for
    `member_years`, and, in the same query, what else the page asks of them this year: the earlier
    review that ended the certification (`ended_by`), the number of drafts (`drafts`), the oldest
    question from a verifier (`question_id`)."""
    members = User.objects.select_related("certification")
    if program_year is not None:
        this_year = Contribution.objects.filter(member=OuterRef("pk"), program_year=program_year).order_by()
        members = members.annotate(
            ended_by=Subquery(_exits_before(program_year=program_year).values("pk")[:1]),
            drafts=Subquery(
                this_year.filter(state=Contribution.State.DRAFT).values("member").annotate(n=Count("pk")).values("n")
            ),
            question_id=Subquery(
                this_year.filter(state=Contribution.State.NEEDS_INFO).order_by("updated_at").values("pk")[:1]
            ),
        )
    return members.get(pk=user.pk)


def _lapsed_step(lapsed: ReviewOutcome) -> dict:
    return {
        "text": _("Your certification ended after the %(year)s review. To return, re-qualify as an MA.")
        % {"year": lapsed.program_year.year},
        "url": reverse("contributions:catalogue"),
        "label": _("See the requirements"),
    }


def _recent_and_question(
    *, user: User, program_year: ProgramYear, question_id: int | None
) -> tuple[list[Contribution], Contribution | None]:
    """The member's latest contributions of the year and the one a verifier asked about, in one query.

    The question, when it is not among the latest, ranks after all of them in the list's order, so
    the latest are always the first rows.
    """
    contributions = selectors.contribution_list(user=user, program_year=program_year)
    latest = contributions[: selectors.RECENT_CONTRIBUTIONS]
    if question_id is None:
        return list(latest), None
    rows = list(contributions.filter(Q(pk__in=latest.values("pk")) | Q(pk=question_id)))
    return rows[: selectors.RECENT_CONTRIBUTIONS], next(row for row in rows if row.pk == question_id)


def _exits_before(*, program_year: ProgramYear) -> QuerySet[ReviewOutcome]:
    """The earlier reviews that ended the outer member's certification (lapsed or opted out), latest first."""
    return (
        ReviewOutcome.objects.ending_certification_before(
            program_year=program_year, qualified_on=OuterRef("certification__qualified_on")
        )
        .filter(member=OuterRef("pk"))
        .order_by("-program_year__year")
    )


@dataclass(frozen=True)
class HeldOffer:
    """A slot held for the member (an engagement offer), as the dashboard composes it from engagements."""

    title: str
    url: str
    expires_at: datetime


def cheapest_ways(*, standing: selectors.MemberYear, missing: int, limit: int = 3) -> list[dict]:
    """The catalogue types that close `missing` points with the fewest contributions.

    Only what the member can do (submitted by hand or earned through an opportunity), within each
    type's remaining annual cap; a type that cannot close the gap alone comes after those that can.
    """
    counted = {t.activity_type.pk: t.verified + t.pending for t in standing.type_totals}
    types = ActivityType.objects.filter(
        program_year=standing.program_year,
        is_active=True,
        points__gt=0,
        tracking__in=[ActivityType.Tracking.MANUAL, ActivityType.Tracking.ENGAGEMENT],
    )
    ways = []
    for activity_type in types:
        room = missing
        if activity_type.annual_cap is not None:
            room = min(missing, activity_type.annual_cap - counted.get(activity_type.pk, 0))
        if room <= 0:
            continue
        units = math.ceil(room / activity_type.points)
        ways.append((room < missing, units, -activity_type.points, activity_type.name, activity_type, room))
    ways.sort(key=lambda way: way[:4])
    options = []
    for closes_part, units, _points, _name, activity_type, room in ways[:limit]:
        unit = str(UNIT_WORDS[activity_type.unit])
        text = _("%(units)s × %(name)s (%(points)s points %(unit)s)") % {
            "units": units,
            "name": activity_type.name,
            "points": intcomma(activity_type.points),
            "unit": unit,
        }
        if closes_part:
            text += " " + _("— up to %(room)s points, its annual cap") % {"room": intcomma(room)}
        url = (
            reverse("engagements:opportunity_list")
            if activity_type.tracking == ActivityType.Tracking.ENGAGEMENT
            else reverse("contributions:new") + f"?type={activity_type.pk}"
        )
        options.append({"text": text, "url": url})
    return options


UNIT_WORDS: dict[str, Promise] = {  # keyed by the unit as stored
    ActivityType.Unit.ITEM: gettext_lazy("each"),
    ActivityType.Unit.HOUR: gettext_lazy("an hour"),
    ActivityType.Unit.SESSION: gettext_lazy("a session"),
}


def next_step(
    *,
    standing: selectors.MemberYear,
    needs_info: Contribution | None,
    drafts: int,
    offer: HeldOffer | None = None,
) -> dict:
    """The one thing the member should do next: the first rule that applies, in this order.

    1. The year is decided (a review outcome): what it means, nothing else.
    2. Opted out: only the way back (undo, until the deadline); no pace, no requirements.
    3. A slot offer held for the member, before it expires (then it passes to the next member).
    4. A verifier's question (a contribution or a requirement report that needs information).
    5. Points behind the pace: the shortfall and the cheapest ways to close it from the catalogue.
    6. Technical requirements owed and not met (overdue first, then the next due); one waiting
       for verification is not a step.
    7. Drafts not yet submitted.
    8. The deadline passed; the points covered once verified; the points still to go; all met.
    Each step carries `rule` (its name above), so the order is tested rule by rule; each rule is one
    function of `_NEXT_STEP_RULES` that answers a step or None.
    """
    facts = _StepFacts(standing=standing, needs_info=needs_info, drafts=drafts, offer=offer)
    for rule in _NEXT_STEP_RULES:
        step = rule(facts)
        if step is not None:
            return step
    return _step_to_go(facts)


@dataclass(frozen=True)
class _StepFacts:
    standing: selectors.MemberYear
    needs_info: Contribution | None
    drafts: int
    offer: HeldOffer | None

    @property
    def missing(self) -> int:
        return max(0, self.standing.target_points - self.standing.verified - self.standing.pending)

    @property
    def behind(self) -> int:
        return self.standing.pace_points - self.standing.verified - self.standing.pending


def _step(rule: str, text: str, url: str, label: str, **extra: object) -> dict:
    return {"rule": rule, "text": text, "url": url, "label": label, **extra}


def _step_decided(facts: _StepFacts) -> dict | None:
    outcome = facts.standing.outcome
    if outcome is None:
        return None
    if outcome.outcome == ReviewOutcome.Outcome.RECERTIFIED:
        return _step(
            "decided",
            _("You are recertified. Look at next year's requirements to get a head start."),
            reverse("contributions:catalogue"),
            _("See the catalogue"),
        )
    return _step(
        "decided",
        _("The year-end review closed this year for you. Contact the program team if this is wrong."),
        reverse("contributions:list"),
        _("Your contributions"),
    )


def _step_opted_out(facts: _StepFacts) -> dict | None:
    standing = facts.standing
    if standing.opt_out is None:
        return None
    if standing.can_change_opt_out:
        return _step(
            "opted_out",
            _("You opted out of this year's maintenance. Changed your mind? You can undo it until %(date)s.")
            % {"date": date_format(standing.program_year.last_day)},
            "#opt-out",
            _("Undo my opt-out"),
        )
    return _step(
        "opted_out",
        _("You opted out this year; your certificate stays valid until it expires."),
        reverse("contributions:catalogue"),
        _("See the catalogue"),
    )


def _step_offer(facts: _StepFacts) -> dict | None:
    offer = facts.offer
    if offer is None:
        return None
    return _step(
        "offer",
        _(
            "A slot in “%(title)s” is held for you until %(time)s. Accept it before then, or it passes "
            "to the next member on the waitlist."
        )
        % {"title": offer.title, "time": date_format(timezone.localtime(offer.expires_at), "DATETIME_FORMAT")},
        offer.url,
        _("Accept or decline the slot"),
    )


def _step_needs_info(facts: _StepFacts) -> dict | None:
    needs_info = facts.needs_info
    if needs_info is None:
        return None
    return _step(
        "needs_info",
        _("A verifier asked a question about “%(title)s”. Answer it so they can decide.") % {"title": needs_info.title},
        reverse("contributions:detail", args=[needs_info.pk]),
        _("Answer the verifier"),
    )


def _step_points(facts: _StepFacts) -> dict | None:
    standing, missing, behind = facts.standing, facts.missing, facts.behind
    if standing.deadline_passed or not missing or behind <= 0 or standing.new_member:
        return None
    return _step(
        "points",
        _(
            "You need %(missing)s more points in %(days)s days (%(behind)s behind the pace). "
            "The quickest ways to get them:"
        )
        % {"missing": intcomma(missing), "days": standing.days_to_deadline, "behind": intcomma(behind)},
        reverse("contributions:catalogue"),
        _("See the whole catalogue"),
        options=cheapest_ways(standing=standing, missing=missing),
    )


def _step_requirement(facts: _StepFacts) -> dict | None:
    owed = [r for r in facts.standing.requirements_pending if not r.report_open]
    if not owed or facts.standing.deadline_passed:
        return None
    first = sorted(owed, key=lambda r: (not r.overdue, r.requirement.due_on))[0]
    text = (
        _("“%(name)s” was due on %(date)s. Done it? Report it with your evidence.")
        if first.overdue
        else _("“%(name)s” is due on %(date)s. Done it? Report it with your evidence.")
    )
    return _step(
        "requirement",
        text % {"name": first.requirement.name, "date": date_format(first.requirement.due_on)},
        reverse("contributions:requirement_report", args=[first.requirement.pk]),
        _("Report it"),
    )


def _step_drafts(facts: _StepFacts) -> dict | None:
    if not facts.drafts:
        return None
    return _step(
        "drafts",
        _("You have %(count)s draft contribution(s) not yet submitted.") % {"count": facts.drafts},
        reverse("contributions:list") + "?state=draft",
        _("Submit your drafts"),
    )


def _step_met(facts: _StepFacts) -> dict | None:
    if facts.standing.status != rules.MET:
        return None
    return _step(
        "met",
        _("You have met this year's requirements. Well done!"),
        reverse("contributions:catalogue"),
        _("See next year's catalogue"),
    )


def _step_deadline(facts: _StepFacts) -> dict | None:
    if not facts.standing.deadline_passed:
        return None
    return _step(
        "deadline",
        _("The deadline has passed; your year awaits the final review."),
        reverse("contributions:list"),
        _("Your contributions"),
    )


def _step_covered(facts: _StepFacts) -> dict | None:
    if facts.missing:
        return None
    return _step(
        "covered",
        _("Your submitted points cover the target; they are waiting for verification."),
        reverse("contributions:list"),
        _("Your contributions"),
    )


def _step_to_go(facts: _StepFacts) -> dict:
    return _step(
        "to_go",
        _("You are on track. %(missing)s points to go: log your next contribution.")
        % {"missing": intcomma(facts.missing)},
        reverse("contributions:new"),
        _("Log a contribution"),
    )


_NEXT_STEP_RULES = (
    _step_decided,
    _step_opted_out,
    _step_offer,
    _step_needs_info,
    _step_points,
    _step_requirement,
    _step_drafts,
    _step_met,
    _step_deadline,
    _step_covered,
)
