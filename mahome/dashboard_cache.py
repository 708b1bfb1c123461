"""The member-specific body of `/`, rendered once per state of what it shows and then served from a cache.

The body (`_dashboard_body.html`: everything under the header) costs ~20 queries and a long render;
the data behind it changes rarely. Its cache key is a *fingerprint* that one query reads: an MD5 of
the version (id and `xmin`, see `rows_digest`) of every row the body is computed from (the
member's contributions, requirement statuses, target override, opt-outs, review outcomes,
certificates, certification, sign-ups and their opportunities, community identity; the whole
catalogue configuration: program years, activity types, technical requirements, community levels,
their requirements and the scoring weights), plus today's date, the language, the time zone, the
member's display name, the URL configuration and the code's own version.

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
with a placeholder in its place and the request's own token is put back on every response.
Off PostgreSQL (the SQLite local run) nothing is cached.
"""

import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path

import django
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import Model
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from accounts.models import MACertification
from accounts.requests import AuthenticatedRequest
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

CACHE_ALIAS = "dashboard"
TEMPLATE = "_dashboard_body.html"
# In the body instead of the request's CSRF token; only the csrf_token tag's exact output is replaced.
CSRF_PLACEHOLDER = "dashboardcsrfplaceholder"
CSRF_INPUT = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
TIMEOUT = 60 * 60 * 24  # the key holds the date: an entry is useless after the day anyway

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


def rows_digest(model: type[Model], where: str = "") -> str:
    """SQL: the MD5 of the rows' versions, `id.xmin` in id order ('' when there are none).

    PostgreSQL writes a new version of a row for every UPDATE, stamped (`xmin`) with the id of the
    transaction that wrote it; an INSERT adds an id, a DELETE removes one. So the list changes with
    any committed write, by any writer. Transaction ids only wrap around after ~4 billion
    transactions, far beyond an entry's life (TIMEOUT).
    """
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    versions = f"t.{pk}::text || '.' || t.xmin::text"
    return f"(SELECT coalesce(md5(string_agg({versions}, ',' ORDER BY t.{pk})), '') FROM {table} t {where})"  # noqa: S608 - our own names


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


def read_fingerprint(sql: str, params) -> str:
    """Run a fingerprint query: one row, one column."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] or ""


def fingerprint(*, member_id: int) -> str:
    return read_fingerprint(fingerprint_sql(), {"member": member_id})


@cache
def code_version() -> str:
    """A digest of the code and templates that render the body: a deployment never serves an older body."""
    digest = hashlib.md5(django.get_version().encode(), usedforsecurity=False)
    base = Path(settings.BASE_DIR)
    for folder in ("accounts", "community_levels", "contributions", "engagements", "mahome", "templates", "locale"):
        for path in sorted((base / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".mo"} and path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def enabled() -> bool:
    """On PostgreSQL, outside any transaction: a transaction sees its own uncommitted writes, and a row
    it writes twice keeps one `xmin`, so what it renders is neither shared nor reused (the view runs
    in autocommit; the tests' transactions render without the cache)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def cache_key(*, prefix: str, request: AuthenticatedRequest, now: datetime, fingerprint: str, extra=()) -> str:
    """The key of a member's cached body: its data's `fingerprint` plus what every render depends on besides
    rows (the code, today, language, time zone, member, display name, URL configuration) and `extra`."""
    user = request.user
    parts = [
        code_version(),
        fingerprint,
        timezone.localdate(now).isoformat(),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        str(user.pk),
        user.display_name,
        # Links: the body's URLs follow the URL configuration and the prefix the app is mounted under.
        str(get_urlconf() or settings.ROOT_URLCONF),
        get_script_prefix(),
        *extra,
    ]
    return prefix + ":" + hashlib.md5("\n".join(parts).encode(), usedforsecurity=False).hexdigest()


def key(*, request: AuthenticatedRequest, now: datetime) -> str:
    return cache_key(prefix="dashboard", request=request, now=now, fingerprint=fingerprint(member_id=request.user.pk))


def render_body(*, request: AuthenticatedRequest, now: datetime) -> tuple[str, datetime | None]:
    """The body with the CSRF placeholder, and when it stops being right (a held offer's expiry), if ever."""
    context = dashboard.page(user=request.user, now=now)
    expiries = [
        s.offer_expires_at
        for s in context["upcoming"]
        if s.state == SignUp.State.OFFERED and s.offer_expires_at is not None and s.offer_expires_at > now
    ]
    html = render_to_string(TEMPLATE, {**context, "csrf_token": CSRF_PLACEHOLDER}, request=request)
    return html, min(expiries, default=None)


def serve(
    *, request: AuthenticatedRequest, now: datetime, cache_key: Callable[[], str] | None, render: Callable[[], tuple]
) -> SafeString:
    """A cached body: the entry under `cache_key()` when there and still in time, else `render()`'s
    `(html, valid_until, storable)`, stored when storable; the request's CSRF token put in the placeholder's place.
    `cache_key` None, or off `enabled()`: always rendered, never stored."""
    store = caches[CACHE_ALIAS]
    key_ = cache_key() if cache_key is not None and enabled() else None
    entry = store.get(key_) if key_ else None
    if entry is not None and (entry[1] is None or now < entry[1]):
        html = entry[0]
    else:
        html, valid_until, storable = render()
        if key_ and storable:
            store.set(key_, (html, valid_until), TIMEOUT)
    placeholder = CSRF_INPUT.format(CSRF_PLACEHOLDER)
    if placeholder in html:
        html = html.replace(placeholder, CSRF_INPUT.format(get_token(request)))
    return mark_safe(html)  # noqa: S308 - rendered by our own template, escaped there


def body(*, request: AuthenticatedRequest, now: datetime | None = None, use_cache: bool = True) -> SafeString:
    """The body for this request: from the cache when its fingerprint is there and still in time."""
    now = now or timezone.now()
    return serve(
        request=request,
        now=now,
        cache_key=(lambda: key(request=request, now=now)) if use_cache else None,
        render=lambda: (*render_body(request=request, now=now), True),
    )
