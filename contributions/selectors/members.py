"""Standing of members in a year: `member_years` computes, for many members at once and in a fixed
number of queries, what the dashboard shows for one: target (and why), capped verified and pending
points, requirements, status. The dashboard, the admin report, the reminders and the review read it."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import (
    CharField,
    DateField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth

from accounts.models import MACertification, User
from contributions import rules
from contributions.models import (
    ActivityType,
    Contribution,
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    TargetOverride,
    TechnicalRequirement,
)
from contributions.selectors.certificates import current_certificate_number
from contributions.selectors.common import _today


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
    report: Contribution | None = None  # the member's latest report of it, if any (asked `with_reports`)
    open_report_state: str | None = None  # the state of the member's open report of it, if any (always read)
    opted_out: bool = False  # the member opted out of the year

    @property
    def is_met(self) -> bool:
        return self.met_on is not None

    @property
    def progress(self) -> rules.RequirementProgress:
        """What the dashboard and the year report both show (`rules.requirement_progress`)."""
        return rules.requirement_progress(
            met=self.is_met,
            owed=self.owed,
            overdue=self.overdue,
            open_report_state=self.open_report_state,
            opted_out=self.opted_out,
        )

    @property
    def progress_label(self) -> str:
        return str(self.progress.label)

    @property
    def progress_pill(self) -> str:
        return rules.REQUIREMENT_PILLS[self.progress]

    @property
    def report_open(self) -> bool:
        return self.open_report_state is not None

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


# --- Standing of members in a year ----------------------------------------------------------


def eligible_members(*, program_year: ProgramYear) -> QuerySet[User]:
    """MAs who hold a certificate in this year: qualified before its deadline and not lapsed since, with
    their certification and current certificate number, in name order.

    A member whose certification lapsed (or who opted out) in an earlier year is no longer an MA,
    unless they qualified again after that year.
    """
    return (
        certified_in(program_year=program_year)
        .select_related("certification")
        .annotate(current_certificate_number=current_certificate_number())
        .order_by("last_name", "first_name", "email")
    )


def certified_in(*, program_year: ProgramYear) -> QuerySet[User]:
    """The members of `eligible_members`, the rule alone: no column added, no order (a page of them reads
    only its own rows' certificates)."""
    earlier_exit = ReviewOutcome.objects.ending_certification_before(
        program_year=program_year, qualified_on=OuterRef("certification__qualified_on")
    ).filter(member=OuterRef("pk"))
    return User.objects.filter(is_active=True, certification__qualified_on__lt=program_year.deadline).exclude(
        Exists(earlier_exit)
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
    The queries are `_year_inputs`; each member's standing is the pure `member_year_from`.
    """
    today = _today(today)
    inputs = _year_inputs(program_year=program_year, members=members, by_month=by_month, with_reports=with_reports)
    return [member_year_from(member=member, inputs=inputs, today=today) for member in members]


@dataclass
class YearInputs:
    """What `member_years` reads of the database for a year and a set of members."""

    program_year: ProgramYear
    requirements: list[TechnicalRequirement]
    statuses: dict[tuple[int, int], date | None]
    open_reports: dict[tuple[int, int], str]  # the state of each open requirement report, by (member, requirement)
    reports: dict[tuple[int, int | None], Contribution]  # keyed by (member, requirement)
    overrides: dict[int, TargetOverride]
    opt_outs: dict[int, OptOut]
    outcomes: dict[int, ReviewOutcome]
    raw: dict[int, dict[int, TypeTotal]]
    monthly: dict[int, list] | None  # None: not asked for by month


def _year_inputs(*, program_year: ProgramYear, members: list[User], by_month: bool, with_reports: bool) -> YearInputs:
    # `.order_by()` on the lookups below: they fill dicts, and the models' default orderings join other tables.
    member_ids = [m.pk for m in members]
    in_year = {"program_year": program_year, "member_id__in": member_ids}
    statuses, open_reports = _requirement_statuses_and_open_reports(program_year=program_year, member_ids=member_ids)
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
    raw, monthly = _type_totals_raw(program_year=program_year, member_ids=member_ids, by_month=by_month)
    return YearInputs(
        program_year=program_year,
        requirements=list(TechnicalRequirement.objects.filter(program_year=program_year).order_by("due_on", "name")),
        statuses=statuses,
        open_reports=open_reports,
        reports=reports,
        **_year_records(program_year=program_year, members=members, in_year=in_year),
        raw=raw,
        monthly=monthly if by_month else None,
    )


def _requirement_statuses_and_open_reports(
    *, program_year: ProgramYear, member_ids: list[int]
) -> tuple[dict[tuple[int, int], date | None], dict[tuple[int, int], str]]:
    """The members' requirement statuses of the year (met on, by member and requirement) and the states of
    their open reports of a requirement, in one query (a UNION ALL): the year report shows a reported
    requirement as the dashboard does (`rules.requirement_progress`) without a query more per page."""
    statuses = (
        RequirementStatus.objects.filter(requirement__program_year=program_year, member_id__in=member_ids)
        .order_by()
        .annotate(report_state=Value(None, output_field=CharField()))
        .values_list("member_id", "requirement_id", "met_on", "report_state")
    )
    open_reports = (
        Contribution.objects.filter(
            requirement__program_year=program_year, member_id__in=member_ids, state__in=Contribution.OPEN_STATES
        )
        .order_by()
        .annotate(met=Value(None, output_field=DateField()))
        .values_list("member_id", "requirement_id", "met", "state")
    )
    met: dict[tuple[int, int], date | None] = {}
    reported: dict[tuple[int, int], str] = {}
    for member_id, requirement_id, met_on, report_state in statuses.union(open_reports, all=True):
        if report_state is None:
            met[(member_id, requirement_id)] = met_on
        else:
            reported[(member_id, requirement_id)] = report_state
    return met, reported


# The member's records of a year that exist at most once (unique per member and year), as `with_year_records`
# joins them: the attribute each lands in, the relation it comes from.
YEAR_RECORDS = {"override": "target_overrides", "opt_out": "opt_outs", "outcome": "review_outcomes"}
JOINED_FOR_YEAR = "year_records_joined_for"


def with_year_records(members: QuerySet[User], *, program_year: ProgramYear) -> QuerySet[User]:
    """`members` with their target override, opt-out and review outcome of `program_year` joined in the
    same query (one row each at most): `member_years` reads them there instead of asking three more queries
    (a page of the year report). Each member carries the year they were joined for, checked on reading."""
    joined = {
        f"year_{kind}": FilteredRelation(relation, condition=Q(**{f"{relation}__program_year": program_year}))
        for kind, relation in YEAR_RECORDS.items()
    }
    return members.annotate(
        **joined, **{JOINED_FOR_YEAR: Value(program_year.pk, output_field=IntegerField())}
    ).select_related(*joined)


def _year_records(*, program_year: ProgramYear, members: list[User], in_year: dict) -> dict[str, dict]:
    """overrides, opt_outs and outcomes by member id: from `with_year_records`' join when every member came
    through it for this year, else one query each."""
    if members and all(getattr(m, JOINED_FOR_YEAR, None) == program_year.pk for m in members):
        return {
            f"{kind}s": {m.pk: record for m in members if (record := getattr(m, f"year_{kind}", None)) is not None}
            for kind in YEAR_RECORDS
        }
    return {
        "overrides": {o.member_id: o for o in TargetOverride.objects.filter(**in_year).order_by()},
        "opt_outs": {o.member_id: o for o in OptOut.objects.filter(**in_year).order_by()},
        "outcomes": {o.member_id: o for o in ReviewOutcome.objects.filter(**in_year).order_by()},
    }


def _type_totals_raw(
    *, program_year: ProgramYear, member_ids: list[int], by_month: bool
) -> tuple[dict[int, dict[int, TypeTotal]], dict[int, list]]:
    """Each member's uncapped points per activity type (verified, pending, needing information)."""
    types = {
        t.pk: t
        for t in ActivityType.objects.filter(program_year=program_year)
        .exclude(tracking=ActivityType.Tracking.REQUIREMENT)
        .order_by()
    }
    raw: dict[int, dict[int, TypeTotal]] = defaultdict(dict)
    monthly: dict[int, list] = defaultdict(list)
    if not by_month:
        for member_id, type_id, verified, pending, needs_info in _points_by_type(program_year, member_ids):
            if type_id in types:
                raw[member_id][type_id] = TypeTotal(
                    types[type_id], verified_raw=verified, pending_raw=pending, needs_info_raw=needs_info
                )
        return raw, monthly
    grouping = ["member_id", "activity_type_id", "state", "month"]
    rows = (
        Contribution.objects.filter(program_year=program_year, member_id__in=member_ids)
        .exclude(state__in=_NOT_COUNTED)
        .annotate(month=TruncMonth("occurred_on"))
    )
    sums = {"claimed": Sum("claimed_points"), "awarded": Sum(Coalesce("awarded_points", F("claimed_points")))}
    grouped = rows.values(*grouping).annotate(**sums).order_by(*grouping)
    for row in grouped:
        type_id = row["activity_type_id"]
        _add_to_type_totals(raw[row["member_id"]], type_id, types, row["state"], row["claimed"], row["awarded"])
        if type_id in types:
            monthly[row["member_id"]].append(row)
    return raw, monthly


_VERIFIED, _NEEDS_INFO = str(Contribution.State.VERIFIED), str(Contribution.State.NEEDS_INFO)
_NOT_COUNTED = (Contribution.State.DRAFT, Contribution.State.WITHDRAWN, Contribution.State.REJECTED)


def _points_by_type(program_year: ProgramYear, member_ids: list[int]) -> list[tuple[int, int, int, int, int]]:
    """(member, type, verified, pending, needing information) of the members' counted contributions of the
    year, uncapped, one row per member and type: what `_add_to_type_totals` adds up, summed in SQL.

    Without the ORM: a page of the year report (100 members, ~2,000 contributions, ~1,000 groups) spent
    ~2.3 ms building and converting the grouped query and ~2 ms adding its rows by state in Python, as
    much as the query itself. `tests/contributions/test_type_totals_read.py` checks these totals against
    the month-by-month read (the ORM's)."""
    if not member_ids:
        return []
    table, column = Contribution._meta.db_table, {f.name: f.column for f in Contribution._meta.concrete_fields}
    member, kind, year = column["member"], column["activity_type"], column["program_year"]
    state, claimed, awarded = column["state"], column["claimed_points"], column["awarded_points"]
    members = ", ".join(["%s"] * len(member_ids))
    # Names from the model; every value is a parameter.
    sql = (
        f"SELECT {member}, {kind}, "  # noqa: S608
        f"COALESCE(SUM(COALESCE({awarded}, {claimed})) FILTER (WHERE {state} = %s), 0), "
        f"COALESCE(SUM({claimed}) FILTER (WHERE {state} <> %s), 0), "
        f"COALESCE(SUM({claimed}) FILTER (WHERE {state} = %s), 0) "
        f"FROM {table} WHERE {year} = %s AND {member} IN ({members}) AND {state} NOT IN (%s, %s, %s) "
        f"GROUP BY {member}, {kind}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_VERIFIED, _VERIFIED, _NEEDS_INFO, program_year.pk, *member_ids, *_NOT_COUNTED])
        return cursor.fetchall()


def _add_to_type_totals(
    totals: dict[int, TypeTotal], type_id: int, types: dict[int, ActivityType], state: str, claimed: int, awarded: int
) -> None:
    """One (member, type, state) sum added to the member's uncapped totals (a type not counted: skipped)."""
    total = totals.get(type_id)
    if total is None:
        if type_id not in types:
            return
        total = totals[type_id] = TypeTotal(types[type_id])
    if state == _VERIFIED:
        total.verified_raw += awarded or 0
    else:
        total.pending_raw += claimed or 0
        if state == _NEEDS_INFO:
            total.needs_info_raw += claimed or 0


def capped_type_totals(raw: dict[int, TypeTotal]) -> list[TypeTotal]:
    """The member's type totals in catalogue order, each within its annual cap (`rules.capped`);
    pending points count only up to the cap's remaining headroom."""
    type_totals = sorted(raw.values(), key=lambda t: (t.activity_type.category, t.activity_type.name))
    for total in type_totals:
        total.verified, total.excess = rules.capped(total.verified_raw, total.activity_type.annual_cap)
        headroom = None if total.activity_type.annual_cap is None else total.activity_type.annual_cap - total.verified
        total.pending = total.pending_raw if headroom is None else min(total.pending_raw, headroom)
        total.needs_info = min(total.needs_info_raw, total.pending)
    return type_totals


def _requirement_states(
    *, member_id: int, inputs: YearInputs, qualified_on: date | None, today: date
) -> list[RequirementState]:
    states = []
    opted_out = member_id in inputs.opt_outs
    for r in inputs.requirements:
        owed = rules.requirement_owed(due_on=r.due_on, qualified_on=qualified_on)
        met_on = inputs.statuses.get((member_id, r.pk))
        states.append(
            RequirementState(
                requirement=r,
                met_on=met_on,
                overdue=rules.requirement_overdue(due_on=r.due_on, met=met_on is not None, owed=owed, today=today),
                owed=owed,
                report=inputs.reports.get((member_id, r.pk)),
                open_report_state=inputs.open_reports.get((member_id, r.pk)),
                opted_out=opted_out,
            )
        )
    return states


def member_year_from(*, member: User, inputs: YearInputs, today: date) -> MemberYear:
    """One member's standing from what `_year_inputs` read: no query but the member's certification."""
    program_year = inputs.program_year
    certification = _certification_of(member)
    qualified_on = certification.qualified_on if certification else None
    target = rules.prorated_target(
        base=program_year.target_points,
        method=program_year.prorating_method,
        qualified_on=qualified_on,
        opens_on=program_year.opens_on,
        deadline=program_year.deadline,
    )
    type_totals = capped_type_totals(inputs.raw.get(member.pk, {}))
    requirement_states = _requirement_states(member_id=member.pk, inputs=inputs, qualified_on=qualified_on, today=today)
    start = max(program_year.opens_on, qualified_on) if qualified_on else program_year.opens_on
    share = rules.elapsed_share(today=today, start=start, deadline=program_year.deadline)
    override = inputs.overrides.get(member.pk)
    target_points = override.target_points if override else target.points
    verified = sum(t.verified for t in type_totals)
    pending = sum(t.pending for t in type_totals)
    outcome = inputs.outcomes.get(member.pk)
    status = rules.status_for(
        target=target_points,
        verified=verified,
        pending=pending,
        requirements_met=all(r.is_met or not r.owed for r in requirement_states),
        share=share,
        opted_out=member.pk in inputs.opt_outs,
        outcome=outcome.outcome if outcome else None,
        new_member=rules.is_new_member(qualified_on=qualified_on, today=today),
    )
    return MemberYear(
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
        opt_out=inputs.opt_outs.get(member.pk),
        outcome=outcome,
        share=share,
        status=status,
        today=today,
        monthly={"rows": inputs.monthly.get(member.pk, [])} if inputs.monthly is not None else {},
        needs_info=sum(t.needs_info for t in type_totals),
    )


def _certification_of(member: User) -> MACertification | None:
    try:
        return member.certification
    except MACertification.DoesNotExist:
        return None


def member_year_for(*, user: User, program_year: ProgramYear, today: date | None = None) -> MemberYear:
    return member_years(program_year=program_year, members=[user], today=today)[0]
