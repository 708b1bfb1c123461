"""Every non-trivial read of certification maintenance.

`member_years` computes, for many members at once and in a fixed number of queries, what
the dashboard shows for one: target (and why), capped verified and pending points, status.
The dashboard, the admin report, the reminders and the year-end review all read it.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import MACertification, User
from contributions import rules
from contributions.models import (
    ActivityType,
    Certificate,
    Contribution,
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    TargetOverride,
    TechnicalRequirement,
)


@dataclass
class TypeTotal:
    activity_type: ActivityType
    verified_raw: int = 0
    pending_raw: int = 0
    needs_info_raw: int = 0
    verified: int = 0
    excess: int = 0
    pending: int = 0
    needs_info: int = 0  # the part of `pending` waiting on the member's answer


@dataclass
class RequirementState:
    requirement: TechnicalRequirement
    met_on: date | None
    overdue: bool
    owed: bool = True  # False when it was due before the member qualified (rules.requirement_owed)
    report: Contribution | None = None  # the member's latest report of it, if any

    @property
    def is_met(self) -> bool:
        return self.met_on is not None

    @property
    def report_open(self) -> bool:
        return self.report is not None and self.report.state in Contribution.OPEN_STATES

    @property
    def can_report(self) -> bool:
        return self.owed and not self.is_met and not self.report_open


@dataclass
class MemberYear:
    """One member's standing in one program year."""

    member: User
    program_year: ProgramYear
    qualified_on: date | None
    target: rules.Target
    override: TargetOverride | None
    verified: int
    pending: int
    excess: int
    type_totals: list[TypeTotal]
    requirements: list[RequirementState]
    opt_out: OptOut | None
    outcome: ReviewOutcome | None
    share: float
    status: str
    today: date
    monthly: dict = field(default_factory=dict, repr=False)
    needs_info: int = 0  # the part of `pending` waiting on the member's answer (needs more information)

    @property
    def target_points(self) -> int:
        return self.override.target_points if self.override else self.target.points

    @property
    def target_explanation(self) -> str:
        if self.override:
            return self.override.reason
        return self.target.formula

    @property
    def requirements_met(self) -> bool:
        return all(r.is_met or not r.owed for r in self.requirements)

    @property
    def requirements_pending(self) -> list[RequirementState]:
        """Owed and not yet met (a requirement due before the member qualified is not owed)."""
        return [r for r in self.requirements if r.owed and not r.is_met]

    @property
    def new_member(self) -> bool:
        return rules.is_new_member(qualified_on=self.qualified_on, today=self.today)

    @property
    def pace_points(self) -> int:
        return round(self.target_points * self.share)

    @property
    def missing_points(self) -> int:
        return max(0, self.target_points - self.verified)

    @property
    def status_label(self) -> str:
        return rules.status_label(self.status)

    @property
    def status_pill(self) -> str:
        return rules.STATUS_PILLS[self.status]

    @property
    def days_to_deadline(self) -> int:
        return (self.program_year.deadline - self.today).days

    @property
    def deadline_passed(self) -> bool:
        return self.today >= self.program_year.deadline

    @property
    def can_submit(self) -> bool:
        return self.program_year.takes_submissions(self.today)

    @property
    def can_change_opt_out(self) -> bool:
        return self.outcome is None and not self.deadline_passed

    @property
    def start(self) -> date:
        py = self.program_year
        return max(py.opens_on, self.qualified_on) if self.qualified_on else py.opens_on


def _today(today: date | None) -> date:
    return today or timezone.localdate()


# --- Program years and the catalogue ---------------------------------------------------


def program_year_current(*, today: date | None = None) -> ProgramYear | None:
    """The year running today; between years, the one that just ended (awaiting review)."""
    return ProgramYear.objects.current(_today(today))


def program_year_get(*, year: int) -> ProgramYear | None:
    return ProgramYear.objects.filter(year=year).first()


