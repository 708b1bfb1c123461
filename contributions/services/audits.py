"""Risk-based audits of verified contributions (issue 17): sampling, the member's answer, the conclusion.

Every verified contribution has at least the year's audit rate as its chance of being chosen (the
random floor, as PMI and (ISC)² audit a random share); each risk it shows multiplies that chance up:

    chance = min(1, rate × (1 + sum of the weights of its risks))

so with a 5 % rate a claim with no risk has 5 %, one with evidence by link only 10 %, one that is also
the member's first of its type 15 %. The weekly job looks at the contributions verified since its
last run, in id order, and draws one number per contribution from a generator seeded with the run's
seed (recorded on the run): the same seed on the same data chooses the same claims.

An audit asks the member for evidence by a date (a notification); the member answers on the item; a
verifier confirms the claim or reverses it, a reversal being the decision correction of the staff
console (`services.contribution_correct`), so the points, the history and the member's message are the
ones every correction leaves.
"""

import bisect
import random
import secrets
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import notification_create
from contributions import selectors
from contributions.errors import ContributionError
from contributions.models import Audit, AuditRun, Contribution, ProgramYear

# The risks, their weight in the chance of being chosen, and what staff read.
RISK_WEIGHTS = {
    "points_above_usual": 2,
    "first_of_type": 1,
    "verifier_burst": 2,
    "just_over_target": 2,
    "link_only": 1,
}
RISK_LABELS = {
    "points_above_usual": gettext_lazy("Points well above the type's usual"),
    "first_of_type": gettext_lazy("The member's first claim of this type"),
    "verifier_burst": gettext_lazy("Many claims verified by one verifier in a short time"),
    "just_over_target": gettext_lazy("The claim that just took the member over the target"),
    "link_only": gettext_lazy("Evidence by link only"),
}
USUAL_FACTOR = 1.5  # awarded points above 1.5 × the type's median...
USUAL_MIN_CLAIMS = 5  # ...once the type has at least this many verified claims to know its usual
BURST_COUNT = 10  # this many verifications by one verifier...
BURST_WINDOW = timedelta(hours=1)  # ...within an hour either side of the claim's
JUST_OVER_SHARE = 0.10  # over the target by at most 10 % of it, and below it without the claim
EVIDENCE_DAYS = 14  # the member has this many days to send evidence

AUDIT_REQUESTED_KIND = "maintenance.audit_requested"
AUDIT_CONCLUDED_KIND = "maintenance.audit_concluded"


def risk_labels(reasons: list[str]) -> list[str]:
    return [str(RISK_LABELS.get(reason, reason)) for reason in reasons]


def audit_probability(*, rate: int, reasons: list[str]) -> float:
    """The chance a verified contribution is chosen: the rate, multiplied up by its risks, at most 1."""
    return min(1.0, rate / 100 * (1 + sum(RISK_WEIGHTS[reason] for reason in reasons)))


def audit_risks(*, contributions: list[Contribution]) -> dict[int, list[str]]:
    """The risks of each verified contribution, by id, in `RISK_WEIGHTS` order; a fixed number of queries."""
    found: dict[int, set[str]] = {c.pk: set() for c in contributions}
    if not contributions:
        return {}
    _above_usual(contributions, found)
    _first_of_type(contributions, found)
    _verifier_burst(contributions, found)
    _just_over_target(contributions, found)
    for c in contributions:
        if c.evidence_url and not c.evidence_file:
            found[c.pk].add("link_only")
    return {pk: [r for r in RISK_WEIGHTS if r in reasons] for pk, reasons in found.items()}


def _verified() -> QuerySet[Contribution]:
    return Contribution.objects.filter(state=Contribution.State.VERIFIED)


def _above_usual(contributions: list[Contribution], found: dict[int, set[str]]) -> None:
    awarded: dict[int, list[int]] = defaultdict(list)
    rows = _verified().filter(activity_type_id__in={c.activity_type_id for c in contributions})
    for type_id, points in rows.values_list("activity_type_id", "awarded_points"):
        awarded[type_id].append(points or 0)
    for c in contributions:
        usual = awarded[c.activity_type_id]
        if len(usual) >= USUAL_MIN_CLAIMS and (c.awarded_points or 0) > USUAL_FACTOR * statistics.median(usual):
            found[c.pk].add("points_above_usual")


def _first_of_type(contributions: list[Contribution], found: dict[int, set[str]]) -> None:
    """No earlier verified claim by the member of a type with the same code (in any year)."""
    rows = _verified().filter(member_id__in={c.member_id for c in contributions})
    earliest: dict[tuple[int, str], tuple] = {}
    for member_id, code, decided_at, pk in rows.values_list("member_id", "activity_type__code", "decided_at", "pk"):
        key, when = (member_id, code), (decided_at or timezone.now(), pk)
        earliest[key] = min(earliest.get(key, when), when)
    codes = dict(
        Contribution.objects.filter(pk__in=[c.pk for c in contributions]).values_list("pk", "activity_type__code")
    )
    for c in contributions:
        if earliest.get((c.member_id, codes[c.pk])) == (c.decided_at or timezone.now(), c.pk):
            found[c.pk].add("first_of_type")


