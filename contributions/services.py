"""Every write of points: member submissions, verification and auto-tracked credits.

Other apps (engagements, community_levels) credit points only through these functions.
"""

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Notification, User
from accounts.services import notification_create, notifications_create_many
from contributions import rules
from contributions.certificate_services import (  # noqa: F401 - certificate writes are contributions services too
    certificate_reissue,
    certificate_revoke,
    certificate_set_public,
    certificates_issue_missing,
    renewal_certificate,
)
from contributions.errors import ContributionError  # the one domain error, re-exported
from contributions.evidence import display_name, evidence_check, stored_name
from contributions.models import (
    ActivityType,
    Certificate,
    Contribution,
    ContributionMessage,
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    ReviewRun,
    TargetOverride,
    TechnicalRequirement,
)
from mahome.locks import locked_or_busy


def points_for(*, activity_type: ActivityType, quantity: Decimal | int) -> int:
    """Claimed points: the type's points times the quantity, rounded half up."""
    return int((Decimal(activity_type.points) * Decimal(quantity)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


UNITS_PLURAL = {
    ActivityType.Unit.ITEM: gettext_lazy("items"),
    ActivityType.Unit.HOUR: gettext_lazy("hours"),
    ActivityType.Unit.SESSION: gettext_lazy("sessions"),
}


def quantity_refusal(*, activity_type: ActivityType, quantity: Decimal | int) -> str | None:
    """Why one claim of `quantity` is refused for this type (over its maximum per claim), or None."""
    limit = activity_type.max_quantity_per_claim
    if Decimal(quantity) <= limit:
        return None
    return _(
        "“%(type)s” allows at most %(limit)s %(units)s per claim. For more, log separate contributions, "
        "each with its own date."
    ) % {"type": activity_type.name, "limit": f"{limit.normalize():f}", "units": UNITS_PLURAL[activity_type.unit]}


def program_year_for_date(*, day: date) -> ProgramYear | None:
    """The program year a contribution dated `day` counts toward (`ProgramYear.objects.containing`)."""
    return ProgramYear.objects.containing(day)


def activity_type_for_date(*, activity_type: ActivityType, day: date) -> ActivityType:
    """The type a contribution of `activity_type` dated `day` is credited as (see below); for other apps."""
    return _activity_type_of_the_year(activity_type=activity_type, day=day)


def _activity_type_of_the_year(*, activity_type: ActivityType, day: date) -> ActivityType:
    """A contribution counts toward the program year its date falls in.

    An engagement planned under one year's catalogue but held in the next (a January keynote
    booked in November) is credited to the same activity type of the year it happened in,
    when that year's catalogue has one; otherwise to the type it was planned under.
    """
    year = activity_type.program_year
    if year.opens_on <= day < year.deadline:
        return activity_type
    same_type = (
        ActivityType.objects.select_related("program_year")
        .filter(code=activity_type.code, program_year__opens_on__lte=day, program_year__deadline__gt=day)
        .order_by("-program_year__year")
        .first()
    )
    return same_type or activity_type


@transaction.atomic
def contribution_credit_automatic(
    *,
    member: User,
    activity_type: ActivityType,
    occurred_on: date,
    title: str,
    source_key: str,
    source: str,
    quantity: Decimal | int = 1,
    points: int | None = None,
    description: str = "",
) -> tuple[Contribution, bool]:
    """Credit an auto-tracked, already verified contribution exactly once per `source_key`.

    The unique constraint on `source_key` decides: a second call (a retry, a second admin tab,
    a concurrent job) finds the existing row and returns it with `created=False`.
    """
    if not source_key:
        raise ValueError("An automatic credit needs a source_key.")
    activity_type = _activity_type_of_the_year(activity_type=activity_type, day=occurred_on)
    claimed = points if points is not None else points_for(activity_type=activity_type, quantity=quantity)
    contribution = Contribution(
        member=member,
        program_year=activity_type.program_year,
        activity_type=activity_type,
        title=title[:200],
        description=description,
        occurred_on=occurred_on,
        quantity=quantity,
        state=Contribution.State.VERIFIED,
        claimed_points=claimed,
        awarded_points=claimed,
        source=source,
        source_key=source_key,
        submitted_at=timezone.now(),
        decided_at=timezone.now(),
        decision_note="Credited automatically.",
    )
    contribution.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            contribution.save()
    except IntegrityError:
        existing = Contribution.objects.filter(source_key=source_key).first()
        if existing is None:
            raise
        return existing, False
    return contribution, True


# How long a staff write waits for a row another request holds before answering "busy".
LOCK_TIMEOUT = "5s"


def _locked_write(busy_message: str, *, durable: bool = False):
    """Run a locking service in a transaction with a short lock_timeout: a row held by someone
    else makes it answer `busy_message` instead of piling requests up behind the lock.
    `durable` for entry points no other transaction may wrap (a member's page)."""

    def decorate(service):
        @functools.wraps(service)
        def locked(*args, **kwargs):
            with locked_or_busy(
                busy=busy_message, error_class=ContributionError, durable=durable, timeout=LOCK_TIMEOUT
            ):
                return service(*args, **kwargs)

        return locked

    return decorate


def _staff_write(busy_message: str):
    """A staff write: the lock timeout, not durable (the admin's actions and forms call these inside
    their own transaction)."""
    return _locked_write(busy_message)


# A member's own item is locked by a verifier deciding on it; the member's page then answers this.
BUSY_OWN = gettext_lazy(
    "This contribution is being changed elsewhere right now (perhaps a verifier is deciding on it); "
    "try again in a moment."
)


# --- Member submissions -----------------------------------------------------------------------

EDITABLE_STATES = (Contribution.State.DRAFT, Contribution.State.NEEDS_INFO)
WITHDRAWABLE_STATES = (Contribution.State.DRAFT, *Contribution.PENDING_STATES)
DECISIONS = ("verify", "reject", "needs_info")


def submission_refusal(*, program_year: ProgramYear, today: date) -> str | None:
    """Why a member cannot submit for this year today (None while `ProgramYear.takes_submissions`).

    The form that explains a type no longer offered and every submitting service say the same words.
    """
    if program_year.takes_submissions(today):
        return None
    return _(
        "The %(year)s program year closed on %(deadline)s: new submissions for it are no longer accepted. "
        "If you have a good reason, contact the program team; only they can open a grace period."
    ) % {"year": program_year.year, "deadline": date_format(program_year.deadline)}


def _submission_window_check(*, program_year: ProgramYear, today: date) -> None:
    refusal = submission_refusal(program_year=program_year, today=today)
    if refusal is not None:
        raise ContributionError(refusal)


def _date_check(*, activity_type: ActivityType, occurred_on: date, today: date) -> None:
    program_year = activity_type.program_year
    if occurred_on > today:
        raise ContributionError(_("The date cannot be in the future."))
    if not (program_year.opens_on <= occurred_on < program_year.deadline):
        raise ContributionError(date_outside_year_message(program_year=program_year, occurred_on=occurred_on))


def program_year_span(program_year: ProgramYear) -> str:
    """The year's days as members read them, both ends included: "1 Jan 2026 – 31 Dec 2026"."""
    return f"{date_format(program_year.opens_on)} – {date_format(program_year.deadline - timedelta(days=1))}"


def date_outside_year_message(*, program_year: ProgramYear, occurred_on: date) -> str:
    """Why a date does not fit the chosen type's year, and what would fit (a type of the date's year, if any)."""
    facts = {
        "date": date_format(occurred_on),
        "year": program_year.year,
        "span": program_year_span(program_year),
    }
    other = program_year_for_date(day=occurred_on)
    if other is None:
        return (
            _(
                "%(date)s is outside the %(year)s year (%(span)s). No program year covers %(date)s, so it "
                "cannot count: use a date within the %(year)s year."
            )
            % facts
        )
    offered = ActivityType.objects.filter(
        program_year=other, is_active=True, tracking=ActivityType.Tracking.MANUAL
    ).exists()
    if offered and other.takes_submissions(timezone.localdate()):
        return _(
            "%(date)s falls in the %(other)s program year, not %(year)s (%(span)s): choose a %(other)s "
            "activity type for it."
        ) % (facts | {"other": other.year})
    return _(
        "%(date)s falls in the %(other)s program year, which no longer takes submissions. The %(year)s year "
        "runs %(span)s: use a date within it."
    ) % (facts | {"other": other.year})


def _quantity_check(*, activity_type: ActivityType, quantity: Decimal | int) -> None:
    refusal = quantity_refusal(activity_type=activity_type, quantity=quantity)
    if refusal:
        raise ContributionError(refusal)


def _evidence_check_for_submit(contribution: Contribution) -> None:
    if contribution.activity_type.evidence_required and not (contribution.evidence_url or contribution.evidence_file):
        raise ContributionError(
            _("“%(type)s” needs evidence: add a link or a file before submitting.")
            % {"type": contribution.activity_type.name}
        )


def _evidence_attach(contribution: Contribution, evidence_file: UploadedFile) -> None:
    """Check the file's real type, keep the member's name for display, store it under the server's name."""
    try:
        kind = evidence_check(evidence_file)
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    contribution.evidence_name = display_name(evidence_file.name or "")
    evidence_file.name = stored_name(kind)
    contribution.evidence_file = evidence_file


def _save(contribution: Contribution, *, actor: User | None, reason: str = "") -> None:
    contribution._history_user = actor  # simple-history records who made the change
    if reason:
        contribution._change_reason = reason
    try:
        contribution.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    contribution.save()


@transaction.atomic
def contribution_create(
    *,
    member: User,
    activity_type: ActivityType,
    title: str,
    occurred_on: date,
    quantity: Decimal | int = 1,
    description: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    submit: bool = False,
    today: date | None = None,
) -> Contribution:
    """A member's new contribution (a draft, or submitted at once); points come from the type."""
    today = today or timezone.localdate()
    if activity_type.tracking != ActivityType.Tracking.MANUAL or not activity_type.is_active:
        raise ContributionError(
            _("“%(type)s” is credited automatically or no longer offered; it cannot be submitted by hand.")
            % {"type": activity_type.name}
        )
    _submission_window_check(program_year=activity_type.program_year, today=today)
    _date_check(activity_type=activity_type, occurred_on=occurred_on, today=today)
    _quantity_check(activity_type=activity_type, quantity=quantity)
    contribution = Contribution(
        member=member,
        program_year=activity_type.program_year,
        activity_type=activity_type,
        title=title,
        description=description,
        occurred_on=occurred_on,
        quantity=quantity,
        evidence_url=evidence_url,
        state=Contribution.State.DRAFT,
        claimed_points=points_for(activity_type=activity_type, quantity=quantity),
        source=Contribution.Source.MANUAL,
    )
    if evidence_file is not None:
        _evidence_attach(contribution, evidence_file)
    if submit:
        _evidence_check_for_submit(contribution)
        contribution.state = Contribution.State.SUBMITTED
        contribution.submitted_at = timezone.now()
    _save(contribution, actor=member)
    return contribution


@_locked_write(BUSY_OWN)
def contribution_update(
    *,
    contribution: Contribution,
    member: User,
    activity_type: ActivityType,
    title: str,
    occurred_on: date,
    quantity: Decimal | int,
    description: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    today: date | None = None,
) -> Contribution:
    """Change a draft, or answer a verifier's question on an item that needs more information."""
    today = today or timezone.localdate()
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state not in EDITABLE_STATES:
        raise ContributionError(_("Only drafts and items that need more information can be changed."))
    if activity_type.tracking != ActivityType.Tracking.MANUAL or not activity_type.is_active:
        raise ContributionError(_("“%(type)s” cannot be submitted by hand.") % {"type": activity_type.name})
    _submission_window_check(program_year=activity_type.program_year, today=today)
    _date_check(activity_type=activity_type, occurred_on=occurred_on, today=today)
    _quantity_check(activity_type=activity_type, quantity=quantity)
    if evidence_file is not None:
        _evidence_attach(contribution, evidence_file)
    contribution.activity_type = activity_type
    contribution.program_year = activity_type.program_year
    contribution.title = title
    contribution.description = description
    contribution.occurred_on = occurred_on
    contribution.quantity = quantity
    contribution.evidence_url = evidence_url
    contribution.claimed_points = points_for(activity_type=activity_type, quantity=quantity)
    _save(contribution, actor=member)
    return contribution


@_locked_write(BUSY_OWN, durable=True)
def contribution_edit(
    *,
    contribution: Contribution,
    member: User,
    activity_type: ActivityType,
    title: str,
    occurred_on: date,
    quantity: Decimal | int,
    description: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    submit: bool = False,
    answer: str = "",
    today: date | None = None,
) -> Contribution:
    """The member's edit page in one transaction: change the item, then (with `submit`) send it on,
    answering the verifier's question when it needs more information.

    A refused submit rolls the edit back too, so the page that shows the refusal saved nothing.
    """
    contribution = contribution_update(
        contribution=contribution,
        member=member,
        activity_type=activity_type,
        title=title,
        occurred_on=occurred_on,
        quantity=quantity,
        description=description,
        evidence_url=evidence_url,
        evidence_file=evidence_file,
        today=today,
    )
    if submit and contribution.state == Contribution.State.NEEDS_INFO:
        return contribution_reply(contribution=contribution, member=member, body=answer, today=today)
    if submit:
        return contribution_submit(contribution=contribution, member=member, today=today)
    return contribution


def _lock_own(*, contribution_id: int, member: User) -> Contribution:
    contribution = (
        Contribution.objects.select_for_update(no_key=True, of=("self",))
        .select_related("activity_type", "program_year")
        .filter(pk=contribution_id, member=member)
        .first()
    )
    if contribution is None:
        raise Contribution.DoesNotExist
    return contribution


@_locked_write(BUSY_OWN)
def contribution_submit(*, contribution: Contribution, member: User, today: date | None = None) -> Contribution:
    """Send a draft (or an answered question) to the verifiers."""
    today = today or timezone.localdate()
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state not in EDITABLE_STATES:
        raise ContributionError(_("This contribution has already been submitted."))
    if contribution.state == Contribution.State.NEEDS_INFO and not question_answered(contribution=contribution):
        raise ContributionError(
            _("Answer the verifier's question first: write your answer in the box below the question.")
        )
    _submission_window_check(program_year=contribution.program_year, today=today)
    _evidence_check_for_submit(contribution)
    contribution.state = Contribution.State.SUBMITTED
    contribution.submitted_at = timezone.now()
    _save(contribution, actor=member)
    return contribution


def question_answered(*, contribution: Contribution) -> bool:
    """The thread's last message is the member's answer (a question with no answer after it is open)."""
    last = contribution.messages.order_by("-created_at", "-pk").first()
    return last is not None and last.kind == ContributionMessage.Kind.ANSWER


@_locked_write(BUSY_OWN)
def contribution_reply(
    *, contribution: Contribution, member: User, body: str, today: date | None = None
) -> Contribution:
    """The member answers the verifier's question; the answer joins the thread and the item goes back to them."""
    body = body.strip()
    if not body:
        raise ContributionError(_("Write your answer to the verifier's question before sending it."))
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state != Contribution.State.NEEDS_INFO:
        raise ContributionError(_("Only an item the verifier asked about can be answered."))
    message = ContributionMessage(
        contribution=contribution, author=member, kind=ContributionMessage.Kind.ANSWER, body=body
    )
    try:
        message.full_clean()
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    message.save()
    return contribution_submit(contribution=contribution, member=member, today=today)


@_locked_write(BUSY_OWN, durable=True)
def contribution_draft_delete(*, contribution: Contribution, member: User) -> None:
    """A draft nobody else has seen is deleted outright (its history keeps a deletion record by the member)."""
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state != Contribution.State.DRAFT:
        raise ContributionError(_("Only a draft can be deleted; a submitted item can be withdrawn instead."))
    evidence = contribution.evidence_file.name if contribution.evidence_file else ""
    contribution._history_user = member
    contribution.delete()
    if evidence:
        storage = contribution.evidence_file.storage
        transaction.on_commit(lambda: storage.delete(evidence))


@_locked_write(BUSY_OWN, durable=True)
def contribution_withdraw(*, contribution: Contribution, member: User) -> Contribution:
    """The member takes back an item before a verifier decided on it."""
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state not in WITHDRAWABLE_STATES:
        raise ContributionError(_("A decided contribution cannot be withdrawn."))
    contribution.state = Contribution.State.WITHDRAWN
    _save(contribution, actor=member)
    return contribution


# --- Verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardLimit:
    """How many points one contribution may be awarded, and why.

    `bound` is the type's points for the claimed quantity, lowered to the type's annual cap;
    a program admin may go above it with a reason, never above `ceiling` (the program-wide
    MAHOME_MAX_POINTS_PER_CONTRIBUTION).
    """

    for_quantity: int
    annual_cap: int | None
    ceiling: int

    @property
    def bound(self) -> int:
        limits = [self.for_quantity, self.ceiling]
        if self.annual_cap is not None:
            limits.append(self.annual_cap)
        return min(limits)

    def explain(self) -> str:
        if self.annual_cap is not None and self.annual_cap < self.for_quantity and self.annual_cap <= self.ceiling:
            return _("at most %(n)s points: the type's annual cap of %(n)s points") % {"n": self.annual_cap}
        if self.ceiling < self.for_quantity:
            return _("at most %(n)s points: the program's ceiling of %(n)s points per contribution") % {
                "n": self.ceiling
            }
        return _("at most %(n)s points: the type's points for the claimed quantity") % {"n": self.for_quantity}


def award_limit(*, contribution: Contribution) -> AwardLimit:
    """The one rule for an award's size: the decide and correct pages show it, the services enforce it."""
    return AwardLimit(
        for_quantity=points_for(activity_type=contribution.activity_type, quantity=contribution.quantity),
        annual_cap=contribution.activity_type.annual_cap,
        ceiling=settings.MAHOME_MAX_POINTS_PER_CONTRIBUTION,
    )


def may_override_award_bounds(user: User) -> bool:
    return user.has_perm("contributions.override_award_bounds")


def _award_check(*, contribution: Contribution, points: int, staff: User, override_reason: str) -> str:
    """Refuse an award outside the bounds; returns the override reason to record ('' if none was needed)."""
    if points < 0:
        raise ContributionError(_("Awarded points cannot be negative."))
    limit = award_limit(contribution=contribution)
    override_reason = override_reason.strip()
    if points <= limit.bound:
        return ""
    if not may_override_award_bounds(staff):
        raise ContributionError(
            _("“%(title)s” can be awarded %(limit)s. Only a program admin can award more, with a reason.")
            % {"title": contribution.title, "limit": limit.explain()}
        )
    if points > limit.ceiling:
        raise ContributionError(
            _(
                "%(points)s points is more than the program allows for one contribution: at most %(n)s points, "
                "even with an override."
            )
            % {"points": points, "n": limit.ceiling}
        )
    if not override_reason:
        raise ContributionError(
            _("%(points)s points goes beyond the bound (%(limit)s): give the reason for the override.")
            % {"points": points, "limit": limit.explain()}
        )
    return override_reason


BUSY_CONTRIBUTION = gettext_lazy("Someone else is deciding on this contribution right now; try again in a moment.")
BUSY_REQUIREMENT = gettext_lazy("Someone else is changing this requirement status right now; try again in a moment.")


def _lock_for_staff(contribution_id: int) -> Contribution:
    contribution = (
        Contribution.objects.select_for_update(no_key=True, of=("self",))
        .select_related("member", "activity_type", "program_year")
        .filter(pk=contribution_id)
        .first()
    )
    if contribution is None:
        raise ContributionError(_("This contribution no longer exists."))
    return contribution


def _change_reason(step: str, *, note: str = "", override_reason: str = "") -> str:
    reason = step
    if note:
        reason += f": {note}"
    if override_reason:
        reason += f" [override: {override_reason}]"
    return reason[:100]


# Which items each decision applies to; bulk actions skip (and name) the others.
DECISION_STATES = {
    "verify": Contribution.PENDING_STATES,
    "reject": Contribution.PENDING_STATES,
    "needs_info": (Contribution.State.SUBMITTED,),
}
# "Verify at the claimed points" in bulk leaves items that wait on the member's answer alone.
BULK_STATES = {
    **DECISION_STATES,
    "verify": (Contribution.State.SUBMITTED,),
    "reopen": (Contribution.State.VERIFIED, Contribution.State.REJECTED),
}
DECIDED_STATES = (Contribution.State.VERIFIED, Contribution.State.REJECTED)


@_staff_write(BUSY_CONTRIBUTION)
def contribution_decide(
    *,
    contribution_id: int,
    verifier: User,
    decision: str,
    awarded_points: int | None = None,
    note: str = "",
    override_reason: str = "",
    states: tuple[str, ...] | None = None,
) -> Contribution:
    """A verifier's decision: verify (at the claimed or other points), reject, or ask for more information.

    The row is locked first, so of two verifiers deciding at once the second finds the item
    already decided and is refused: one decision, one history entry. Awards are bounded by
    `award_limit`; `states` narrows the states the decision applies to (bulk actions).
    """
    if decision not in DECISIONS:
        raise ValueError(decision)
    contribution = _lock_for_staff(contribution_id)
    allowed = states or DECISION_STATES[decision]
    if contribution.state not in allowed:
        raise ContributionError(_state_refusal(contribution, decision=decision))
    note = note.strip()
    if decision in ("needs_info", "reject") and not note:
        raise ContributionError(_("Tell the member why: a message is required."))
    override = ""
    if decision == "verify":
        points = contribution.claimed_points if awarded_points is None else awarded_points
        override = _award_check(
            contribution=contribution, points=points, staff=verifier, override_reason=override_reason
        )
        if points != contribution.claimed_points and not note:
            raise ContributionError(_("Explain to the member why the awarded points differ from the claimed points."))
        contribution.state = Contribution.State.VERIFIED
        contribution.awarded_points = points
    elif decision == "reject":
        contribution.state = Contribution.State.REJECTED
        contribution.awarded_points = 0
    else:
        contribution.state = Contribution.State.NEEDS_INFO
    contribution.decision_note = note
    contribution.decided_by = verifier
    contribution.decided_at = timezone.now()
    _save(contribution, actor=verifier, reason=_change_reason(decision, override_reason=override))
    if decision == "needs_info":
        ContributionMessage.objects.create(
            contribution=contribution, author=verifier, kind=ContributionMessage.Kind.QUESTION, body=note
        )
    _requirement_sync(contribution, actor=verifier)
    _notify_decision(contribution)
    return contribution


DECISION_NAMES = {
    "verify": gettext_lazy("verify at the claimed points"),
    "reject": gettext_lazy("reject"),
    "needs_info": gettext_lazy("ask for more information"),
    "reopen": gettext_lazy("reopen"),
}


def _state_refusal(contribution: Contribution, *, decision: str) -> str:
    state = contribution.get_state_display().lower()
    if contribution.state in DECIDED_STATES and decision in DECISION_STATES:
        return _("“%(title)s” is %(state)s: someone already decided on it.") % {
            "title": contribution.title,
            "state": state,
        }
    applies_to = ", ".join(str(Contribution.State(s).label).lower() for s in BULK_STATES.get(decision, ()))
    return _("“%(title)s” is %(state)s; “%(action)s” applies only to items that are %(states)s.") % {
        "title": contribution.title,
        "state": state,
        "action": DECISION_NAMES[decision],
        "states": applies_to,
    }


@_staff_write(BUSY_CONTRIBUTION)
def contribution_correct(
    *,
    contribution_id: int,
    staff: User,
    state: str,
    awarded_points: int | None,
    reason: str,
    override_reason: str = "",
) -> Contribution:
    """Staff change a decision: verified at other points, or not accepted; the member is told why, once.

    Nothing is final: a corrected item can be corrected again or reopened.
    """
    if state not in DECIDED_STATES:
        raise ValueError(state)
    contribution = _lock_for_staff(contribution_id)
    if contribution.state not in DECIDED_STATES:
        raise ContributionError(
            _("“%(title)s” has not been decided yet (%(state)s): decide it instead of correcting it.")
            % {"title": contribution.title, "state": contribution.get_state_display().lower()}
        )
    reason = reason.strip()
    if not reason:
        raise ContributionError(_("Give the reason for the correction: the member will see it."))
    override = ""
    if state == Contribution.State.VERIFIED:
        points = contribution.claimed_points if awarded_points is None else awarded_points
        override = _award_check(contribution=contribution, points=points, staff=staff, override_reason=override_reason)
    else:
        points = 0
    if (state, points) == (contribution.state, contribution.awarded_points):
        raise ContributionError(
            _("“%(title)s” is already %(state)s with %(points)s points: nothing to correct.")
            % {"title": contribution.title, "state": contribution.get_state_display().lower(), "points": points}
        )
    contribution.state = state
    contribution.awarded_points = points
    contribution.decision_note = reason
    contribution.decided_by = staff
    contribution.decided_at = timezone.now()
    _save(contribution, actor=staff, reason=_change_reason("correct", note=reason, override_reason=override))
    _requirement_sync(contribution, actor=staff)
    _notify_decision(contribution, corrected=True)
    return contribution


@_staff_write(BUSY_CONTRIBUTION)
def contribution_reopen(*, contribution_id: int, staff: User, reason: str) -> Contribution:
    """Put a decided item back in the queue (pending, no points) to be decided again."""
    contribution = _lock_for_staff(contribution_id)
    if contribution.state not in DECIDED_STATES:
        raise ContributionError(
            _("“%(title)s” has not been decided (%(state)s): there is nothing to reopen.")
            % {"title": contribution.title, "state": contribution.get_state_display().lower()}
        )
    reason = reason.strip()
    if not reason:
        raise ContributionError(_("Give the reason for reopening: the member will see it."))
    contribution.state = Contribution.State.SUBMITTED
    contribution.awarded_points = None
    contribution.decision_note = reason
    contribution.decided_by = staff
    contribution.decided_at = timezone.now()
    contribution.submitted_at = contribution.submitted_at or timezone.now()
    _save(contribution, actor=staff, reason=_change_reason("reopen", note=reason))
    _requirement_sync(contribution, actor=staff)
    _notify_decision(contribution, corrected=True)
    return contribution


def contribution_reverse(*, contribution_id: int, staff: User, note: str) -> Contribution:
    """Staff take back the points of a verified item: a correction to "not accepted" (it can be reopened)."""
    return contribution_correct(
        contribution_id=contribution_id, staff=staff, state=Contribution.State.REJECTED, awarded_points=0, reason=note
    )


def _notify_decision(contribution: Contribution, *, corrected: bool = False) -> None:
    url = reverse("contributions:detail", args=[contribution.pk])
    values = {"title": contribution.title, "points": contribution.awarded_points}
    if contribution.state == Contribution.State.VERIFIED:
        title = (
            _("Decision corrected: %(title)s is verified at %(points)s points")
            if corrected
            else _("Verified: %(title)s (%(points)s points)")
        ) % values
    elif contribution.state == Contribution.State.REJECTED:
        title = (
            _("Decision corrected: %(title)s is not accepted") if corrected else _("Not accepted: %(title)s")
        ) % values
    elif contribution.state == Contribution.State.SUBMITTED:
        title = _("Back in review: %(title)s") % values
    else:
        title = _("More information needed: %(title)s") % values
    notification_create(
        user=contribution.member,
        kind="maintenance.decision",
        title=title,
        body=contribution.decision_note,
        url=url,
    )


@dataclass
class BulkResult:
    done: list[Contribution] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (title, why)


def contributions_decide_bulk(*, contribution_ids: list[int], staff: User, decision: str, note: str = "") -> BulkResult:
    """Apply one decision (or a reopen) to many items, each under its own row lock.

    Items in a state the decision does not apply to, or decided meanwhile, are skipped and
    named with the reason; the others are decided.
    """
    if decision not in BULK_STATES:
        raise ValueError(decision)
    result = BulkResult()
    titles = dict(Contribution.objects.filter(pk__in=contribution_ids).values_list("pk", "title"))
    for contribution_id in contribution_ids:
        try:
            if decision == "reopen":
                contribution = contribution_reopen(contribution_id=contribution_id, staff=staff, reason=note)
            else:
                contribution = contribution_decide(
                    contribution_id=contribution_id,
                    verifier=staff,
                    decision=decision,
                    note=note,
                    states=BULK_STATES[decision],
                )
        except ContributionError as error:
            result.skipped.append((titles.get(contribution_id, str(contribution_id)), str(error)))
        else:
            result.done.append(contribution)
    return result


# --- Program years, targets, requirements, opt-outs -----------------------------------------------


@transaction.atomic
def program_year_publish(*, program_year: ProgramYear, by: User | None = None) -> ProgramYear:
    """Make a year's rules visible to members; from now on every change is in its history.

    A year whose catalogue has no active activity type is refused: members would see a year with
    nothing to claim."""
    if program_year.published_at is None:
        missing = program_year_missing_for_publication(program_year=program_year)
        if missing:
            raise ContributionError(
                _("%(year)s cannot be published: %(missing)s.") % {"year": program_year.year, "missing": missing}
            )
        program_year.published_at = timezone.now()
        program_year._history_user = by
        program_year.full_clean()
        program_year.save()
    return program_year


def program_year_missing_for_publication(*, program_year: ProgramYear) -> str:
    """What a year lacks before members may see it ("" when nothing): the one rule the action asks."""
    if not ActivityType.objects.filter(program_year=program_year, is_active=True).exists():
        return _(
            "its catalogue has no active activity type. Add the types (Activity types › Add) or use the "
            "action “Copy catalogue and requirements from another year…”"
        )
    return ""


# Fields of a year whose change, once published, alters what members owe: a reason is required.
TARGET_FIELDS = ("target_points", "prorating_method")
REASON_MAX_LENGTH = 100  # simple-history's history_change_reason


def _reason_required(*, reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ContributionError(
            _("%(what)s is published: say why it changes (the reason is kept in the history).") % {"what": what}
        )
    return reason[:REASON_MAX_LENGTH]


def _targets(*, program_year: ProgramYear, members: list[User], base: int, method: str) -> dict[int, int]:
    return {
        member.pk: rules.prorated_target(
            base=base,
            method=method,
            qualified_on=member.certification.qualified_on,
            opens_on=program_year.opens_on,
            deadline=program_year.deadline,
        ).points
        for member in members
    }


@transaction.atomic
def program_year_save(*, program_year: ProgramYear, by: User | None, reason: str = "") -> ProgramYear:
    """Create or change a program year's rules and dates; the history records who (`by`).

    Years may not overlap (ProgramYear.clean): every year's row is locked first, so two staff
    saving overlapping years at once are checked one after the other. Once the year is published,
    a change of its target (points or pro-rating) needs a `reason`, kept in the history, and every
    member whose own target changes (no override) is told the old and new number and why.
    """
    list(ProgramYear.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    before = ProgramYear.objects.filter(pk=program_year.pk).first() if program_year.pk else None
    target_changed = (
        before is not None
        and before.published_at is not None
        and any(getattr(before, name) != getattr(program_year, name) for name in TARGET_FIELDS)
    )
    if target_changed:
        program_year._change_reason = _reason_required(
            reason=reason, what=_("The %(year)s year") % {"year": program_year.year}
        )
    elif reason.strip():
        program_year._change_reason = reason.strip()[:REASON_MAX_LENGTH]
    program_year._history_user = by
    program_year.full_clean()
    program_year.save()
    if target_changed:
        _tell_members_their_new_target(program_year=program_year, before=before, reason=program_year._change_reason)
    return program_year


def _tell_members_their_new_target(*, program_year: ProgramYear, before: ProgramYear, reason: str) -> int:
    from contributions import selectors

    overridden = TargetOverride.objects.filter(program_year=program_year).values("member_id")
    members = list(selectors.eligible_members(program_year=program_year).exclude(pk__in=overridden))
    old = _targets(program_year=before, members=members, base=before.target_points, method=before.prorating_method)
    new = _targets(
        program_year=program_year,
        members=members,
        base=program_year.target_points,
        method=program_year.prorating_method,
    )
    changed = [member for member in members if old[member.pk] != new[member.pk]]
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    return notifications_create_many(
        kind="maintenance.target_changed",
        user_ids=[member.pk for member in changed],
        titles=[_("Your %(year)s target changed") % {"year": program_year.year}] * len(changed),
        bodies=[
            _("Your %(year)s target is now %(new)s points (it was %(old)s). Why: %(reason)s")
            % {"year": program_year.year, "new": new[m.pk], "old": old[m.pk], "reason": reason}
            for m in changed
        ],
        dedupe_keys=[f"target-{program_year.year}-{stamp}"] * len(changed),
        url=reverse("dashboard"),
    )


@dataclass(frozen=True)
class CatalogueCopy:
    types_copied: int
    types_skipped: int  # the new year already has a type with that code
    requirements_copied: int
    requirements_skipped: int


def _a_year_on(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _copied_fields(instance, model) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in model._meta.concrete_fields
        if f.name not in ("id", "program_year")
    }


@transaction.atomic
def program_year_copy_catalogue(*, program_year: ProgramYear, source: ProgramYear, by: User | None) -> CatalogueCopy:
    """Copy `source`'s active activity types and its technical requirements onto a year not yet published.

    Codes the year already has are left as they are; requirements' due dates move by the years
    between the two. Everything copied is editable until the year is published; each copy is in
    its history with who and "Copied from <year>".
    """
    locked = ProgramYear.objects.select_for_update().get(pk=program_year.pk)
    if locked.published_at is not None:
        raise ContributionError(
            _("%(year)s is already published: change its catalogue one type at a time, with a reason.")
            % {"year": locked.year}
        )
    if source.pk == locked.pk:
        raise ContributionError(_("Choose another year to copy from."))
    reason = _("Copied from %(year)s") % {"year": source.year}
    years = locked.year - source.year
    existing_types = set(ActivityType.objects.filter(program_year=locked).values_list("code", flat=True))
    copied_types = skipped_types = 0
    for original in ActivityType.objects.filter(program_year=source, is_active=True).order_by("pk"):
        if original.code in existing_types:
            skipped_types += 1
            continue
        copy = ActivityType(program_year=locked, **_copied_fields(original, ActivityType))
        copy._history_user = by
        copy._change_reason = reason
        copy.full_clean()
        copy.save()
        copied_types += 1
    existing_requirements = set(TechnicalRequirement.objects.filter(program_year=locked).values_list("code", flat=True))
    copied_requirements = skipped_requirements = 0
    for original in TechnicalRequirement.objects.filter(program_year=source).order_by("pk"):
        if original.code and original.code in existing_requirements:
            skipped_requirements += 1
            continue
        copy = TechnicalRequirement(program_year=locked, **_copied_fields(original, TechnicalRequirement))
        copy.due_on = _a_year_on(original.due_on, years)
        copy._history_user = by
        copy._change_reason = reason
        copy.full_clean()
        copy.save()
        copied_requirements += 1
    return CatalogueCopy(copied_types, skipped_types, copied_requirements, skipped_requirements)


@transaction.atomic
def technical_requirement_save(*, requirement: TechnicalRequirement, by: User | None) -> TechnicalRequirement:
    """Create or change one of a year's technical requirements; the history records who."""
    requirement._history_user = by
    requirement.full_clean()
    requirement.save()
    return requirement


@transaction.atomic
def technical_requirement_delete(*, requirement: TechnicalRequirement, by: User | None) -> None:
    """Remove a requirement (its deletion is kept in the history, with who)."""
    requirement._history_user = by
    requirement.delete()


def activity_type_changed(*, activity_type: ActivityType) -> bool:
    """Whether saving `activity_type` would change the catalogue (new, or any field different)."""
    stored = ActivityType.objects.filter(pk=activity_type.pk).first() if activity_type.pk else None
    if stored is None:
        return True
    return any(
        getattr(stored, f.attname) != getattr(activity_type, f.attname) for f in ActivityType._meta.concrete_fields
    )


@transaction.atomic
def activity_type_save(*, activity_type: ActivityType, by: User | None, reason: str = "") -> ActivityType:
    """Create or change a line of a year's catalogue; the history records who (`by`).

    Once its year is published, a change of the catalogue (a new type or an edit) needs a `reason`,
    kept in the history."""
    published = ProgramYear.objects.filter(pk=activity_type.program_year_id, published_at__isnull=False).exists()
    if published and activity_type_changed(activity_type=activity_type):
        activity_type._change_reason = _reason_required(
            reason=reason, what=_("The %(year)s catalogue") % {"year": activity_type.program_year.year}
        )
    elif reason.strip():
        activity_type._change_reason = reason.strip()[:REASON_MAX_LENGTH]
    activity_type._history_user = by
    activity_type.full_clean()
    activity_type.save()
    return activity_type


@transaction.atomic
def target_override_set(
    *, member: User, program_year: ProgramYear, target_points: int, reason: str, set_by: User | None
) -> TargetOverride:
    """Give a member a different target this year; the reason is shown on their dashboard."""
    if not reason.strip():
        raise ContributionError(_("An override needs a reason."))
    override = TargetOverride.objects.filter(member=member, program_year=program_year).first() or TargetOverride(
        member=member, program_year=program_year
    )
    override.target_points = target_points
    override.reason = reason.strip()
    override.set_by = set_by
    override._history_user = set_by
    override.full_clean(validate_unique=False, validate_constraints=False)
    override.save()
    return override


# --- Technical requirements reported by members ------------------------------------------------

REQUIREMENT_REPORT_CODE = "technical-requirement-report"
OPEN_STATES = (Contribution.State.DRAFT, *Contribution.PENDING_STATES)


def requirement_report_type(*, program_year: ProgramYear) -> ActivityType:
    """The year's hidden activity type that carries requirement reports through the contribution queue."""
    activity_type, _created = ActivityType.objects.get_or_create(
        program_year=program_year,
        code=REQUIREMENT_REPORT_CODE,
        defaults={
            "name": _("Technical requirement report"),
            "category": ActivityType.Category.ENABLEMENT,
            "description": _("A training completed or a credential held, reported by the member with evidence."),
            "points": 0,
            "evidence_required": True,
            "tracking": ActivityType.Tracking.REQUIREMENT,
        },
    )
    return activity_type


def requirement_report_refusal(
    *, requirement: TechnicalRequirement, member: User, today: date | None = None
) -> str | None:
    """Why this member cannot report this requirement now, or None (the page and the service ask the same)."""

    today = today or timezone.localdate()
    certification = getattr(member, "certification", None)
    qualified_on = certification.qualified_on if certification else None
    if certification is None:
        return _("Only certified Master Anaplanners report technical requirements.")
    if not rules.requirement_owed(due_on=requirement.due_on, qualified_on=qualified_on):
        return _("“%(name)s” was due before you qualified, so it is not owed this year.") % {"name": requirement.name}
    if not requirement.program_year.takes_submissions(today) or today < requirement.program_year.opens_on:
        return _("Reports for the %(year)s program year are not open.") % {"year": requirement.program_year.year}
    if RequirementStatus.objects.filter(requirement=requirement, member=member, met_on__isnull=False).exists():
        return _("“%(name)s” is already recorded as met.") % {"name": requirement.name}
    if Contribution.objects.filter(member=member, requirement=requirement, state__in=OPEN_STATES).exists():
        return _("You already reported “%(name)s”; it is waiting for the program team.") % {"name": requirement.name}
    return None


@transaction.atomic
def requirement_report_create(
    *,
    member: User,
    requirement: TechnicalRequirement,
    met_on: date,
    note: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    today: date | None = None,
) -> Contribution:
    """A member reports a training completed or a credential held; it waits in the verification queue.

    One open report per member and requirement: a partial unique constraint decides under
    concurrency, and the loser gets the same sentence as the check before it.
    """
    today = today or timezone.localdate()
    refusal = requirement_report_refusal(requirement=requirement, member=member, today=today)
    if refusal:
        raise ContributionError(refusal)
    if met_on > today:
        raise ContributionError(_("The date cannot be in the future."))
    if not (evidence_url or evidence_file):
        raise ContributionError(
            _("Show the program team it is done: add a link or a file (a certificate, a completion email).")
        )
    program_year = requirement.program_year
    label = (
        _("Training completed: %(name)s")
        if requirement.kind == TechnicalRequirement.Kind.TRAINING
        else _("Credential held: %(name)s")
    )
    report = Contribution(
        member=member,
        program_year=program_year,
        activity_type=requirement_report_type(program_year=program_year),
        requirement=requirement,
        title=(label % {"name": requirement.name})[:200],
        description=note,
        occurred_on=met_on,
        quantity=1,
        evidence_url=evidence_url,
        state=Contribution.State.SUBMITTED,
        claimed_points=0,
        submitted_at=timezone.now(),
        source=Contribution.Source.MANUAL,
    )
    if evidence_file is not None:
        _evidence_attach(report, evidence_file)
    try:
        with transaction.atomic():
            _save(report, actor=member)
    except IntegrityError as error:
        raise ContributionError(
            _("You already reported “%(name)s”; it is waiting for the program team.") % {"name": requirement.name}
        ) from error
    return report


def _requirement_sync(contribution: Contribution, *, actor: User) -> None:
    """A verified report records the requirement as met; a report undone takes back what it recorded."""
    if contribution.requirement_id is None:
        return
    status = (
        RequirementStatus.objects.select_for_update(no_key=True)
        .filter(requirement_id=contribution.requirement_id, member_id=contribution.member_id)
        .first()
    )
    if contribution.state == Contribution.State.VERIFIED:
        # The same rule as staff recording it by hand: a completion after the due date needs a
        # program admin's reason (the decision's note).
        refusal = requirement_date_refusal(
            requirement=contribution.requirement,
            met_on=contribution.occurred_on,
            by=actor,
            override_reason=contribution.decision_note,
        )
        if refusal:
            raise ContributionError(refusal)
        status = status or RequirementStatus(requirement_id=contribution.requirement_id, member=contribution.member)
        status.met_on = contribution.occurred_on
        status.report = contribution
        status.note = str(_("Reported by the member and verified."))
    elif status is not None and status.report_id == contribution.pk:
        status.met_on = None
        status.report = None
        status.note = str(_("The member's report is no longer verified."))
    else:
        return
    status._history_user = actor
    status.full_clean(validate_unique=False, validate_constraints=False)
    status.save()


def may_override_requirement_date(user: User | None) -> bool:
    return user is not None and user.has_perm("contributions.override_requirement_date")


def requirement_date_refusal(
    *,
    requirement: TechnicalRequirement,
    met_on: date | None,
    by: User | None,
    override_reason: str = "",
    today: date | None = None,
) -> str | None:
    """Why a completion date cannot be recorded (None: it can). The one rule for the admin form,
    the import, the bulk action and the service.

    A completion cannot be in the future; after the due date it needs a program admin's reason.
    """
    if met_on is None:
        return None
    today = today or timezone.localdate()
    if met_on > today:
        return _("The completion date %(date)s is in the future.") % {"date": date_format(met_on)}
    if met_on <= requirement.due_on:
        return None
    late = {"date": date_format(met_on), "due": date_format(requirement.due_on), "name": requirement.name}
    if not override_reason.strip():
        return (
            _(
                "%(date)s is after the due date of “%(name)s” (%(due)s): a program admin may record it "
                "with an override reason."
            )
            % late
        )
    if not may_override_requirement_date(by):
        return _("%(date)s is after the due date of “%(name)s” (%(due)s). Only a program admin can override it.") % late
    return None


@_staff_write(BUSY_REQUIREMENT)
def requirement_status_set(
    *,
    requirement: TechnicalRequirement,
    member: User,
    met_on: date | None,
    note: str = "",
    by: User | None = None,
    override_reason: str = "",
    today: date | None = None,
) -> RequirementStatus:
    """Record whether a member met a technical requirement (and when), under the status row's lock.

    The date is checked by `requirement_date_refusal`; an override's reason goes into the history.
    """
    refusal = requirement_date_refusal(
        requirement=requirement, met_on=met_on, by=by, override_reason=override_reason, today=today
    )
    if refusal:
        raise ContributionError(refusal)
    locked = RequirementStatus.objects.select_for_update(no_key=True).filter(requirement=requirement, member=member)
    status = locked.first()
    created = status is None
    if created:
        status = RequirementStatus(requirement=requirement, member=member)
    _requirement_status_fill(status, met_on=met_on, note=note, by=by, override_reason=override_reason)
    if created:
        try:
            with transaction.atomic():
                status.save()
            return status
        except IntegrityError:  # created meanwhile by another request: update that one
            status = locked.get()
            _requirement_status_fill(status, met_on=met_on, note=note, by=by, override_reason=override_reason)
    status.save()
    return status


def _requirement_status_fill(
    status: RequirementStatus, *, met_on: date | None, note: str, by: User | None, override_reason: str
) -> None:
    status.met_on = met_on
    status.note = note[:300]
    status._history_user = by
    if override_reason.strip() and met_on is not None and met_on > status.requirement.due_on:
        status._change_reason = f"override: {override_reason.strip()}"[:100]
    status.full_clean(validate_unique=False, validate_constraints=False)


@dataclass
class StatusBulkResult:
    done: list[RequirementStatus] = field(default_factory=list)
    skipped: list[tuple[RequirementStatus, str]] = field(default_factory=list)  # (status, why)


def requirement_statuses_mark_met(
    *, status_ids: list[int], met_on: date, note: str, by: User, override_reason: str = ""
) -> StatusBulkResult:
    """Mark the selected members as having met their requirement on `met_on`; each row that the date
    rule refuses is skipped and named with the reason."""
    result = StatusBulkResult()
    statuses = RequirementStatus.objects.filter(pk__in=status_ids).select_related("requirement", "member")
    for status in statuses.order_by("member__email", "requirement__name"):
        try:
            saved = requirement_status_set(
                requirement=status.requirement,
                member=status.member,
                met_on=met_on,
                note=note or status.note,
                by=by,
                override_reason=override_reason,
            )
        except ContributionError as error:
            result.skipped.append((status, str(error)))
        else:
            result.done.append(saved)
    return result


def _opt_out_window_check(*, program_year: ProgramYear, today: date) -> None:
    if today >= program_year.deadline:
        raise ContributionError(
            _("The %(year)s deadline has passed; opting out or back in is no longer possible.")
            % {"year": program_year.year}
        )
    if ReviewOutcome.objects.filter(program_year=program_year).exists():
        raise ContributionError(_("The year-end review has already run for %(year)s.") % {"year": program_year.year})


@transaction.atomic
def opt_out_create(*, member: User, program_year: ProgramYear, reason: str = "", today: date | None = None) -> OptOut:
    """The member stops maintaining this year: no more reminders; the certificate stays until it expires."""
    _opt_out_window_check(program_year=program_year, today=today or timezone.localdate())
    opt_out = OptOut(member=member, program_year=program_year, reason=reason[:300])
    opt_out._history_user = member
    opt_out.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            opt_out.save()
    except IntegrityError:
        return OptOut.objects.get(member=member, program_year=program_year)
    return opt_out


@transaction.atomic
def opt_out_undo(*, member: User, program_year: ProgramYear, today: date | None = None) -> bool:
    """Undo the opt-out before the deadline; returns False if there was none."""
    _opt_out_window_check(program_year=program_year, today=today or timezone.localdate())
    opt_out = OptOut.objects.filter(member=member, program_year=program_year).first()
    if opt_out is None:
        return False
    opt_out._history_user = member
    opt_out.delete()
    return True


# --- Year-end review ------------------------------------------------------------------------------


@dataclass
class ReviewEntry:
    member: User
    target: int
    verified: int
    outcome: str
    reasons: list[str]
    certificate_number: str = ""
    pending: int = 0  # submitted, waiting for a verifier
    needs_info: int = 0  # waiting on the member's answer
    would_meet: bool = False  # short of the target, but the waiting points would cover it

    @property
    def outcome_label(self) -> str:
        return str(ReviewOutcome.Outcome(self.outcome).label)

    @property
    def waiting(self) -> int:
        return self.pending + self.needs_info


@dataclass
class ReviewReport:
    program_year: ProgramYear
    dry_run: bool
    entries: list[ReviewEntry] = field(default_factory=list)
    created_outcomes: int = 0
    created_certificates: int = 0
    # What a final run would produce now (the confirmation page says so before anything is written).
    planned_outcomes: int = 0
    planned_certificates: int = 0
    planned_notifications: int = 0
    planned_emails: int = 0
    run: ReviewRun | None = None  # the final run, once it happened
    already_ran: bool = False  # a final run was asked for, but one had already run: nothing changed
    outcomes_to_record: list[ReviewOutcome] = field(default_factory=list, repr=False)
    certificates_to_issue: list[Certificate] = field(default_factory=list, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ReviewOutcome.Outcome.values, 0)
        for entry in self.entries:
            counts[entry.outcome] += 1
        return counts

    @property
    def counts_in_words(self) -> list[tuple[str, int]]:
        return [(str(ReviewOutcome.Outcome(key).label), n) for key, n in self.counts.items()]

    @property
    def notifications_on(self) -> date | None:
        """The day outcome notifications go out (None: as soon as the final review runs)."""
        return self.program_year.notification_on

    def as_json(self) -> dict:
        return {
            "year": self.program_year.year,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "members": [
                {
                    "email": e.member.email,
                    "target": e.target,
                    "verified": e.verified,
                    "outcome": e.outcome,
                    "reasons": e.reasons,
                    "certificate": e.certificate_number,
                }
                for e in self.entries
            ],
        }


def _review_decision(standing) -> tuple[str, list[str]]:
    if standing.opt_out is not None:
        return ReviewOutcome.Outcome.OPTED_OUT, [
            _("Opted out on %(date)s.") % {"date": date_format(timezone.localdate(standing.opt_out.created_at))}
        ]
    reasons = []
    if standing.verified < standing.target_points:
        reasons.append(
            _("%(verified)s verified points of %(target)s (%(missing)s missing).")
            % {
                "verified": standing.verified,
                "target": standing.target_points,
                "missing": standing.target_points - standing.verified,
            }
        )
        if standing.pending:
            reasons.append(
                _(
                    "%(waiting)s points waiting (%(submitted)s submitted, %(needs_info)s needing more information)"
                    "%(cover)s."
                )
                % {
                    "waiting": standing.pending,
                    "submitted": standing.pending - standing.needs_info,
                    "needs_info": standing.needs_info,
                    "cover": _(" would cover it if verified")
                    if standing.verified + standing.pending >= standing.target_points
                    else "",
                }
            )
    for requirement in standing.requirements_pending:
        reasons.append(_("Technical requirement not met: %(name)s.") % {"name": requirement.requirement.name})
    if reasons:
        return ReviewOutcome.Outcome.LAPSED, reasons
    return ReviewOutcome.Outcome.RECERTIFIED, [
        _("%(verified)s verified points of %(target)s and every technical requirement met.")
        % {"verified": standing.verified, "target": standing.target_points}
    ]


def _review_dedupe_key(program_year: ProgramYear) -> str:
    return f"maintenance-{program_year.year}-review"


def year_end_review(
    *, program_year: ProgramYear, dry_run: bool = True, today: date | None = None, by: User | None = None
) -> ReviewReport:
    """Decide every member's outcome; the final run records it, issues next year's certificates
    and records the run (who, when, what it produced).

    The dry run also says what a final run would produce (outcomes, certificates, notifications).
    The final run locks the program year's row: of two admins pressing at once, the second finds
    the run recorded and changes nothing. Outcomes and certificates are unique per member and year
    and inserted with ON CONFLICT DO NOTHING, so a run from the command after one from the admin
    changes nothing either. A member already reviewed keeps the recorded outcome.
    """
    today = today or timezone.localdate()
    if dry_run:
        return _review_compute(program_year=program_year, dry_run=True)
    if program_year.takes_submissions(today):
        raise ContributionError(
            _("The %(year)s year is still open for submissions (deadline or grace period); review it afterwards.")
            % {"year": program_year.year}
        )
    with transaction.atomic():
        ProgramYear.objects.select_for_update(no_key=True).filter(pk=program_year.pk).first()
        run = ReviewRun.objects.filter(program_year=program_year).select_related("run_by").first()
        report = _review_compute(program_year=program_year, dry_run=False)
        if run is not None:
            report.run, report.already_ran = run, True
        else:
            report.created_outcomes = len(
                ReviewOutcome.objects.bulk_create(report.outcomes_to_record, ignore_conflicts=True)
            )
            issued = report.certificates_to_issue
            Certificate.objects.bulk_create(issued, ignore_conflicts=True)
            created = list(Certificate.objects.filter(verification_code__in=[c.verification_code for c in issued]))
            Certificate.history.bulk_history_create(created, default_user=by, default_change_reason="year-end review")
            report.created_certificates = len(created)
            run = ReviewRun(
                program_year=program_year,
                run_by=by,
                ran_at=timezone.now(),
                outcomes=report.created_outcomes,
                certificates=report.created_certificates,
                notifications=report.planned_notifications,
                counts=report.counts,
            )
            run.full_clean(validate_constraints=False)
            run.save()
            report.run = run
    review_notifications_send(program_year=program_year, today=today)
    return report


def _review_compute(*, program_year: ProgramYear, dry_run: bool) -> ReviewReport:
    """Every member's outcome (recorded or to record) and what a final run would write."""
    from contributions import selectors

    members = list(selectors.eligible_members(program_year=program_year))
    standings = selectors.member_years(program_year=program_year, members=members, today=program_year.deadline)
    next_year = program_year.year + 1
    program_years = {p.year: p for p in ProgramYear.objects.filter(year__in=[program_year.year, next_year])}
    existing_certificates = dict(
        Certificate.objects.filter(year=next_year, member__in=members).values_list("member_id", "number")
    )
    notified = set(
        Notification.objects.filter(dedupe_key=_review_dedupe_key(program_year), user__in=members).values_list(
            "user_id", flat=True
        )
    )
    report = ReviewReport(
        program_year=program_year,
        dry_run=dry_run,
        run=ReviewRun.objects.filter(program_year=program_year).select_related("run_by").first(),
    )
    outcomes, certificates = [], []
    for standing in standings:
        if standing.outcome is not None:
            outcome, reasons = standing.outcome.outcome, list(standing.outcome.reasons)
            target, verified = standing.outcome.target_points, standing.outcome.verified_points
        else:
            outcome, reasons = _review_decision(standing)
            target, verified = standing.target_points, standing.verified
            outcomes.append(
                ReviewOutcome(
                    member=standing.member,
                    program_year=program_year,
                    outcome=outcome,
                    target_points=target,
                    verified_points=verified,
                    reasons=reasons,
                )
            )
        if standing.member.pk not in notified:
            report.planned_notifications += 1
            member = standing.member
            report.planned_emails += member.is_active and member.wants_email("maintenance.review")
        number = existing_certificates.get(standing.member.pk, "")
        if outcome == ReviewOutcome.Outcome.RECERTIFIED and not number:
            certificate = renewal_certificate(
                member=standing.member, reviewed=program_year, program_years=program_years
            )
            number = certificate.number
            certificates.append(certificate)
        report.entries.append(
            ReviewEntry(
                member=standing.member,
                target=target,
                verified=verified,
                outcome=outcome,
                reasons=reasons,
                certificate_number=number if not dry_run or standing.outcome is not None else "",
                pending=standing.pending - standing.needs_info,
                needs_info=standing.needs_info,
                would_meet=outcome == ReviewOutcome.Outcome.LAPSED
                and standing.verified < standing.target_points <= standing.verified + standing.pending,
            )
        )
    report.planned_outcomes, report.planned_certificates = len(outcomes), len(certificates)
    report.outcomes_to_record, report.certificates_to_issue = outcomes, certificates
    return report


def review_notifications_send(*, program_year: ProgramYear, today: date | None = None) -> int:
    """Tell each reviewed member their outcome, on (or after) the year's notification date; once each."""
    today = today or timezone.localdate()
    if program_year.notification_on is not None and today < program_year.notification_on:
        return 0
    sent = 0
    outcomes = ReviewOutcome.objects.filter(program_year=program_year).select_related("member")
    certificates = dict(
        Certificate.objects.filter(program_year=program_year, year=program_year.year + 1)
        .exclude(state=Certificate.State.SUPERSEDED)
        .values_list("member_id", "verification_code")
    )
    for outcome in outcomes:
        if outcome.outcome == ReviewOutcome.Outcome.RECERTIFIED:
            title = _("You are recertified for %(year)s") % {"year": program_year.year + 1}
            code = certificates.get(outcome.member_id)
            url = reverse("certificate_verify", args=[code]) if code else reverse("dashboard")
        elif outcome.outcome == ReviewOutcome.Outcome.LAPSED:
            title = _("Your certification was not renewed for %(year)s") % {"year": program_year.year + 1}
            url = reverse("dashboard")
        else:
            title = _("Your %(year)s opt-out is recorded") % {"year": program_year.year}
            url = reverse("dashboard")
        created = notification_create(
            user=outcome.member,
            kind="maintenance.review",
            title=title,
            body="\n".join(outcome.reasons),
            url=url,
            dedupe_key=_review_dedupe_key(program_year),
        )
        sent += created is not None
    return sent


# --- Reminders ----------------------------------------------------------------------------------

REMINDER_DAYS = (60, 30, 7)


def _members_to_remind(*, program_year: ProgramYear, today: date) -> list:
    from contributions import selectors

    members = list(selectors.eligible_members(program_year=program_year))
    standings = selectors.member_years(program_year=program_year, members=members, today=today)
    return [s for s in standings if s.status in (rules.ON_TRACK, rules.AT_RISK)]


def _status_body(standing) -> str:
    return _(
        "Target %(target)s points: %(verified)s verified, %(pending)s waiting for verification. "
        "Status: %(status)s. Deadline: %(deadline)s (%(days)s days)."
    ) % {
        "target": standing.target_points,
        "verified": standing.verified,
        "pending": standing.pending,
        "status": standing.status_label,
        "deadline": date_format(standing.program_year.deadline),
        "days": standing.days_to_deadline,
    }


def maintenance_deadline_reminders_send(*, today: date | None = None) -> int:
    """Reminders 60, 30 and 7 days before the deadline to members not yet met (each sent once).

    A member gets the reminder of the nearest threshold already reached, so a job that missed
    a day still sends it, and a second run sends nothing.
    """
    from contributions import selectors

    today = today or timezone.localdate()
    program_year = selectors.program_year_current(today=today)
    if program_year is None:
        return 0
    days_left = (program_year.deadline - today).days
    due = [days for days in REMINDER_DAYS if 0 < days_left <= days]
    if not due:
        return 0
    threshold = min(due)
    sent = 0
    for standing in _members_to_remind(program_year=program_year, today=today):
        created = notification_create(
            user=standing.member,
            kind="maintenance.reminder",
            title=_("%(days)s days left to keep your certification") % {"days": days_left},
            body=_status_body(standing),
            url=reverse("dashboard"),
            dedupe_key=f"maintenance-{program_year.year}-reminder-{threshold}d",
        )
        sent += created is not None
    return sent


def maintenance_monthly_status_send(*, today: date | None = None) -> int:
    """The monthly status email to members not yet met (once per member and month)."""
    from contributions import selectors

    today = today or timezone.localdate()
    program_year = selectors.program_year_current(today=today)
    if program_year is None or today >= program_year.deadline:
        return 0
    sent = 0
    for standing in _members_to_remind(program_year=program_year, today=today):
        created = notification_create(
            user=standing.member,
            kind="maintenance.status",
            title=_("Your certification status for %(month)s") % {"month": date_format(today, "F Y")},
            body=_status_body(standing),
            url=reverse("dashboard"),
            dedupe_key=f"maintenance-{program_year.year}-status-{today:%Y-%m}",
        )
        sent += created is not None
    return sent


# --- Auto-tracked community contributions (used by community_levels) ---


class CommunityCredit(NamedTuple):
    """One member's credit for one community activity type in a year: a row of the upsert.

    Each field is named after the `Contribution` field it fills; the fields, with the constants of
    `_community_credit_constants`, generate the upsert's column list (tests compare it with the model).
    """

    member: int
    activity_type: int
    title: str
    quantity: Decimal
    claimed_points: int
    awarded_points: int
    source_key: str


# The PostgreSQL array type each CommunityCredit field travels in through unnest().
_COMMUNITY_CREDIT_SQL_TYPES = {
    "member": "bigint",
    "activity_type": "bigint",
    "title": "text",
    "quantity": "numeric",
    "claimed_points": "integer",
    "awarded_points": "integer",
    "source_key": "text",
}
# What a staff correction may have changed is not overwritten; what the recount changes is.
_COMMUNITY_CREDIT_UPDATED = ("quantity", "claimed_points", "awarded_points", "title", "occurred_on", "updated_at")


def _community_credit_constants(*, program_year: ProgramYear, occurred_on: date, now) -> dict[str, object]:
    """The values every community credit shares, by `Contribution` field name."""
    return {
        "program_year": program_year.pk,
        "description": "Counted automatically from community activity.",
        "occurred_on": occurred_on,
        "evidence_url": "",
        "evidence_file": "",
        "evidence_name": "",
        "state": Contribution.State.VERIFIED,
        "decision_note": "Credited automatically from community activity.",
        "decided_at": now,
        "source": Contribution.Source.COMMUNITY,
        "created_at": now,
        "submitted_at": now,
        "updated_at": now,
    }


def _column(name: str) -> str:
    return Contribution._meta.get_field(name).column


def _attname(name: str) -> str:
    return Contribution._meta.get_field(name).attname


def community_credit_columns() -> list[str]:
    """The columns the community upsert writes, in its order: the row's fields, then the constants."""
    constants = _community_credit_constants(program_year=ProgramYear(), occurred_on=date.min, now=None)
    return [_column(name) for name in (*CommunityCredit._fields, *constants)]


def _sync_community_portable(*, program_year: ProgramYear, rows: list[CommunityCredit], occurred_on: date, now) -> int:
    """The embedded local run (SQLite): the same upsert as below, row by row through the ORM
    (a demo's few dozen MAs); the same rule that a credit staff corrected is theirs from then on."""
    constants = _community_credit_constants(program_year=program_year, occurred_on=occurred_on, now=now)
    written = 0
    for row in rows:
        existing = Contribution.objects.filter(source_key=row.source_key).first()
        if existing is None:
            contribution = Contribution(
                **{_column(name): value for name, value in row._asdict().items()},
                **{
                    _column(name): value
                    for name, value in constants.items()
                    if name not in ("created_at", "updated_at")
                },
            )
        elif existing.decided_by_id is None and (
            existing.quantity != row.quantity or existing.awarded_points != row.awarded_points
        ):
            contribution = existing
            for name in _COMMUNITY_CREDIT_UPDATED:
                if name != "updated_at":
                    setattr(contribution, name, getattr(row, name) if name in row._fields else constants[name])
        else:
            continue
        contribution._change_reason = "Community recompute"
        contribution.save()
        written += 1
    return written


def contributions_sync_community(
    *,
    program_year: ProgramYear,
    counts: list[tuple[int, str, int]],
    occurred_on: date,
) -> int:
    """Keep one auto-tracked, verified contribution per MA, community activity type and year.

    `counts` holds `(user_id, activity type code, count of that activity in the year)`. Each
    row becomes (or updates) the contribution keyed `community:{year}:{code}:{user_id}`, so a
    member's forum replies are counted once however often the recompute runs; points are the
    type's points for the count, capped at the type's annual cap. Set-based whatever the number
    of members: the rows travel as arrays into one `INSERT ... SELECT FROM unnest(...) ON CONFLICT
    (source_key) DO UPDATE` and one history insert covers the rows that were created or changed.
    Columns are named through `Contribution._meta` from `CommunityCredit`'s fields.
    Returns how many contributions were created or changed.
    """

    types = {
        activity_type.code: activity_type
        for activity_type in ActivityType.objects.filter(
            program_year=program_year, tracking=ActivityType.Tracking.COMMUNITY, is_active=True
        )
    }
    now = timezone.now()
    rows: list[CommunityCredit] = []
    for user_id, code, quantity in counts:
        activity_type = types.get(code)
        if activity_type is None or quantity <= 0:
            continue
        awarded = points_for(activity_type=activity_type, quantity=quantity)
        if activity_type.annual_cap is not None:
            awarded = min(awarded, activity_type.annual_cap)
        rows.append(
            CommunityCredit(
                member=user_id,
                activity_type=activity_type.pk,
                title=f"{activity_type.name}: {quantity} in the community ({program_year.year})"[:200],
                quantity=Decimal(quantity),
                claimed_points=awarded,
                awarded_points=awarded,
                source_key=f"community:{program_year.year}:{code}:{user_id}",
            )
        )
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        return _sync_community_portable(program_year=program_year, rows=rows, occurred_on=occurred_on, now=now)
    table = Contribution._meta.db_table
    history = Contribution.history.model
    tracked = [f.column for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    constants = _community_credit_constants(program_year=program_year, occurred_on=occurred_on, now=now)
    row_columns = [_column(name) for name in CommunityCredit._fields]
    arrays = ", ".join(f"%s::{_COMMUNITY_CREDIT_SQL_TYPES[name]}[]" for name in CommunityCredit._fields)
    updated = ", ".join(f"{_column(name)} = excluded.{_column(name)}" for name in _COMMUNITY_CREDIT_UPDATED)
    quantity, awarded, decided_by = _column("quantity"), _column("awarded_points"), _column("decided_by")
    source_key = _column("source_key")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(community_credit_columns())}) "  # noqa: S608
            f"SELECT {', '.join(f'r.{c}' for c in row_columns)}, {', '.join(['%s'] * len(constants))} "
            f"FROM unnest({arrays}) AS r({', '.join(row_columns)}) "
            f"ON CONFLICT ({source_key}) WHERE NOT ({source_key} = '') DO UPDATE SET {updated} "
            # A credit that staff corrected or reopened (decided_by set) is theirs from then on.
            f"WHERE {table}.{decided_by} IS NULL AND ({table}.{quantity} <> excluded.{quantity} "
            f"OR {table}.{awarded} IS DISTINCT FROM excluded.{awarded}) "
            "RETURNING id, (xmax = 0)",
            [*constants.values(), *(list(column) for column in zip(*rows, strict=True))],
        )
        written = cursor.fetchall()
        if written:
            created = [pk for pk, inserted in written if inserted]
            cursor.execute(
                f"INSERT INTO {history._meta.db_table} ({', '.join(tracked)}, history_date, "  # noqa: S608
                f"history_change_reason, history_type, history_user_id) SELECT {', '.join(tracked)}, %s, %s, "
                f"CASE WHEN id = ANY(%s) THEN '+' ELSE '~' END, NULL FROM {table} WHERE id = ANY(%s)",
                [now, "Community recompute", created, [pk for pk, _inserted in written]],
            )
    return len(written)