def catalogue_years(*, today: date | None = None) -> list[ProgramYear]:
    """This year's catalogue and, once published, next year's, each with its types and requirements."""
    today = _today(today)
    current = program_year_current(today=today)
    upcoming = Q(opens_on__gt=today, published_at__isnull=False)
    years = ProgramYear.objects.filter(upcoming | Q(pk=current.pk)) if current else ProgramYear.objects.filter(upcoming)
    return list(years.order_by("year").prefetch_related("requirements", _active_types_prefetch())[:2])


def _active_types_prefetch() -> Prefetch:
    return Prefetch(
        "activity_types",
        queryset=ActivityType.objects.filter(is_active=True)
        .exclude(tracking=ActivityType.Tracking.REQUIREMENT)
        .order_by("category", "-points", "name"),
        to_attr="catalogue",
    )


def activity_types_open_for_submission(*, today: date | None = None) -> QuerySet[ActivityType]:
    """Types a member may submit today: manual tracking, active, in a year still taking submissions."""
    today = _today(today)
    open_years = Q(program_year__opens_on__lte=today) & ProgramYear.takes_submissions_q(
        today=today, prefix="program_year__"
    )
    return (
        ActivityType.objects.filter(open_years, is_active=True, tracking=ActivityType.Tracking.MANUAL)
        .select_related("program_year")
        .order_by("-program_year__year", "category", "name")
    )


# --- Contributions ------------------------------------------------------------------------


def contribution_list(*, user: User, program_year: ProgramYear | None = None) -> QuerySet[Contribution]:
    queryset = Contribution.objects.filter(member=user).select_related("activity_type", "program_year")
    if program_year is not None:
        queryset = queryset.filter(program_year=program_year)
    return queryset.order_by("-occurred_on", "-pk")


def contribution_get(*, user: User, pk: int) -> Contribution | None:
    """The member's own contribution, or None (another member's answers 404)."""
    return (
        Contribution.objects.select_related("activity_type", "program_year", "decided_by")
        .filter(member=user, pk=pk)
        .first()
    )


def contribution_history(*, contribution: Contribution) -> list:
    """Changes of state and points, oldest first, with who made them."""
    records = list(contribution.history.select_related("history_user").order_by("history_date", "history_id"))
    changes = []
    previous = None
    for record in records:
        if previous is None or (record.state, record.claimed_points, record.awarded_points) != (
            previous.state,
            previous.claimed_points,
            previous.awarded_points,
        ):
            changes.append(record)
        previous = record
    return changes


def verification_queue(*, program_year: ProgramYear | None = None) -> QuerySet[Contribution]:
    """Submitted items, oldest first (what verifiers work through)."""
    queryset = Contribution.objects.filter(state=Contribution.State.SUBMITTED)
    if program_year is not None:
        queryset = queryset.filter(program_year=program_year)
    return queryset.select_related("member", "activity_type").order_by("submitted_at", "pk")


def queue_next(*, after: Contribution) -> Contribution | None:
    """The oldest other item waiting in the queue: what "decide and open the next" opens."""
    return verification_queue().exclude(pk=after.pk).first()


def queue_waiting_besides(*, contribution: Contribution) -> int:
    return verification_queue().exclude(pk=contribution.pk).count()


def cap_left(*, member_year: MemberYear, activity_type: ActivityType) -> int | None:
    """Points of a type the member can still earn this year under its annual cap (None: no cap)."""
    if activity_type.annual_cap is None:
        return None
    verified = next(
        (total.verified_raw for total in member_year.type_totals if total.activity_type.pk == activity_type.pk), 0
    )
    return max(activity_type.annual_cap - verified, 0)


# --- Standing of members in a year ----------------------------------------------------------


def eligible_members(*, program_year: ProgramYear) -> QuerySet[User]:
    """MAs who hold a certificate in this year: qualified before its deadline and not lapsed since.

    A member whose certification lapsed (or who opted out) in an earlier year is no longer an MA,
    unless they qualified again after that year.
    """
    earlier_exit = ReviewOutcome.objects.ending_certification_before(
        program_year=program_year, qualified_on=OuterRef("certification__qualified_on")
    ).filter(member=OuterRef("pk"))
    return (
        User.objects.filter(is_active=True, certification__qualified_on__lt=program_year.deadline)
        .exclude(Exists(earlier_exit))
        .select_related("certification")
        .annotate(current_certificate_number=current_certificate_number())
        .order_by("last_name", "first_name", "email")
    )