def _verifier_burst(contributions: list[Contribution], found: dict[int, set[str]]) -> None:
    decided = [
        (c, c.decided_by_id, c.decided_at) for c in contributions if c.decided_by_id and c.decided_at is not None
    ]
    if not decided:
        return
    start = min(at for _c, _by, at in decided) - BURST_WINDOW
    end = max(at for _c, _by, at in decided) + BURST_WINDOW
    times: dict[int, list[datetime]] = defaultdict(list)
    rows = _verified().filter(
        decided_by_id__in={by for _c, by, _at in decided}, decided_at__gte=start, decided_at__lte=end
    )
    for verifier_id, decided_at in rows.values_list("decided_by_id", "decided_at"):
        if verifier_id is not None and decided_at is not None:  # both filtered on above
            times[verifier_id].append(decided_at)
    for moments in times.values():
        moments.sort()
    for c, by, at in decided:
        moments = times[by]
        within = bisect.bisect_right(moments, at + BURST_WINDOW) - bisect.bisect_left(moments, at - BURST_WINDOW)
        if within >= BURST_COUNT:
            found[c.pk].add("verifier_burst")


def _just_over_target(contributions: list[Contribution], found: dict[int, set[str]]) -> None:
    by_year: dict[int, list[Contribution]] = defaultdict(list)
    for c in contributions:
        by_year[c.program_year_id].append(c)
    for program_year in ProgramYear.objects.filter(pk__in=list(by_year)):
        claims = by_year[program_year.pk]
        members = list(User.objects.filter(pk__in={c.member_id for c in claims}).select_related("certification"))
        standing = {row.member.pk: row for row in selectors.member_years(program_year=program_year, members=members)}
        for c in claims:
            row = standing.get(c.member_id)
            if row is None:
                continue
            target, verified = row.target_points, row.verified
            if target <= verified <= target * (1 + JUST_OVER_SHARE) and verified - (c.awarded_points or 0) < target:
                found[c.pk].add("just_over_target")


# --- Sampling ---------------------------------------------------------------------------------------------


@dataclass
class AuditSample:
    run: AuditRun | None
    considered: int = 0
    sampled_ids: list[int] = field(default_factory=list)
    chances: dict[int, float] = field(default_factory=dict)


