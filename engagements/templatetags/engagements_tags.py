from django import template
from django.utils.functional import Promise
from django.utils.translation import ngettext

from engagements.models import Opportunity, SignUp, Suggestion

register = template.Library()

STATE_PILLS: dict[str, str] = {  # keyed by the state as stored
    SignUp.State.CONFIRMED: "pill-ok",
    SignUp.State.SCHEDULED: "pill-ok",
    SignUp.State.COMPLETED: "pill-ok",
    SignUp.State.OFFERED: "pill-warn",
    SignUp.State.WAITLISTED: "pill-info",
    SignUp.State.NO_SHOW: "pill-danger",
    SignUp.State.WITHDRAWN: "pill-muted",
    SignUp.State.CANCELLED: "pill-danger",
    Suggestion.State.PENDING: "pill-info",
    Suggestion.State.ACCEPTED: "pill-ok",
    Suggestion.State.DECLINED: "pill-muted",
}


@register.filter
def state_pill(state: str) -> str:
    """The pill colour of a sign-up or suggestion state."""
    return STATE_PILLS.get(state, "pill-muted")


@register.filter
def signup_state_label(state: str) -> str | Promise:
    """The member-facing name of a sign-up state value (e.g. from an annotation)."""
    return SignUp.State(state).label if state in SignUp.State.values else state


@register.filter
def slots_left_text(opportunity) -> str:
    """“3 of 10 left”, the words the browse page's `blocktranslate count` said, for its `slots_left`
    annotation (a filter: one ngettext instead of a block tag's parse of its body on every card)."""
    left = opportunity.slots_left
    return ngettext("%(left)s of %(total)s left", "%(left)s of %(total)s left", left) % {
        "left": left,
        "total": opportunity.capacity,
    }


@register.filter
def category_label(category: str) -> str | Promise:
    """The name of an opportunity category, as `get_category_display` says it, without that method's
    hashing of every choice's lazy label (a translation each) on every card."""
    return Opportunity.Category(category).label if category in Opportunity.Category.values else category