def members_matching(members: QuerySet[User], *, search: str) -> QuerySet[User]:
    """The report's search: in the email or either name, whatever the case."""
    if not search:
        return members
    return members.filter(Q(email__icontains=search) | Q(first_name__icontains=search) | Q(last_name__icontains=search))


def member_years(
    *,
    program_year: ProgramYear,
    members: list[User],
    today: date | None = None,
    by_month: bool = False,
    with_reports: bool = False,
) -> list[MemberYear]:
    """Standing of each member in the year, in a fixed number of queries whatever their history.

    `with_reports` adds each requirement's latest report by the member (the dashboard's next action).
    """
    today = _today(today)
    member_ids = [m.pk for m in members]
    # `.order_by()` on the lookups below: they fill dicts, and the models' default orderings join other tables.
    types = {
        t.pk: t
        for t in ActivityType.objects.filter(program_year=program_year)
        .exclude(tracking=ActivityType.Tracking.REQUIREMENT)
        .order_by()
    }
    requirements = list(TechnicalRequirement.objects.filter(program_year=program_year).order_by("due_on", "name"))
    statuses = {
        (member_id, requirement_id): met_on
        for member_id, requirement_id, met_on in RequirementStatus.objects.filter(
            requirement__program_year=program_year, member_id__in=member_ids
        )
        .order_by()
        .values_list("member_id", "requirement_id", "met_on")
    }
    reports = (
        {
            (report.member_id, report.requirement_id): report
            for report in Contribution.objects.filter(
                requirement__program_year=program_year, member_id__in=member_ids
            ).order_by("pk")
        }  # the latest report per member and requirement wins
        if with_reports
        else {}
    )
    overrides = {
        o.member_id: o
        for o in TargetOverride.objects.filter(program_year=program_year, member_id__in=member_ids).order_by()
    }
    opt_outs = {
        o.member_id: o for o in OptOut.objects.filter(program_year=program_year, member_id__in=member_ids).order_by()
    }
    outcomes = {
        o.member_id: o
        for o in ReviewOutcome.objects.filter(program_year=program_year, member_id__in=member_ids).order_by()
    }
    grouping = ["member_id", "activity_type_id", "state"] + (["month"] if by_month else [])
    rows = (
        Contribution.objects.filter(program_year=program_year, member_id__in=member_ids)
        .exclude(state__in=[Contribution.State.DRAFT, Contribution.State.WITHDRAWN, Contribution.State.REJECTED])
        .annotate(month=TruncMonth("occurred_on"))
        .values(*grouping)
        .annotate(
            claimed=Sum("claimed_points"),
            awarded=Sum(Coalesce("awarded_points", F("claimed_points"))),
        )
        .order_by(*grouping)
    )
    raw: dict[int, dict[int, TypeTotal]] = defaultdict(dict)
    monthly: dict[int, list] = defaultdict(list)
    for row in rows:
        activity_type = types.get(row["activity_type_id"])
        if activity_type is None:
            continue
        total = raw[row["member_id"]].setdefault(activity_type.pk, TypeTotal(activity_type))
        if row["state"] == Contribution.State.VERIFIED:
            total.verified_raw += row["awarded"] or 0
        else:
            total.pending_raw += row["claimed"] or 0
            if row["state"] == Contribution.State.NEEDS_INFO:
                total.needs_info_raw += row["claimed"] or 0
        if by_month:
            monthly[row["member_id"]].append(row)

    results = []
    for member in members:
        certification = _certification_of(member)
        qualified_on = certification.qualified_on if certification else None
        target = rules.prorated_target(
            base=program_year.target_points,
            method=program_year.prorating_method,
            qualified_on=qualified_on,
            opens_on=program_year.opens_on,
            deadline=program_year.deadline,
        )
        type_totals = sorted(raw[member.pk].values(), key=lambda t: (t.activity_type.category, t.activity_type.name))
        for total in type_totals:
            total.verified, total.excess = rules.capped(total.verified_raw, total.activity_type.annual_cap)
            headroom = (
                None if total.activity_type.annual_cap is None else total.activity_type.annual_cap - total.verified
            )
            total.pending = total.pending_raw if headroom is None else min(total.pending_raw, headroom)
            total.needs_info = min(total.needs_info_raw, total.pending)
        requirement_states = []
        for r in requirements:
            owed = rules.requirement_owed(due_on=r.due_on, qualified_on=qualified_on)
            met_on = statuses.get((member.pk, r.pk))
            requirement_states.append(
                RequirementState(
                    requirement=r,
                    met_on=met_on,
                    overdue=owed and met_on is None and today > r.due_on,
                    owed=owed,
                    report=reports.get((member.pk, r.pk)),
                )
            )
        start = max(program_year.opens_on, qualified_on) if qualified_on else program_year.opens_on
        share = rules.elapsed_share(today=today, start=start, deadline=program_year.deadline)
        override = overrides.get(member.pk)
        target_points = override.target_points if override else target.points
        verified = sum(t.verified for t in type_totals)
        pending = sum(t.pending for t in type_totals)
        outcome = outcomes.get(member.pk)
        status = rules.status_for(
            target=target_points,
            verified=verified,
            pending=pending,
            requirements_met=all(r.is_met or not r.owed for r in requirement_states),
            share=share,
            opted_out=member.pk in opt_outs,
            outcome=outcome.outcome if outcome else None,
            new_member=rules.is_new_member(qualified_on=qualified_on, today=today),
        )
        results.append(
            MemberYear(
                member=member,
                program_year=program_year,
                qualified_on=qualified_on,
                target=target,
                override=override,
                verified=verified,
                pending=pending,
                excess=sum(t.excess for t in type_totals),
                type_totals=type_totals,
                requirements=requirement_states,
                opt_out=opt_outs.get(member.pk),
                outcome=outcome,
                share=share,
                status=status,
                today=today,
                monthly={"rows": monthly[member.pk]} if by_month else {},
                needs_info=sum(t.needs_info for t in type_totals),
            )
        )
    return results


