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
"""

from datetime import datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.requests import AuthenticatedRequest
from contributions.models import ActivityType, ProgramYear
from engagements.filters import OpportunityFilter
from engagements.models import Opportunity
from mahome import page_cache
from mahome.pagination import page_of, wanted_page

TEMPLATE = "engagements/_opportunity_list_body.html"
PAGE_SIZE = 20


def fingerprint_sql(filterset: OpportunityFilter, *, page: int) -> tuple[str, list]:
    """One SELECT: the page's rows as the page query finds them now, their versions, the catalogue's."""
    offset = (page - 1) * PAGE_SIZE
    matching = filterset.qs
    shown_columns = ("pk", "slots_left", "member_state", "signups_closed", "signups_not_open")
    rows = matching.values_list(*shown_columns)[offset : offset + PAGE_SIZE]
    rows_sql, rows_params = rows.query.sql_with_params()
    count_sql, count_params = matching.order_by().values("pk").query.sql_with_params()
    shown = (
        "r.id::text || ':' || coalesce(r.slots_left::text, '-') || ':' || coalesce(r.member_state, '-')"
        " || ':' || coalesce(r.closed::text, '-') || ':' || coalesce(r.not_open::text, '-')"
    )
    parts = [
        f"(SELECT coalesce(string_agg({shown}, ',' ORDER BY r.id), '') FROM page_rows r)",  # noqa: S608 - our own names
        f"(SELECT count(*)::text FROM ({count_sql}) c)",  # noqa: S608 - Django's own SQL
        page_cache.rows_digest(Opportunity, "WHERE t.id IN (SELECT r.id FROM page_rows r)"),
        page_cache.rows_digest(ActivityType),
        page_cache.rows_digest(ProgramYear),
    ]
    page_rows = f"WITH page_rows(id, slots_left, member_state, closed, not_open) AS ({rows_sql}) "
    sql = page_rows + "SELECT md5(" + " || '/' || ".join(parts) + ")"
    return sql, [*rows_params, *count_params]


def render_body(*, request: AuthenticatedRequest, filterset: OpportunityFilter, now: datetime):
    """(html, no expiry: the clock is in the fingerprint, storable): not storable when the page shown is
    not the page asked for (past the end: the last page, which the fingerprint did not read)."""
    number = request.GET.get("page")
    page = page_of(filterset.qs, number=number, per_page=PAGE_SIZE)
    html = render_to_string(TEMPLATE, {"filter": filterset, "page": page}, request=request)
    return html, None, page.number == wanted_page(number, PAGE_SIZE)


def body(
    *, request: AuthenticatedRequest, filterset: OpportunityFilter, now: datetime | None = None, use_cache: bool = True
) -> SafeString:
    now = now or timezone.now()

    def key() -> str:
        sql, params = fingerprint_sql(filterset, page=wanted_page(request.GET.get("page"), PAGE_SIZE))
        return page_cache.cache_key(
            prefix="engagements:list",
            request=request,
            now=now,
            fingerprint=page_cache.read_fingerprint(sql, params),
            extra=[request.GET.urlencode()],
        )

    return page_cache.serve(
        request=request,
        now=now,
        cache_key=key if use_cache else None,
        render=lambda: render_body(request=request, filterset=filterset, now=now),
    )
