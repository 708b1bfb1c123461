"""A page body rendered once per state of what it shows, then served from a cache (issue 16).

The machinery the member's dashboard (`mahome/dashboard_cache.py`) and opportunities list
(`engagements/list_cache.py`) share: a key that one query (a *fingerprint* of row versions) and the
request compute, an entry valid until a time the clock reaches, and the CSRF token put back into a
body rendered with a placeholder. What each page's fingerprint covers is said beside it. It knows
no page, so any app may use it.
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
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from accounts.requests import AuthenticatedRequest
from accounts.selectors import notification_unread_count_sql
from mahome.context_processors import UNREAD_COUNT_ATTRIBUTE

CACHE_ALIAS = "dashboard"
# In the body instead of the request's CSRF token; only the csrf_token tag's exact output is replaced.
CSRF_PLACEHOLDER = "dashboardcsrfplaceholder"
CSRF_INPUT = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
TIMEOUT = 60 * 60 * 24  # the key holds the date: an entry is useless after the day anyway


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


def read_fingerprint(sql: str, params, *, request: HttpRequest | None = None) -> str:
    """Run a fingerprint query: one row, one column.

    With the `request` of a signed-in member, the same round trip also reads the header's unread-notification
    count (not part of any cached body), left on the request for the context processor: a hit then costs
    the queries of the trivial page, whose own query reads the count the same way.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0] or ""
    if isinstance(params, dict):
        unread, params = notification_unread_count_sql("%(unread_user)s"), {**params, "unread_user": user.pk}
    else:
        unread, params = notification_unread_count_sql("%s"), [*params, user.pk]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql}), {unread}", params)
        fingerprint, count = cursor.fetchone()
    setattr(request, UNREAD_COUNT_ATTRIBUTE, count)
    return fingerprint or ""


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