def _certification_of(member: User) -> MACertification | None:
    try:
        return member.certification
    except MACertification.DoesNotExist:
        return None


def member_year_for(*, user: User, program_year: ProgramYear, today: date | None = None) -> MemberYear:
    return member_years(program_year=program_year, members=[user], today=today)[0]


def program_year_report(
    *, program_year: ProgramYear, today: date | None = None, status: str = "", opted_out: str = "", search: str = ""
) -> list[MemberYear]:
    """One row per member of the year for the admin report, filtered by status, opt-out and name."""
    members = members_matching(eligible_members(program_year=program_year), search=search)
    rows = member_years(program_year=program_year, members=list(members), today=today)
    if status:
        rows = [r for r in rows if r.status == status]
    if opted_out in rules.OptedOutFilter.values:
        rows = [r for r in rows if (r.opt_out is not None) == (opted_out == rules.OptedOutFilter.YES)]
    return rows


@dataclass(frozen=True)
class ReportPage:
    page: Page  # of MemberYear rows
    counts: dict[str, int]  # members by status, over every row the filters keep


def program_year_report_page(
    *,
    program_year: ProgramYear,
    number: str | int | None,
    per_page: int,
    today: date | None = None,
    status: str = "",
    opted_out: str = "",
    search: str = "",
) -> ReportPage:
    """One page of the admin report, its paginator and the status counts, paginated in the database.

    The status of every MA is computed in SQL (`contributions.standing`, one query for the counts and
    the page's ids); the full standing of the page's members comes from `member_years`, as the dashboard's.
    """
    from contributions import standing

    today = _today(today)
    sql, params = standing.standing_rows(
        program_year=program_year, today=today, status=status, opted_out=opted_out, search=search
    )
    try:  # the page asked for, when it is a page number; checked against the count below
        guess = max(1, int(number or 1))
    except ValueError:
        guess = 1
    counts, ids = standing.counts_and_page(sql=sql, params=params, offset=(guess - 1) * per_page, limit=per_page)
    paginator = Paginator(range(sum(counts.values())), per_page)
    number = paginator.get_page(number).number
    if number != guess:  # past the last page, or not a number: the paginator's page, as Paginator.get_page says
        ids = standing.page_ids(sql=sql, params=params, offset=(number - 1) * per_page, limit=per_page)
    members = {m.pk: m for m in User.objects.filter(pk__in=ids).select_related("certification")}
    rows = member_years(program_year=program_year, members=[members[pk] for pk in ids], today=today)
    return ReportPage(page=Page(rows, number, paginator), counts=counts)


