"""The program-year report: every MA's status from SQL (`contributions.standing`), one page of rows in
full from `member_years`, the counts by status, and the ids of a status for the roster's filter."""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef
from django.utils.translation import get_language

from accounts.models import User
from contributions import rules, standing
from contributions.models import OptOut, ProgramYear
from contributions.selectors.common import _today
from contributions.selectors.members import (
    MemberYear,
    certified_in,
    eligible_members,
    member_years,
    members_matching,
    with_year_records,
)

# The report's order, the standing's (`standing.page_ids`) and the index's on the user's names.
REPORT_ORDER = ("last_name", "first_name", "email")


def program_year_report(
    *, program_year: ProgramYear, today: date | None = None, status: str = "", opted_out: str = "", search: str = ""
) -> list[MemberYear]:
    """One row per member of the year for the admin report, filtered by status, opt-out and name."""
    members = members_matching(eligible_members(program_year=program_year), search=search)
    rows = member_years(program_year=program_year, members=list(members), today=today)
    if status:
        rows = [r for r in rows if r.status == status]
    if opted_out in rules.OptedOutFilter.values:
        rows = [r for r in rows if (r.opt_out is not None) == (opted_out == rules.OptedOutFilter.YES)]
    return rows


@dataclass(frozen=True)
class ReportPage:
    page: Page  # of MemberYear rows
    counts: dict[str, int]  # members by status, over every row the filters keep


def program_year_report_page(
    *,
    program_year: ProgramYear,
    number: str | int | None,
    per_page: int,
    today: date | None = None,
    status: str = "",
    opted_out: str = "",
    search: str = "",
) -> ReportPage:
    """One page of the admin report, its paginator and the status counts, paginated in the database.

    The status of every MA is computed in SQL (`contributions.standing`) for the counts; the page's
    members are read in the report's order (last name, first name, email) from an index on the names
    (`report_page_members`), or, filtered by a status, from the standing itself (one statement for the
    counts and the page's ids). The full standing of the page's members comes from `member_years`, as
    the dashboard's; their override, opt-out and outcome of the year come joined to them
    (`with_year_records`), so the page costs the same few queries whatever the number of MAs.
    Unfiltered by status and search, the counts are stored and the rows kept by the standing's version
    (`standing.counts_and_state`, `_PageRows`): until an input changes, a page reads one row for both.
    """
    today = _today(today)
    sql, params = standing.standing_rows(
        program_year=program_year, today=today, status=status, opted_out=opted_out, search=search
    )
    if status:
        counts, paginator, number, members = _page_of_a_status(
            program_year=program_year, sql=sql, params=params, number=number, per_page=per_page
        )
    elif search:  # a search's counts and rows are not stored: it is rarely the same twice
        counts = standing.status_counts(sql=sql, params=params)
        paginator = Paginator(range(sum(counts.values())), per_page)
        number = paginator.get_page(number).number
        members = report_page_members(
            program_year=program_year,
            search=search,
            opted_out=opted_out,
            offset=(number - 1) * per_page,
            limit=per_page,
            total=paginator.count,
        )
    else:
        counts, state = standing.counts_and_state(sql=sql, params=params)
        paginator = Paginator(range(sum(counts.values())), per_page)
        number = paginator.get_page(number).number
        key = (state, number, per_page, get_language()) if state is not None else None
        rows = _pages.get(key) if key is not None else None
        if rows is None:
            members = report_page_members(
                program_year=program_year,
                opted_out=opted_out,
                search="",
                offset=(number - 1) * per_page,
                limit=per_page,
                total=paginator.count,
            )
            rows = member_years(program_year=program_year, members=members, today=today)
            if key is not None:
                _pages.put(key, rows)
        return ReportPage(page=Page(rows, number, paginator), counts=counts)
    rows = member_years(program_year=program_year, members=members, today=today)
    return ReportPage(page=Page(rows, number, paginator), counts=counts)