def audits_sample(
    *, program_year_id: int, seed: int | None = None, dry_run: bool = False, now: datetime | None = None
) -> AuditSample:
    """Choose this run's audits among the contributions verified since the last run (see the module).

    The program year's row is locked, so two runs at once (a retried task) take turns and the second
    finds nothing new. `dry_run` computes the choice and writes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        program_year = ProgramYear.objects.select_for_update(no_key=True).get(pk=program_year_id)
        if not program_year.audit_rate:
            return AuditSample(run=None)
        seed = secrets.randbits(62) if seed is None else seed
        last = program_year.audit_runs.order_by("-verified_until").values_list("verified_until", flat=True).first()
        candidates = (
            _verified()
            # Members' own claims: opportunity and community credits are counted by MA Home itself.
            .filter(program_year=program_year, source=Contribution.Source.MANUAL, decided_at__lt=now)
            .filter(audits__isnull=True)
            .order_by("pk")
        )
        if last is not None:
            candidates = candidates.filter(decided_at__gte=last)
        considered = list(candidates)
        risks = audit_risks(contributions=considered)
        generator = random.Random(seed)
        sample = AuditSample(run=None, considered=len(considered))
        for contribution in considered:
            chance = audit_probability(rate=program_year.audit_rate, reasons=risks[contribution.pk])
            if generator.random() < chance:
                sample.sampled_ids.append(contribution.pk)
                sample.chances[contribution.pk] = chance
        if dry_run:
            return sample
        run = AuditRun(
            program_year=program_year,
            ran_at=now,
            verified_until=now,
            rate=program_year.audit_rate,
            seed=seed,
            considered=len(considered),
            sampled=len(sample.sampled_ids),
        )
        run.full_clean()
        run.save()
        sample.run = run
        for pk in sample.sampled_ids:
            audit_open(contribution_id=pk, reasons=risks[pk], probability=sample.chances[pk], run=run)
        return sample


@transaction.atomic
def audit_open(
    *, contribution_id: int, reasons: list[str], probability: float, run: AuditRun | None, today: date | None = None
) -> Audit:
    """Open an audit of a verified contribution and ask the member for evidence by a date."""
    contribution = Contribution.objects.select_related("member").get(pk=contribution_id)
    due = (today or timezone.localdate()) + timedelta(days=EVIDENCE_DAYS)
    audit = Audit(
        contribution=contribution, run=run, reasons=list(reasons), probability=probability, evidence_due_on=due
    )
    audit.full_clean(exclude=["contribution", "run"])
    audit.save()
    notification_create(
        user=contribution.member,
        kind=AUDIT_REQUESTED_KIND,
        title=_("Your contribution “%(title)s” was selected for an audit") % {"title": contribution.title},
        body=_(
            "Each year the program checks a share of verified contributions. Please send evidence for "
            "“%(title)s” by %(date)s: open the item and answer there (a few words and a link or where the "
            "evidence can be found). Until then your points stay as they are."
        )
        % {"title": contribution.title, "date": date_format(due)},
        url=reverse("contributions:detail", args=[contribution.pk]),
        dedupe_key=f"audit:{audit.pk}",
    )
    return audit


def audit_open_for_member(*, contribution: Contribution) -> Audit | None:
    """The member's open audit on this contribution, if any (the item's page shows it)."""
    return contribution.audits.filter(state__in=Audit.OPEN_STATES).first()


@transaction.atomic
def audit_answer(*, contribution_id: int, member: User, answer: str, evidence_url: str = "") -> Audit:
    """The member answers the audit on their own item (another member's item: DoesNotExist, a 404)."""
    audit = (
        Audit.objects.select_for_update(of=("self",), no_key=True)
        .select_related("contribution")
        .get(contribution_id=contribution_id, contribution__member=member, state__in=Audit.OPEN_STATES)
    )
    answer = (answer or "").strip()
    if not answer:
        raise ContributionError(_("Write what you did and where the evidence is before sending your answer."))
    audit.answer, audit.answer_url = answer, (evidence_url or "").strip()
    audit.answered_at = timezone.now()
    audit.state = Audit.State.ANSWERED
    audit.full_clean(exclude=["contribution", "run"])
    audit._history_user = member
    audit.save()
    return audit


def audit_conclude_refusal(*, staff: User) -> str | None:
    """Who concludes audits: staff who decide contributions (verifiers and program admins)."""
    if not (staff.is_active and staff.is_staff and staff.has_perm("contributions.change_audit")):
        return _("Only verifiers and program admins conclude audits.")
    return None


class AuditOutcome(models.TextChoices):
    """How a verifier concludes an audit: the claim stands, or it is reversed (each an admin action)."""

    CONFIRM = "confirm", gettext_lazy("Confirm the claims")
    REVERSE = "reverse", gettext_lazy("Reverse the claims")


CONCLUDED_STATES = {AuditOutcome.CONFIRM: Audit.State.CONFIRMED, AuditOutcome.REVERSE: Audit.State.REVERSED}


def audit_conclude(*, audit_id: int, staff: User, outcome: str, note: str) -> Audit:
    """Confirm the claim, or reverse it through the decision correction (the member is told either way)."""
    from contributions import services

    refusal = audit_conclude_refusal(staff=staff)
    if refusal:
        raise PermissionDenied(refusal)
    if outcome not in AuditOutcome.values:
        raise ValueError(outcome)
    note = (note or "").strip()
    if not note:
        raise ContributionError(_("Give the reason: what the evidence showed. The member will see it."))
    with transaction.atomic():
        audit = (
            Audit.objects.select_for_update(of=("self",), no_key=True).select_related("contribution").get(pk=audit_id)
        )
        if audit.state not in Audit.OPEN_STATES:
            raise ContributionError(
                _("This audit is already concluded (%(state)s).") % {"state": audit.get_state_display().lower()}
            )
        contribution = audit.contribution
        if outcome == AuditOutcome.REVERSE:
            services.contribution_correct(
                contribution_id=contribution.pk,
                staff=staff,
                state=Contribution.State.REJECTED,
                awarded_points=None,
                reason=_("Audit: %(note)s") % {"note": note},
            )
        audit.state = CONCLUDED_STATES[AuditOutcome(outcome)]
        audit.concluded_at = timezone.now()
        audit.concluded_by = staff
        audit.outcome_note = note
        audit.full_clean(exclude=["contribution", "run", "concluded_by"])
        audit._history_user = staff
        audit.save()
        if outcome == AuditOutcome.CONFIRM:
            notification_create(
                user=contribution.member,
                kind=AUDIT_CONCLUDED_KIND,
                title=_("The audit of “%(title)s” confirmed your claim") % {"title": contribution.title},
                body=_("Thank you for the evidence. %(note)s") % {"note": note},
                url=reverse("contributions:detail", args=[contribution.pk]),
                dedupe_key=f"audit-concluded:{audit.pk}",
            )
        return audit


def audits_sample_due(*, today: date | None = None) -> list[AuditSample]:
    """The weekly job: sample every program year that takes audits and is running (or in its grace)."""
    today = today or timezone.localdate()
    samples = []
    for program_year_id in (
        ProgramYear.objects.filter(audit_rate__gt=0, opens_on__lte=today).order_by("year").values_list("pk", flat=True)
    ):
        program_year = ProgramYear.objects.get(pk=program_year_id)
        last_day = max(program_year.deadline, program_year.grace_until or program_year.deadline)
        if today <= last_day + timedelta(days=30):  # claims verified just after the deadline are sampled too
            samples.append(audits_sample(program_year_id=program_year_id))
    return samples