def queue_stats(*, program_year: ProgramYear | None = None) -> dict:
    """Size of the verification queue and age in days of its oldest item."""
    queue = verification_queue(program_year=program_year)
    oldest = queue.values_list("submitted_at", flat=True).first()
    size = queue.count()
    age_days = (timezone.now() - oldest).days if oldest else None
    return {"size": size, "oldest_days": age_days}


# --- For the member dashboard (mahome.dashboard, which composes them) ---------------------------

RECENT_CONTRIBUTIONS = 8


def current_among(certificates: list[Certificate], *, today: date) -> Certificate | None:
    """The certificate a member's pages point at, among theirs: the one covering today (revoked
    included, so the member sees the revocation); otherwise the latest already started."""
    live = [c for c in certificates if c.state != Certificate.State.SUPERSEDED and c.valid_from <= today]
    live.sort(key=lambda c: c.year, reverse=True)
    covering = [c for c in live if today < c.valid_until]
    shown = covering or live
    return shown[0] if shown else None


def current_certificate_number(*, member_ref: str = "pk", today: date | None = None) -> Subquery:
    """The number of the member's current certificate as a subquery, for lists and exports.

    The same choice as `current_among`, in SQL: a certificate not replaced that has started, the
    one covering today first, then the latest period. `member_ref` names the member's id in the
    outer query ("pk" on users, "member_id" on contributions, "user_id" on certifications).
    """
    today = _today(today)
    live = (
        Certificate.objects.filter(member_id=OuterRef(member_ref), valid_from__lte=today)
        .exclude(state=Certificate.State.SUPERSEDED)
        .annotate(covering=Case(When(valid_until__gt=today, then=1), default=0))
        .order_by("-covering", "-year")
    )
    return Subquery(live.values("number")[:1])


def certificate_current(*, member: User, today: date | None = None) -> Certificate | None:
    """The member's current certificate (see `current_among`), in one query."""
    live = Certificate.objects.filter(member=member).exclude(state=Certificate.State.SUPERSEDED)
    return current_among(list(live), today=_today(today))


def certificates_of_member(*, member: User) -> QuerySet[Certificate]:
    """All the member's certificates, replaced ones included, newest period first."""
    return Certificate.objects.filter(member=member).select_related("superseded_by").order_by("-year", "-issued_at")


def member_contribution_years(*, user: User, current: ProgramYear | None) -> list[ProgramYear]:
    """Years the member has contributions in, plus the current one, newest first."""
    years = ProgramYear.objects.filter(Q(contributions__member=user) | Q(pk=current.pk if current else -1)).distinct()
    return list(years.order_by("-year"))


def reviewed_program_year_ids(*, within_days: int = 90) -> list[int]:
    """Program years reviewed recently: their outcome notifications may still be due (sent once each)."""
    since = timezone.now() - timedelta(days=within_days)
    return list(
        ReviewOutcome.objects.filter(reviewed_at__gte=since)
        .values_list("program_year_id", flat=True)
        .distinct()
        .order_by("program_year_id")
    )


# --- Certificates in words ------------------------------------------------------------------------


def certificate_status_text(*, certificate: Certificate, today: date | None = None) -> str:
    """The status as a reader should read it, with its date and, for a revocation, the reason."""
    today = _today(today)
    status = certificate.status_on(today)
    if status == Certificate.Status.REVOKED:
        return _("Revoked on %(date)s because: %(reason)s") % {
            "date": date_format(timezone.localdate(certificate.revoked_at)),
            "reason": certificate.revoked_reason,
        }
    if status == Certificate.Status.SUPERSEDED:
        return _("Replaced on %(date)s by a corrected certificate with the same number.") % {
            "date": date_format(timezone.localdate(certificate.superseded_at))
        }
    if status == Certificate.Status.EXPIRED:
        return _("Expired on %(date)s.") % {"date": date_format(certificate.valid_until)}
    if status == Certificate.Status.NOT_YET_VALID:
        return _("Valid from %(date)s.") % {"date": date_format(certificate.valid_from)}
    return _("Valid until %(date)s.") % {"date": date_format(certificate.valid_until)}


