"""The year report's table rows as HTML, built in Python for the page's rows (issue 16).

The template engine resolved ~3,000 variables for a page of 100 rows (each row's member, figures,
requirements and labels, each value localized and escaped): 10–15 ms, the largest part of the page's
time after the standing's SQL. Here each row is one string format over the same values, localized and
escaped as the template did: `localize` is what the template applies to a value before escaping it (for
an integer without thousand separators it is `str`), and `html.escape` is Django's `escape` without its
per-call laziness check and SafeString (Django's format_html/escape cost ~30 µs a row, as much as the
template). `tests/contributions/test_report_rows.py` checks the HTML against the template's on varied rows.
The rest of the page stays in `contributions/admin/report.html`.
"""

from html import escape

from django.conf import settings
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from contributions.selectors import MemberYear

ROW = (
    "\n      <tr>"
    '\n        <td><a href="{url}?state=all&amp;member={pk}">{email}</a><br>{name}</td>'
    "\n        <td>{target}{override}</td>"
    "\n        <td>{verified}{excess}</td>"
    "\n        <td>{pending}</td>"
    "\n        <td>{status}</td>"
    "\n        <td>{requirements}</td>"
    "\n        <td>{opted_out}</td>"
    "\n      </tr>\n    "
)


def report_rows_html(rows: list[MemberYear]) -> SafeString:
    """The `<tr>` of each row, in order ('' when there are none); every value escaped."""
    number = (lambda value: escape(localize(value))) if settings.USE_THOUSAND_SEPARATOR else str
    labels = {
        "url": escape(reverse("admin:contributions_contribution_changelist")),
        "override": f" ({escape(_('override'))})",
        "over_cap": escape(_("over cap")),
        True: escape(_("Yes")),
        False: escape(_("No")),
    }
    html = "".join(_row_html(row, number=number, labels=labels) for row in rows)
    return mark_safe(html)  # noqa: S308 - every value escaped above


def _row_html(row: MemberYear, *, number, labels: dict) -> str:
    member = row.member
    return ROW.format(
        url=labels["url"],
        pk=number(member.pk),
        email=escape(member.email),
        name=escape(member.get_full_name()),
        target=number(row.target_points),
        override=labels["override"] if row.override else "",
        verified=number(row.verified),
        excess=f" (+{number(row.excess)} {labels['over_cap']})" if row.excess else "",
        pending=number(row.pending),
        status=escape(row.status_label),
        requirements=_requirements_html(row),
        opted_out=labels[row.opt_out is not None],
    )


def _requirements_html(row: MemberYear) -> str:
    """Each requirement's state as the member's dashboard shows it (`rules.requirement_progress`); a met
    one with its date."""
    if not row.requirements:
        return "—"
    return "<br>".join(
        f"{escape(r.requirement.name)}: "
        f"{'✓ ' + escape(str(localize(r.met_on))) if r.is_met else escape(r.progress_label)}"
        for r in row.requirements
    )
