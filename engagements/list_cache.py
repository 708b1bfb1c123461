"""The member's opportunities list (`/engagements/`), its body rendered once per state of what it shows (issue 16).

The machinery is the dashboard's (mahome/dashboard_cache.py): a key that one query computes, an entry
valid until a time the clock reaches, the CSRF placeholder. What the fingerprint covers here, per query
string (filters and page number are part of the key):

- the page itself, computed live by the page's own filtered query: the ids on the requested page with
  their slots left and the member's own sign-up state, and how many rows the whole filter matches (so a
  sign-up by anyone that fills a slot, a publication, a cancellation, a filter's changed answer all
  change it);
- the versions (id, `xmin`) of the opportunities on the page (their text, dates, capacity);
- the whole catalogue the cards read: activity types (credited points) and program years.

The clock: the cards say whether sign-ups are closed or not yet open, and "only with open slots" drops
what has started; an entry is not served past the next such moment of any published opportunity.
A page number past the last page shows the last page: such a render is not stored.
"""

from datetime import datetime

from django.db.models import Min, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.requests import AuthenticatedRequest
from contributions.models import ActivityType, ProgramYear
from engagements.filters import OpportunityFilter
from engagements.models import Opportunity
from mahome import dashboard_cache
from mahome.pagination import page_of, wanted_page

TEMPLATE = "engagements/_opportunity_list_body.html"
PAGE_SIZE = 20
TIME_FIELDS = ("signup_opens_at", "signup_closes_at", "starts_at")


def fingerprint_sql(filterset: OpportunityFilter, *, page: int) -> tuple[str, list]:
    """One SELECT: the page's rows as the page query finds them now, their versions, the catalogue's."""
    offset = (page - 1) * PAGE_SIZE
    matching = filterset.qs
    rows_sql, rows_params = matching.values_list("pk", "slots_left", "member_state")[
        offset : offset + PAGE_SIZE
    ].query.sql_with_params()
    count_sql, count_params = matching.order_by().values("pk").query.sql_with_params()
    shown = "r.id::text || ':' || coalesce(r.slots_left::text, '-') || ':' || coalesce(r.member_state, '-')"
    parts = [
        f"(SELECT coalesce(string_agg({shown}, ','), '') FROM page_rows r)",
        f"(SELECT count(*)::text FROM ({count_sql}) c)",  # noqa: S608 - Django's own SQL
        dashboard_cache.rows_digest(Opportunity, "WHERE t.id IN (SELECT r.id FROM page_rows r)"),
        dashboard_cache.rows_digest(ActivityType),
        dashboard_cache.rows_digest(ProgramYear),
    ]
    sql = f"WITH page_rows(id, slots_left, member_state) AS ({rows_sql}) SELECT md5(" + " || '/' || ".join(parts) + ")"
    return sql, [*rows_params, *count_params]


def _next_moment(now: datetime) -> datetime | None:
    """The next time a published opportunity's sign-ups open or close, or it starts."""
    published = Opportunity.objects.filter(state=Opportunity.State.PUBLISHED)
    moments = published.aggregate(**{name: Min(name, filter=Q(**{f"{name}__gt": now})) for name in TIME_FIELDS})
    return min((m for m in moments.values() if m is not None), default=None)


def render_body(*, request: AuthenticatedRequest, filterset: OpportunityFilter, now: datetime):
    """(html, valid until, storable): storable unless the page asked for is not the page shown."""
    number = request.GET.get("page")
    page = page_of(filterset.qs, number=number, per_page=PAGE_SIZE)
    html = render_to_string(TEMPLATE, {"filter": filterset, "page": page}, request=request)
    return html, _next_moment(now), page.number == wanted_page(number, PAGE_SIZE)


def body(
    *, request: AuthenticatedRequest, filterset: OpportunityFilter, now: datetime | None = None, use_cache: bool = True
) -> SafeString:
    now = now or timezone.now()

    def key() -> str:
        sql, params = fingerprint_sql(filterset, page=wanted_page(request.GET.get("page"), PAGE_SIZE))
        return dashboard_cache.cache_key(
            prefix="engagements:list",
            request=request,
            now=now,
            fingerprint=dashboard_cache.read_fingerprint(sql, params),
            extra=[request.GET.urlencode()],
        )

    return dashboard_cache.serve(
        request=request,
        now=now,
        cache_key=key if use_cache else None,
        render=lambda: render_body(request=request, filterset=filterset, now=now),
    )