@dataclass(frozen=True)
class VerifierDecisions:
    name: str
    decided: int


def decisions_by_verifier(*, since: datetime) -> list[VerifierDecisions]:
    """How many items each verifier decided since `since` (one query), busiest first."""
    rows = (
        Contribution.objects.filter(decided_at__gte=since, decided_by__isnull=False, decided_by__is_staff=True)
        .values("decided_by__first_name", "decided_by__last_name", "decided_by__email")
        .annotate(decided=Count("pk"))
        .order_by("-decided", "decided_by__last_name", "decided_by__email")
    )
    return [
        VerifierDecisions(
            name=f"{row['decided_by__first_name']} {row['decided_by__last_name']}".strip() or row["decided_by__email"],
            decided=row["decided"],
        )
        for row in rows
    ]


def program_year_status_counts(*, program_year: ProgramYear, today: date | None = None) -> dict[str, int]:
    """Members of the year by status (met, on track, at risk, opted out…), computed in SQL in one query."""
    from contributions import standing

    sql, params = standing.standing_rows(program_year=program_year, today=_today(today))
    return standing.status_counts(sql=sql, params=params)


# --- The contribution form's live preview ---------------------------------------------------------


@dataclass
class ClaimPreview:
    """What a claim would earn, shown beside the form before the member submits it."""

    activity_type: ActivityType | None = None
    quantity: Decimal | None = None
    points: int | None = None
    cap_left: int | None = None  # of the type's annual cap, after what already counts or waits
    counted: int | None = None  # the points of this claim that would count under the cap
    refusal: str = ""  # the quantity is over the type's maximum per claim
    hint: str = ""


def claim_preview(*, user: User, activity_type_id: int | None, quantity) -> ClaimPreview:
    """The preview for a type and quantity as typed (anything unreadable becomes a hint, never an error)."""
    from contributions.services import points_for, quantity_refusal

    activity_type = (
        activity_types_open_for_submission().filter(pk=activity_type_id).first() if activity_type_id else None
    )
    if activity_type is None:
        return ClaimPreview(hint=_("Choose an activity type to see the points it earns."))
    try:
        amount = Decimal(str(quantity).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= Decimal(10) ** 6:
        return ClaimPreview(activity_type=activity_type, hint=_("Enter a quantity (a number above 0)."))
    preview = ClaimPreview(activity_type=activity_type, quantity=amount)
    refusal = quantity_refusal(activity_type=activity_type, quantity=amount)
    if refusal:
        preview.refusal = refusal
        return preview
    preview.points = points_for(activity_type=activity_type, quantity=amount)
    preview.counted = preview.points
    if activity_type.annual_cap is not None:
        used = (
            Contribution.objects.filter(
                member=user,
                activity_type=activity_type,
                state__in=[Contribution.State.VERIFIED, *Contribution.PENDING_STATES],
            ).aggregate(
                points=Sum(
                    Case(
                        When(state=Contribution.State.VERIFIED, then=Coalesce("awarded_points", "claimed_points")),
                        default=F("claimed_points"),
                    )
                )
            )["points"]
            or 0
        )
        preview.cap_left = max(0, activity_type.annual_cap - used)
        preview.counted = min(preview.points, preview.cap_left)
    return preview


def member_ids_with_status_sql(
    *, program_year: ProgramYear, status: str, today: date | None = None
) -> tuple[str, list]:
    """SQL (and its parameters) selecting the ids of the year's MAs whose status is `status`, to use as a
    subquery (`pk__in=RawSQL(...)`): the roster filters by this year's status in one query."""
    from contributions import standing

    sql, params = standing.standing_rows(program_year=program_year, today=_today(today), status=status)
    return f"SELECT id FROM ({sql}) members_with_status", params  # noqa: S608 - values are parameters
