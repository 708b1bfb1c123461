"""The waitlist: free slots are offered to the first in line, and offers not taken in time expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from engagements.models import Opportunity, SignUp
from engagements.services.common import (
    end_signup,
    format_moment,
    lock_opportunity,
    notify_member,
    save_with_actor,
    slots_held,
)


def offer_free_slots(opportunity: Opportunity, now: datetime, *, actor: User | None) -> list[SignUp]:
    """Offer every free slot to the first in line. The caller holds the opportunity's lock.

    `actor` is whoever freed the slot (history says who set the offer in motion).
    """
    if opportunity.state not in (Opportunity.State.PUBLISHED, Opportunity.State.CLOSED):
        return []
    if opportunity.starts_at and opportunity.starts_at <= now:
        return []
    waiting = SignUp.objects.filter(opportunity=opportunity, state=SignUp.State.WAITLISTED).select_related("member")
    if opportunity.capacity is not None:
        free = opportunity.capacity - slots_held(opportunity)
        if free <= 0:
            return []
        waiting = waiting.order_by("pk")[:free]
    else:
        waiting = waiting.order_by("pk")
    offered = []
    expires = now + timedelta(hours=opportunity.offer_hours)
    for signup in waiting:
        signup.opportunity = opportunity
        signup.state = SignUp.State.OFFERED
        signup.offered_at = now
        signup.offer_expires_at = expires
        save_with_actor(signup, actor=actor, exclude=["opportunity", "member"])
        notify_member(
            signup,
            "offered",
            _("A slot is yours if you want it: %(title)s") % {"title": opportunity.title},
            _("A slot freed up and you are next in line. Accept it before %(date)s or it passes to the next member.")
            % {"date": format_moment(expires)},
        )
        offered.append(signup)
    return offered


def expire_offer(signup: SignUp, now: datetime, *, actor: User | None) -> None:
    end_signup(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.OFFER_EXPIRED, now, actor=actor)
    notify_member(
        signup,
        "offer_expired",
        _("Your offer expired: %(title)s") % {"title": signup.opportunity.title},
        _("The slot was held for you but not accepted in time, so it passed to the next member."),
    )


def offers_expire(*, now: datetime | None = None) -> int:
    """Pass every expired offer to the next in line (the beat job). Returns how many expired.

    One short transaction per opportunity, so a long run never holds many locks.
    """
    now = now or timezone.now()
    opportunity_ids = (
        SignUp.objects.filter(state=SignUp.State.OFFERED, offer_expires_at__lte=now)
        .values_list("opportunity_id", flat=True)
        .distinct()
    )
    expired = 0
    for opportunity_id in list(opportunity_ids):
        with transaction.atomic():
            opportunity = lock_opportunity(opportunity_id)
            due = SignUp.objects.filter(
                opportunity=opportunity, state=SignUp.State.OFFERED, offer_expires_at__lte=now
            ).select_related("member")
            for signup in due:
                signup.opportunity = opportunity
                expire_offer(signup, now, actor=None)
                expired += 1
            offer_free_slots(opportunity, now, actor=None)
    return expired
