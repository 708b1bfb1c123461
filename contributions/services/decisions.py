"""Verification: a verifier's decision, staff corrections and reopenings, bulk decisions, the award bound."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from accounts.services import notification_create
from contributions.errors import ContributionError
from contributions.models import (
    Contribution,
    ContributionMessage,
)
from contributions.rules import UNIT_SINGULAR, UNITS_PLURAL, counted_quantity, points_for, quantity_text
from contributions.services.base import _save
from contributions.services.locks import BUSY_CONTRIBUTION, _staff_write, member_claims_lock
from contributions.services.requirements import _requirement_sync, requirement_report_verified_title


class Decision(models.TextChoices):
    """What staff decide on a pending contribution (one at a time or in bulk), and reopening a decided one."""

    VERIFY = "verify", gettext_lazy("Verify")
    NEEDS_INFO = "needs_info", gettext_lazy("Ask for more information")
    REJECT = "reject", gettext_lazy("Reject")
    REOPEN = "reopen", gettext_lazy("Reopen")


# The decisions on a pending item (the decide page's choices, in its order); reopening is a bulk action.
DECISIONS = (Decision.VERIFY, Decision.NEEDS_INFO, Decision.REJECT)


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
    # When the claimed quantity has a fraction its unit does not count ("1 whole item (1.5 claimed)"):
    # a claim stored before items and sessions were whole (`rules.counted_quantity`).
    whole_units: str = ""

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
        if self.whole_units:
            return _("at most %(n)s points: the type's points for %(units)s") % {
                "n": self.for_quantity,
                "units": self.whole_units,
            }
        return _("at most %(n)s points: the type's points for the claimed quantity") % {"n": self.for_quantity}


def award_limit(*, contribution: Contribution) -> AwardLimit:
    """The one rule for an award's size: the decide and correct pages show it, the services enforce it."""
    activity_type, quantity = contribution.activity_type, contribution.quantity
    counted = counted_quantity(activity_type=activity_type, quantity=quantity)
    whole_units = ""
    if counted != quantity:
        whole_units = ngettext(
            "%(counted)s whole %(unit)s (%(claimed)s claimed)",
            "%(counted)s whole %(units)s (%(claimed)s claimed)",
            int(counted),
        ) % {
            "counted": quantity_text(counted),
            "unit": UNIT_SINGULAR.get(activity_type.unit, activity_type.unit),
            "units": UNITS_PLURAL.get(activity_type.unit, activity_type.unit),
            "claimed": quantity_text(quantity),
        }
    return AwardLimit(
        for_quantity=points_for(activity_type=activity_type, quantity=quantity),
        annual_cap=activity_type.annual_cap,
        ceiling=settings.MAHOME_MAX_POINTS_PER_CONTRIBUTION,
        whole_units=whole_units,
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


# Which items each decision applies to; bulk actions skip (and name) the others. Keyed by the
# decision as the callers pass it (a Decision member equals its value).
DECISION_STATES: dict[str, tuple[str, ...]] = {
    Decision.VERIFY: Contribution.PENDING_STATES,
    Decision.REJECT: Contribution.PENDING_STATES,
    Decision.NEEDS_INFO: (Contribution.State.SUBMITTED,),
}
# The bulk verify ("Verify: claims at the claimed points, …") leaves items that wait on the member's answer alone.
BULK_STATES: dict[str, tuple[str, ...]] = {
    **DECISION_STATES,
    Decision.VERIFY: (Contribution.State.SUBMITTED,),
    Decision.REOPEN: Contribution.DECIDED_STATES,
}
DECIDED_STATES = Contribution.DECIDED_STATES


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
    if decision == Decision.VERIFY:
        _same_claim_counts_once(contribution, reopening=False)
    note = note.strip()
    override = _apply_decision(
        contribution,
        decision=decision,
        awarded_points=awarded_points,
        note=note,
        verifier=verifier,
        override_reason=override_reason,
    )
    contribution.decision_note = note
    contribution.decided_by = verifier
    contribution.decided_at = timezone.now()
    _save(contribution, actor=verifier, reason=_change_reason(decision, override_reason=override))
    if decision == Decision.NEEDS_INFO:
        ContributionMessage.objects.create(
            contribution=contribution, author=verifier, kind=ContributionMessage.Kind.QUESTION, body=note
        )
    _requirement_sync(contribution, actor=verifier)
    _notify_decision(contribution)
    return contribution


def _apply_decision(
    contribution: Contribution,
    *,
    decision: str,
    awarded_points: int | None,
    note: str,
    verifier: User,
    override_reason: str,
) -> str:
    """Set the decided state and points on the (locked) item, or refuse; returns the override reason
    to record ('' if the award needed none)."""
    if decision in (Decision.NEEDS_INFO, Decision.REJECT) and not note:
        raise ContributionError(_("Tell the member why: a message is required."))
    override = ""
    if decision == Decision.VERIFY:
        points = contribution.claimed_points if awarded_points is None else awarded_points
        override = _award_check(
            contribution=contribution, points=points, staff=verifier, override_reason=override_reason
        )
        if points != contribution.claimed_points and not note:
            raise ContributionError(_("Explain to the member why the awarded points differ from the claimed points."))
        contribution.state = Contribution.State.VERIFIED
        contribution.awarded_points = points
    elif decision == Decision.REJECT:
        contribution.state = Contribution.State.REJECTED
        contribution.awarded_points = 0
    else:
        contribution.state = Contribution.State.NEEDS_INFO
    return override


def _same_claim_counts_once(contribution: Contribution, *, reopening: bool) -> None:
    """Of the same claim made twice (`selectors.same_claims`), the points count once: an item is not verified
    while its same claim is verified, and a decided one is not reopened while its same claim still stands.
    Checked under the member's claims lock, so two verifiers deciding the two halves of a pair at once
    verify one."""
    from contributions import selectors

    member_claims_lock(contribution.member_id)
    for other in selectors.same_claims(contribution=contribution):
        values = {"number": other.pk, "state": other.get_state_display().lower()}
        if other.state == Contribution.State.VERIFIED:
            raise ContributionError(
                _(
                    "#%(number)s is the same claim and is verified already: its points count once. Reject this "
                    "one as a duplicate, or correct #%(number)s."
                )
                % values
            )
        if reopening:
            raise ContributionError(
                _("#%(number)s is the same claim and still stands (%(state)s): decide that one instead.") % values
            )


DECISION_NAMES: dict[str, Promise] = {
    Decision.VERIFY: gettext_lazy("verify at the claimed points"),
    Decision.REJECT: gettext_lazy("reject"),
    Decision.NEEDS_INFO: gettext_lazy("ask for more information"),
    Decision.REOPEN: gettext_lazy("reopen"),
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
        _same_claim_counts_once(contribution, reopening=False)
        points = contribution.claimed_points if awarded_points is None else awarded_points
        override = _award_check(contribution=contribution, points=points, staff=staff, override_reason=override_reason)
    else:
        points = 0
    if (state, points) == (contribution.state, contribution.awarded_points):
        if contribution.is_requirement_report:
            raise ContributionError(
                _("“%(title)s” is already %(state)s: nothing to correct.")
                % {"title": contribution.title, "state": contribution.get_state_display().lower()}
            )
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
    _same_claim_counts_once(contribution, reopening=True)
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
    if contribution.state == Contribution.State.VERIFIED and contribution.is_requirement_report:
        title = requirement_report_verified_title(contribution, corrected=corrected)
    elif contribution.state == Contribution.State.VERIFIED:
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
            if decision == Decision.REOPEN:
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