class _PageRows:
    """The rows of the report's last pages (unfiltered by status and search), in this process, by the state
    of the standing's inputs they were computed at (`standing.counts_and_state`), the page and the language.

    Why: the page's 100 members and their `member_years` were ~14 ms of a ~26 ms page (reading the
    members, their points by type, requirements), recomputed on every view although they change only
    when an input of the standing changes, which moves its version. The version also covers what the
    rows show besides the status: the names and emails (migration 0021) and the activity types. The rows
    are computed after the version was read, so they are at least as new as their key; a write after it
    moves the version, and the next view computes them again. Outside transactions only (the state is
    None inside one). Kept in the process (the rows hold model instances, read-only once made), the
    last `PAGES_KEPT` pages.
    """

    PAGES_KEPT = 32

    def __init__(self) -> None:
        self._rows: OrderedDict[tuple, list[MemberYear]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> list[MemberYear] | None:
        with self._lock:
            rows = self._rows.get(key)
            if rows is not None:
                self._rows.move_to_end(key)
            return rows

    def put(self, key: tuple, rows: list[MemberYear]) -> None:
        with self._lock:
            self._rows[key] = rows
            while len(self._rows) > self.PAGES_KEPT:
                self._rows.popitem(last=False)


_pages = _PageRows()


def _page_of_a_status(
    *, program_year: ProgramYear, sql: str, params: list, number: str | int | None, per_page: int
) -> tuple[dict[str, int], Paginator, int, list[User]]:
    """The counts and one page of the members the standing's SQL keeps (filtered by a status), in two queries."""
    try:  # the page asked for, when it is a page number; checked against the count below
        guess = max(1, int(number or 1))
    except ValueError:
        guess = 1
    counts, ids = standing.counts_and_page(sql=sql, params=params, offset=(guess - 1) * per_page, limit=per_page)
    paginator = Paginator(range(sum(counts.values())), per_page)
    page_number = paginator.get_page(number).number
    if page_number != guess:  # past the last page, or not a number: the paginator's page, as Paginator.get_page says
        ids = standing.page_ids(sql=sql, params=params, offset=(page_number - 1) * per_page, limit=per_page)
    found = with_year_records(
        User.objects.filter(pk__in=ids).select_related("certification"), program_year=program_year
    )
    by_pk = {m.pk: m for m in found}
    return counts, paginator, page_number, [by_pk[pk] for pk in ids]


def report_page_members(
    *, program_year: ProgramYear, search: str, opted_out: str, offset: int, limit: int, total: int | None = None
) -> list[User]:
    """One page of the year's MAs in the report's order, the search and opt-out filters applied, in one
    query: it walks the index on (last name, first name, email) and stops after the page, so the first
    pages read ~100 index entries whatever the number of MAs. Given the `total` the filters keep (the
    counts'), a page in the second half is read walking the index from its end (the same rows, the order
    reversed back): the last page costs what the first does, the middle one reads half of the entries."""
    members = members_matching(certified_in(program_year=program_year), search=search)
    if opted_out in rules.OptedOutFilter.values:
        opt_out = Exists(OptOut.objects.filter(member=OuterRef("pk"), program_year=program_year))
        members = members.filter(opt_out if opted_out == rules.OptedOutFilter.YES else ~opt_out)
    members = with_year_records(members.select_related("certification"), program_year=program_year)
    if total is None or offset <= total // 2:
        return list(members.order_by(*REPORT_ORDER)[offset : offset + limit])
    end = max(0, total - offset)  # rows from this page's first to the last, counted from the end
    backwards = members.order_by(*(f"-{column}" for column in REPORT_ORDER))[max(0, end - limit) : end]
    return list(reversed(backwards))


def program_year_status_counts(*, program_year: ProgramYear, today: date | None = None) -> dict[str, int]:
    """Members of the year by status (met, on track, at risk, opted out…), computed in SQL in one query."""
    sql, params = standing.standing_rows(program_year=program_year, today=_today(today))
    return standing.stored_status_counts(sql=sql, params=params)


def member_ids_with_status_sql(
    *, program_year: ProgramYear, status: str, today: date | None = None
) -> tuple[str, list]:
    """SQL (and its parameters) selecting the ids of the year's MAs whose status is `status`, to use as a
    subquery (`pk__in=RawSQL(...)`): the roster filters by this year's status in one query."""
    sql, params = standing.standing_rows(program_year=program_year, today=_today(today), status=status)
    return f"SELECT id FROM ({sql}) members_with_status", params  # noqa: S608 - values are parameters
