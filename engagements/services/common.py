"""What every engagements service shares: the domain error, the opportunity's row lock, the
validated save that records the actor, and the member's notification."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import notification_create
from engagements.models import Opportunity, SignUp, Slot
from mahome.errors import DomainError


class EngagementError(DomainError):
    """A rule of the programme refused the change (`field`: the form field it is about, if any)."""


# How long a locking service waits for the opportunity's row lock before answering "busy".
# Read as `common.LOCK_TIMEOUT` at call time, so a test can shorten it in one place.
LOCK_TIMEOUT = "5s"

# A member's request that waits LOCK_TIMEOUT for the opportunity's row lock answers this.
BUSY_SIGNUP = gettext_lazy("Someone else is changing this opportunity right now; please try again in a moment.")


def format_moment(moment: datetime) -> str:
    """A moment in a message (read in notifications too, away from the page): the site's DATETIME_FORMAT
    ("5 Dec 2026, 15:00", `mahome/formats`) and the zone it is in."""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


def notify_member(signup: SignUp, event: str, title: str, body: str = "", url: str = "") -> None:
    notification_create(
        user=signup.member,
        kind=f"engagement.{event}",
        title=title,
        body=body,
        url=url or signup.opportunity.get_absolute_url(),
    )


def lock_opportunity(opportunity_id: int) -> Opportunity:
    """The opportunity's row lock, and in PostgreSQL the lock of each of its slots: what staff and the
    waitlist change (the window, the state, the capacity, who holds a slot) then waits for every sign-up
    taking a slot at that moment, and the sign-ups coming after wait for the change (see `Slot`)."""
    opportunity = Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity_id)
    if connection.vendor == "postgresql":
        list(Slot.objects.filter(opportunity_id=opportunity_id).select_for_update().values_list("pk", flat=True))
    return opportunity


def save_with_actor(instance, *, actor: User | None, **clean_kwargs) -> None:
    """Validate and save; the history records `actor` (None: the system, e.g. the beat job)."""
    instance.full_clean(validate_constraints=False, **clean_kwargs)
    instance._history_user = actor
    instance.save()


def slots_held(opportunity: Opportunity) -> int:
    return SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES).count()


def locked_signup(signup_id: int, *, member: User | None = None) -> SignUp:
    """Lock the sign-up's opportunity, then read the sign-up (its state cannot change under us)."""
    scope = SignUp.objects.all() if member is None else SignUp.objects.filter(member=member)
    opportunity_id = scope.values_list("opportunity_id", flat=True).get(pk=signup_id)
    opportunity = lock_opportunity(opportunity_id)
    signup = SignUp.objects.select_related("member").get(pk=signup_id)
    signup.opportunity = opportunity
    return signup


def required_reason(reason: str, refusal: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise EngagementError(refusal, field="reason")
    return reason


def end_signup(signup: SignUp, state: str, reason: str, now: datetime, *, actor: User | None) -> None:
    signup.state = state
    signup.end_reason = reason
    signup.ended_at = now
    signup.offer_expires_at = None
    save_with_actor(signup, actor=actor, exclude=["opportunity", "member"])
