"""The member's opportunities list (`/engagements/`), its body rendered once per state of what it shows (issue 16).

The machinery is the dashboard's (mahome/page_cache.py): a key that one query computes, an entry
valid until a time the clock reaches, the CSRF placeholder. What the fingerprint covers here, per query
string (filters and page number are part of the key):

- the page itself, computed live by the page's own filtered query: the ids on the requested page with
  their slots left and the member's own sign-up state, and how many rows the whole filter matches (so a
  sign-up by anyone that fills a slot, a publication, a cancellation, a filter's changed answer all
  change it);
- the versions (id, `xmin`) of the opportunities on the page (their text, dates, capacity);
- the whole catalogue the cards read: activity types (credited points) and program years.

The clock: the cards say whether sign-ups are closed or not yet open (read by the fingerprint with the
page's rows, at the request's time), and "only with open slots" drops what has started or closed (the
page's ids and count, computed live). Dates: today is in the key.
A page number past the last page shows the last page: such a render is not stored.

A hit runs no ORM: building the page's queryset (its annotations, subqueries and filters) and compiling
it cost ~2 ms, more than the rest of the hit. The fingerprint's SQL is compiled once per process for a
query string (and language, time zone, page) with stand-ins for the member and the clock, and each
request puts its own member and time in their places (`fingerprint_query`).
"""

from datetime import UTC, datetime
from functools import lru_cache

from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from accounts.models import User
from accounts.requests import AuthenticatedRequest
from contributions.models import ActivityType, ProgramYear
from engagements import selectors
from engagements.filters import OpportunityFilter
from engagements.models import Opportunity
from mahome import page_cache
from mahome.pagination import page_of, wanted_page
from mahome.query_shape import QueryShape, query_shape

TEMPLATE = "engagements/_opportunity_list_body.html"
PAGE_SIZE = 20


def fingerprint_sql(filterset: OpportunityFilter, *, page: int) -> tuple[str, list]:
    """One SELECT: the page's rows as the page query finds them now, their versions, the catalogue's."""
    offset = (page - 1) * PAGE_SIZE
    matching = filterset.qs
    # The row's version (`xmin`, as page_cache.rows_digest reads it) comes with the row itself: no second
    # scan of the opportunities to find the page's.
    version = RawSQL(f"{connection.ops.quote_name(Opportunity._meta.db_table)}.xmin::text", ())  # noqa: S611 - our own name
    shown_columns = ("pk", "slots_left", "member_state", "signups_closed", "signups_not_open", "row_version")
    rows = matching.annotate(row_version=version).values_list(*shown_columns)[offset : offset + PAGE_SIZE]
    rows_sql, rows_params = rows.query.sql_with_params()
    count_sql, count_params = matching.order_by().values("pk").query.sql_with_params()
    shown = (
        "r.id::text || ':' || coalesce(r.slots_left::text, '-') || ':' || coalesce(r.member_state, '-')"
        " || ':' || coalesce(r.closed::text, '-') || ':' || coalesce(r.not_open::text, '-') || ':' || r.version"
    )
    parts = [
        f"(SELECT coalesce(string_agg({shown}, ',' ORDER BY r.id), '') FROM page_rows r)",  # noqa: S608 - our own names
        f"(SELECT count(*)::text FROM ({count_sql}) c)",  # noqa: S608 - Django's own SQL
        page_cache.rows_digest(ActivityType),
        page_cache.rows_digest(ProgramYear),
    ]
    page_rows = f"WITH page_rows(id, slots_left, member_state, closed, not_open, version) AS ({rows_sql}) "
    sql = page_rows + "SELECT md5(" + " || '/' || ".join(parts) + ")"
    return sql, [*rows_params, *count_params]


def filterset_for(*, data: QueryDict, member: User, now: datetime) -> OpportunityFilter:
    """The page's filters over its queryset: what the render and the fingerprint both query."""
    return OpportunityFilter(data or None, queryset=selectors.opportunity_list(member=member, now=now), now=now)


# Two sets of values no request has (no user has a negative id; no request comes from 1901): compiling with
# each and comparing says which parameters are the member's id and the clock, and that no other is derived
# from them (else the query is compiled per request, as it would be without this).
_STAND_INS = (
    (-(2**62) + 1, datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)),
    (-(2**62) + 2, datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)),
)


@lru_cache(maxsize=256)
def _shape(query: str, page: int, language: str | None, time_zone: str) -> QueryShape | None:
    """The fingerprint query of a query string and page, in stand-ins (the member's id, the clock); None
    when it cannot be reused.

    The arguments are the cache's key: the filters come from the query string, their dates are read in
    the language's formats and compared in the time zone (both active, as in the request).
    """
    return query_shape(
        lambda member_id, now: fingerprint_sql(
            filterset_for(data=QueryDict(query), member=User(pk=member_id), now=now), page=page
        ),
        _STAND_INS,
    )


def fingerprint_query(*, request: AuthenticatedRequest, now: datetime, page: int) -> tuple[str, list]:
    """`fingerprint_sql` of the request's filters and page, for its member at `now`, without building the queryset."""
    query = request.GET.urlencode()
    shape = _shape(query, page, translation.get_language(), timezone.get_current_timezone_name())
    if shape is None:
        return fingerprint_sql(filterset_for(data=request.GET, member=request.user, now=now), page=page)
    params = shape.fill(request.user.pk, now)
    return shape.sql, params


def render_body(*, request: AuthenticatedRequest, filterset: OpportunityFilter, now: datetime):
    """(html, no expiry: the clock is in the fingerprint, storable): not storable when the page shown is
    not the page asked for (past the end: the last page, which the fingerprint did not read)."""
    number = request.GET.get("page")
    page = page_of(filterset.qs, number=number, per_page=PAGE_SIZE)
    html = render_to_string(TEMPLATE, {"filter": filterset, "page": page}, request=request)
    return html, None, page.number == wanted_page(number, PAGE_SIZE)


def body(*, request: AuthenticatedRequest, now: datetime | None = None, use_cache: bool = True) -> SafeString:
    """The list's body for the request's filters and page: from the cache when its fingerprint is there."""
    now = now or timezone.now()

    def key() -> str:
        sql, params = fingerprint_query(request=request, now=now, page=wanted_page(request.GET.get("page"), PAGE_SIZE))
        return page_cache.cache_key(
            prefix="engagements:list",
            request=request,
            now=now,
            fingerprint=page_cache.read_fingerprint(sql, params, request=request),
            extra=[request.GET.urlencode()],
        )

    def render():
        filterset = filterset_for(data=request.GET, member=request.user, now=now)
        return render_body(request=request, filterset=filterset, now=now)

    return page_cache.serve(request=request, now=now, cache_key=key if use_cache else None, render=render)
