"""The body of the member's community page (`/community/me/`), rendered once per state of what it shows (issue 16).

The machinery is the dashboard's (mahome/page_cache.py): a key that one query computes from the
versions (id, `xmin`) of every row the body is computed from, and an entry valid for the day. What the
fingerprint covers:

- the community identities linked to the member's account (the page shows the most advanced one: its
  username, stored metrics and level);
- their level history (its reasons, dates and levels);
- the rules, whole: levels, their requirements, the scoring weights (scores, "what you need next").

Nothing on the body depends on the clock (dates are the history's, shown in the time zone the key holds).
A member with no community identity gets an empty body: the view shows the page that explains linking,
which is not cached (it names the account's email).
"""

from functools import cache

from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.requests import AuthenticatedRequest
from community_levels import selectors
from community_levels.models import CommunityMember, Level, LevelChange, LevelRequirement, ScoringWeight
from mahome import page_cache

TEMPLATE = "community_levels/_me_body.html"


@cache
def fingerprint_sql() -> str:
    """One SELECT of scalar subqueries over every row the body is computed from (%(user)s: the account's id)."""
    quote = connection.ops.quote_name
    members = (
        f"SELECT m.{quote(CommunityMember._meta.pk.column)} FROM {quote(CommunityMember._meta.db_table)} m"  # noqa: S608 - our own names
        f" WHERE m.{quote(CommunityMember._meta.get_field('user').column)} = %(user)s"
    )
    parts = [
        page_cache.rows_digest(
            CommunityMember, f"WHERE t.{quote(CommunityMember._meta.get_field('user').column)} = %(user)s"
        ),
        page_cache.rows_digest(
            LevelChange, f"WHERE t.{quote(LevelChange._meta.get_field('member').column)} IN ({members})"
        ),
        page_cache.rows_digest(Level),
        page_cache.rows_digest(LevelRequirement),
        page_cache.rows_digest(ScoringWeight),
    ]
    return "SELECT md5(" + " || '/' || ".join(parts) + ")"


def render_body(*, request: AuthenticatedRequest) -> tuple[str, None, bool]:
    """(html, no expiry, storable); the html is empty when the account has no community identity."""
    member = selectors.member_for_user(user=request.user)
    if member is None:
        return "", None, True
    context = {"standing": selectors.member_standing(member=member), "history": selectors.level_history(member=member)}
    return render_to_string(TEMPLATE, context, request=request), None, True


def body(*, request: AuthenticatedRequest, use_cache: bool = True) -> SafeString:
    """The page's body for the request's member: from the cache when its fingerprint is there."""
    now = timezone.now()

    def key() -> str:
        return page_cache.cache_key(
            prefix="community:me",
            request=request,
            now=now,
            fingerprint=page_cache.read_fingerprint(fingerprint_sql(), {"user": request.user.pk}, request=request),
        )

    return page_cache.serve(
        request=request,
        now=now,
        cache_key=key if use_cache else None,
        render=lambda: render_body(request=request),
    )
