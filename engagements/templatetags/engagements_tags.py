import hashlib

from django import template
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
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


# What a card shows, read from the browse page's row (its fields and the selector's annotations).
CARD_INPUTS = (
    "pk",
    "slug",
    "title",
    "summary",
    "category",
    "state",
    "signups_closed",
    "signups_not_open",
    "signup_opens_at",
    "member_state",
    "starts_at",
    "location",
    "credited_points",
    "slots_left",
    "capacity",
    "waitlist_enabled",
)


@register.simple_tag
def opportunity_cards(opportunities) -> str:
    """The browse page's cards (`_opportunity_cards.html`), rendered once per state of what they show.

    The cards are a pure function of the rows' values listed in CARD_INPUTS (the page query reads them,
    slots and the member's own state included), the language, the time zone, the URL configuration and
    the code: the cache key is a digest of all of them, so an entry is never stale whoever changed a row;
    a changed row is a new key. The process's own cache (locmem): nothing to invalidate, nothing shared.
    """
    from mahome.page_cache import code_version

    rows = [tuple(getattr(opportunity, name) for name in CARD_INPUTS) for opportunity in opportunities]
    parts = (
        code_version(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        get_script_prefix(),
        str(get_urlconf() or settings.ROOT_URLCONF),
        rows,
    )
    key = "engagements:cards:" + hashlib.md5(repr(parts).encode(), usedforsecurity=False).hexdigest()
    html = cache.get(key)
    if html is None:
        html = render_to_string("engagements/_opportunity_cards.html", {"opportunities": opportunities})
        cache.set(key, html, timeout=CARDS_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - our own template's output


CARDS_CACHE_SECONDS = 600
