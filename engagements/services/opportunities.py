"""The opportunity's lifecycle and details as staff edit them."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from engagements.models import Opportunity, SignUp
from engagements.services import common
from engagements.services.common import (
    BUSY_SIGNUP,
    EngagementError,
    end_signup,
    lock_opportunity,
    notify_member,
    required_reason,
    save_with_actor,
    slots_held,
)
from engagements.services.waitlist import offer_free_slots
from mahome.locks import locked_or_busy


@transaction.atomic
def opportunity_set_state(*, opportunity_id: int, actor: User, state: str) -> Opportunity:
    """Publish, close or return to draft (cancelling has its own service: it notifies people)."""
    if state == Opportunity.State.CANCELLED:
        raise ValueError("Use opportunity_cancel.")
    opportunity = lock_opportunity(opportunity_id)
    if opportunity.state == Opportunity.State.CANCELLED:
        raise EngagementError(_("A cancelled opportunity cannot be reopened; create a new one."))
    opportunity.state = state
    save_with_actor(opportunity, actor=actor)
    offer_free_slots(opportunity, timezone.now(), actor=actor)
    return opportunity


@transaction.atomic
def opportunity_cancel(*, opportunity_id: int, actor: User | None, reason: str) -> int:
    """Cancel the opportunity and tell everyone with a live sign-up, with the reason. Returns how many were told."""
    reason = required_reason(reason, _("Tell the members why: a reason is required to cancel an opportunity."))
    opportunity = lock_opportunity(opportunity_id)
    if opportunity.state == Opportunity.State.CANCELLED:
        return 0
    now = timezone.now()
    opportunity.state = Opportunity.State.CANCELLED
    opportunity.cancellation_reason = reason
    save_with_actor(opportunity, actor=actor)
    live = SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.LIVE_STATES).select_related("member")
    count = 0
    for signup in live:
        signup.opportunity = opportunity
        end_signup(signup, SignUp.State.CANCELLED, SignUp.EndReason.OPPORTUNITY_CANCELLED, now, actor=actor)
        notify_member(
            signup,
            "cancelled",
            _("Cancelled: %(title)s") % {"title": opportunity.title},
            reason,
        )
        count += 1
    return count


@transaction.atomic
def opportunity_fill_free_slots(*, opportunity_id: int, actor: User | None = None) -> list[SignUp]:
    """Offer every free slot to the waitlist (opportunity_update does this when the capacity rises)."""
    opportunity = lock_opportunity(opportunity_id)
    return offer_free_slots(opportunity, timezone.now(), actor=actor)


def opportunity_capacity_problem(*, opportunity: Opportunity) -> str | None:
    """Why the capacity staff typed cannot be saved: it must leave room for the slots already held.

    Without the row lock this is advice for a form; `opportunity_update` asks it again under the lock.
    """
    if opportunity.pk is None or opportunity.capacity is None:
        return None
    held = slots_held(opportunity)
    if opportunity.capacity < held:
        return _("%(held)s slots are already held; the capacity cannot go below that.") % {"held": held}
    return None


# The fields staff edit on an opportunity's page. State and the cancellation reason change only
# through opportunity_set_state / opportunity_cancel, which notify the people concerned.
OPPORTUNITY_EDITABLE_FIELDS = (
    "title",
    "slug",
    "category",
    "activity_type",
    "points",
    "summary",
    "description",
    "participation",
    "crediting",
    "starts_at",
    "ends_at",
    "location",
    "capacity",
    "signup_opens_at",
    "signup_closes_at",
    "waitlist_enabled",
    "offer_hours",
)


def _editable_changes(changes: Mapping[str, object]) -> dict[str, object]:
    unknown = set(changes) - set(OPPORTUNITY_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    return dict(changes)


def opportunity_deletion_refusal(*, opportunity: Opportunity) -> str | None:
    """Why this opportunity cannot be deleted: only a draft nobody signed up for may go."""
    if opportunity.state != Opportunity.State.DRAFT or SignUp.objects.filter(opportunity=opportunity).exists():
        return _("Members have seen or signed up for this opportunity; cancel it instead, with a reason.")
    return None


@transaction.atomic
def opportunity_delete(*, opportunity_id: int, actor: User | None) -> None:
    """Delete a draft nobody signed up for (a mistake); its history keeps the deletion and who."""
    opportunity = lock_opportunity(opportunity_id)
    refusal = opportunity_deletion_refusal(opportunity=opportunity)
    if refusal:
        raise EngagementError(refusal)
    opportunity._history_user = actor
    opportunity.delete()


def opportunity_create(*, actor: User | None, fields: Mapping[str, object]) -> Opportunity:
    """A new opportunity, always a draft: publishing is a separate step (opportunity_set_state)."""
    with transaction.atomic():
        opportunity = Opportunity(**_editable_changes(fields), state=Opportunity.State.DRAFT)
        opportunity._history_user = actor
        opportunity.full_clean()
        opportunity.save()
    return opportunity


def opportunity_update(
    *, opportunity_id: int, actor: User | None, changes: Mapping[str, object]
) -> tuple[Opportunity, list[SignUp]]:
    """Change the opportunity's details; returns it and the sign-ups offered a slot it freed.

    The capacity rule (never below the slots held) is decided under the opportunity's row lock and
    its slots' locks (every sign-up takes a slot), so no sign-up can commit between the count and the
    save, and PostgreSQL refuses a capacity below the held slots even so (migration 0005);
    only the changed columns are written, so a cancellation or state change committed meanwhile
    is kept. Raises EngagementError (field="capacity") when the capacity is too low, or with a
    "busy" message when the lock is not granted within LOCK_TIMEOUT.
    """
    changes = _editable_changes(changes)
    # Not durable: the admin's save_model calls this inside its own transaction.
    with locked_or_busy(busy=BUSY_SIGNUP, error_class=EngagementError, timeout=common.LOCK_TIMEOUT):
        opportunity = lock_opportunity(opportunity_id)
        for name, value in changes.items():
            setattr(opportunity, name, value)
        if "capacity" in changes:
            problem = opportunity_capacity_problem(opportunity=opportunity)
            if problem:
                raise EngagementError(problem, field="capacity")
        if not changes:
            return opportunity, []
        opportunity._history_user = actor
        opportunity.full_clean()
        opportunity.save(update_fields=[*changes, "updated_at"])
        offered = offer_free_slots(opportunity, timezone.now(), actor=actor) if "capacity" in changes else []
    return opportunity, offered
