from django import template
from django.utils.functional import Promise

register = template.Library()

STATE_PILLS = {
    "confirmed": "pill-ok",
    "scheduled": "pill-ok",
    "completed": "pill-ok",
    "offered": "pill-warn",
    "waitlisted": "pill-info",
    "no_show": "pill-danger",
    "withdrawn": "pill-muted",
    "cancelled": "pill-danger",
    "pending": "pill-info",
    "accepted": "pill-ok",
    "declined": "pill-muted",
}


@register.filter
def state_pill(state: str) -> str:
    """The pill colour of a sign-up or suggestion state."""
    return STATE_PILLS.get(state, "pill-muted")


@register.filter
def signup_state_label(state: str) -> str | Promise:
    """The member-facing name of a sign-up state value (e.g. from an annotation)."""
    from engagements.models import SignUp

    return SignUp.State(state).label if state in SignUp.State.values else state
