"""The engagements rules that the pages and the services share: the page that hides a button and
the service that refuses the action ask the same function."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.models import Opportunity, SignUp
from engagements.services.common import format_moment


def signup_refusal(*, opportunity: Opportunity, now: datetime | None = None) -> str | None:
    """Why a member cannot sign up right now (None when the window is open).

    Capacity is not judged here: `signup_create` takes a slot, which PostgreSQL gives or refuses.
    """
    now = now or timezone.now()
    if opportunity.state == Opportunity.State.CANCELLED:
        return _("This opportunity was cancelled, so it no longer takes sign-ups.")
    if opportunity.state == Opportunity.State.CLOSED:
        return _("Sign-ups for this opportunity are closed.")
    if opportunity.state != Opportunity.State.PUBLISHED:
        return _("This opportunity is not open for sign-ups yet.")
    if opportunity.signup_opens_at and now < opportunity.signup_opens_at:
        return _("Sign-ups open on %(date)s.") % {"date": format_moment(opportunity.signup_opens_at)}
    if opportunity.signup_closes_at and now >= opportunity.signup_closes_at:
        return _("Sign-ups closed on %(date)s.") % {"date": format_moment(opportunity.signup_closes_at)}
    if opportunity.starts_at and now >= opportunity.starts_at:
        return _("This opportunity has already taken place.")
    return None


def signup_engagement_date(*, signup: SignUp) -> datetime | None:
    """The engagement's moment: the scheduled date, else the start (None when ongoing).

    From then on, withdrawing is staff's call and the sign-up can be marked completed.
    """
    return signup.scheduled_for or signup.opportunity.starts_at


def withdraw_refusal(*, signup: SignUp, now: datetime | None = None) -> str | None:
    """Why the member cannot withdraw this sign-up themselves (None while live and before its date).

    The page shows the Withdraw button and `signup_withdraw` accepts exactly when this is None.
    """
    if not signup.is_live:
        return _("This sign-up is no longer active, so there is nothing to withdraw.")
    date = signup_engagement_date(signup=signup)
    if date and (now or timezone.now()) >= date:
        return _("The date of this engagement has passed; please contact the program team to change it.")
    return None
