"""The member-specific body of `/`, rendered once per state of what it shows and then served from a cache.

The body (`_dashboard_body.html`: everything under the header) costs ~20 queries and a long render;
the data behind it changes rarely. Its cache key is a *fingerprint* that one query reads: an MD5 of
the version (id and `xmin`, see `rows_digest`) of every row the body is computed from (the
member's contributions, requirement statuses, target override, opt-outs, review outcomes,
certificates, certification, sign-ups and their opportunities, community identity; the whole
catalogue configuration: program years, activity types, technical requirements, community levels,
their requirements and the scoring weights), plus today's date, the language, the time zone, the
member's display name, the URL configuration and the code's own version, and whether the session is
the member's first visit (the greeting: it is the session's, not any row's).

Row versions, not timestamps or history ids, are what make this safe whatever writes the rows: the
services, the admin, bulk `UPDATE`s, raw SQL, imports, migrations. Whatever the writer, the next
request reads a different fingerprint and renders again, so an entry is never stale. (Hashing the
rows' full text works as well but costs 3–10 ms for the member with 1,000 contributions; the
versions cost ~0.5 ms.) The one input that is not a row or a date is the clock for a
held slot offer (the next step shows it until it expires): an entry carries the earliest expiry it
shows and is not served after it.

The fingerprint is read BEFORE the render: a write landing between the two leaves a body newer than
its key (a harmless extra render next time), never an older one.

The CSRF token of the opt-out forms is the only per-request part of the body: the body is rendered
with a placeholder in its place and the request's own token is put back on every response
(the shared machinery is `mahome/page_cache.py`).
Off PostgreSQL (the SQLite local run) nothing is cached.
"""

from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import Model
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.models import MACertification
from accounts.requests import AuthenticatedRequest, is_first_visit
from community_levels.models import CommunityMember, Level, LevelRequirement, ScoringWeight
from contributions.models import (
    ActivityType,
    Certificate,
    Contribution,
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    TargetOverride,
    TechnicalRequirement,
)
from engagements.models import Opportunity, SignUp
from mahome import dashboard
from mahome.page_cache import (
    CSRF_PLACEHOLDER,
    cache_key,
    read_fingerprint,
    rows_digest,
    serve,
)

TEMPLATE = "_dashboard_body.html"

# What the body shows about one member: (model, the column holding the member's user id).
MEMBER_ROWS: list[tuple[type[Model], str]] = [
    (MACertification, "user_id"),
    (Contribution, "member_id"),
    (RequirementStatus, "member_id"),
    (TargetOverride, "member_id"),
    (OptOut, "member_id"),
    (ReviewOutcome, "member_id"),
    (Certificate, "member_id"),
    (SignUp, "member_id"),
    (CommunityMember, "user_id"),
]
# The configuration every member's body reads, whole (small tables).
CONFIGURATION: list[type[Model]] = [
    ProgramYear,
    ActivityType,
    TechnicalRequirement,
    Level,
    LevelRequirement,
    ScoringWeight,
]


@cache
def fingerprint_sql() -> str:
    """One SELECT of scalar subqueries over every row the body is computed from (%(member)s: user id)."""
    parts = [
        rows_digest(model, f"WHERE t.{connection.ops.quote_name(column)} = %(member)s") for model, column in MEMBER_ROWS
    ]
    signups = connection.ops.quote_name(SignUp._meta.db_table)
    of_signups = f"WHERE t.id IN (SELECT s.opportunity_id FROM {signups} s WHERE s.member_id = %(member)s)"  # noqa: S608
    parts.append(rows_digest(Opportunity, of_signups))
    parts += [rows_digest(model) for model in CONFIGURATION]
    return "SELECT md5(" + " || '/' || ".join(parts) + ")"


def key(*, request: AuthenticatedRequest, now: datetime) -> str:
    fingerprint = read_fingerprint(fingerprint_sql(), {"member": request.user.pk}, request=request)
    return cache_key(
        prefix="dashboard",
        request=request,
        now=now,
        fingerprint=fingerprint,
        extra=(f"first visit: {is_first_visit(request)}",),
    )


def render_body(*, request: AuthenticatedRequest, now: datetime) -> tuple[str, datetime | None]:
    """The body with the CSRF placeholder, and when it stops being right (a held offer's expiry), if ever."""
    context = dashboard.page(user=request.user, now=now, first_visit=is_first_visit(request))
    expiries = [
        s.offer_expires_at
        for s in context["upcoming"]
        if s.state == SignUp.State.OFFERED and s.offer_expires_at is not None and s.offer_expires_at > now
    ]
    html = render_to_string(TEMPLATE, {**context, "csrf_token": CSRF_PLACEHOLDER}, request=request)
    return html, min(expiries, default=None)


def body(*, request: AuthenticatedRequest, now: datetime | None = None, use_cache: bool = True) -> SafeString:
    """The body for this request: from the cache when its fingerprint is there and still in time."""
    now = now or timezone.now()
    return serve(
        request=request,
        now=now,
        cache_key=(lambda: key(request=request, now=now)) if use_cache else None,
        render=lambda: (*render_body(request=request, now=now), True),
    )
