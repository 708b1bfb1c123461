"""One page of a queryset and its paginator's count in one query (a window count computed before LIMIT)."""

from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, QuerySet, Subquery, Value


def wanted_page(number: str | int | None, per_page: int) -> int:
    """The page `page_of` fetches for `number`: 1 when it is not a number, never an OFFSET past bigint."""
    try:
        wanted = max(1, int(number or 1))
    except (TypeError, ValueError):
        wanted = 1
    return min(wanted, 2**31 // per_page)


def page_of(queryset: QuerySet, *, number: str | int | None, per_page: int) -> Page:
    """`Paginator(queryset, per_page).get_page(number)`, the same page, without the separate COUNT query.

    The rows come back annotated with the number of rows the whole queryset has (an uncorrelated
    subquery, which PostgreSQL runs once; a window count would make it compute every row's annotations
    before LIMIT), so the paginator knows its count from the page itself. Only a page past the end (no
    rows come back) or not a number costs the usual count and a second page query.
    """
    wanted = wanted_page(number, per_page)
    offset = (wanted - 1) * per_page
    total = queryset.order_by().annotate(one=Value(1)).values("one").annotate(n=Count("pk")).values("n")
    counted = queryset.annotate(paginated_total=Subquery(total, output_field=IntegerField()))
    rows = list(counted[offset : offset + per_page])
    paginator = Paginator(queryset, per_page)
    if rows:
        paginator.count = rows[0].paginated_total
        page = paginator.get_page(number)
        if page.number == wanted:
            return Page(rows, wanted, paginator)
        return page
    return paginator.get_page(number)
