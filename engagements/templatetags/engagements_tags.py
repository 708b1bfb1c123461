from django import template
from django.utils.functional import Promise

from engagements.models import SignUp, Suggestion

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
