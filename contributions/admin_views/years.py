"""A program year's pages: the report (one row per member, CSV/XLSX export, a message to a segment)
and the year-end review (dry run, then the final run)."""

import csv
import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.exports import new_workbook, spreadsheet_response
from accounts.requests import AuthenticatedRequest
from accounts.services import segment_message_refusal
from accounts.spreadsheets import formula_safe
from contributions import rules, selectors, services
from contributions.admin_views.queue import _admin_context
from contributions.admin_views.report_rows import report_rows_html
from contributions.models import ProgramYear, ReviewRun
from contributions.resources import MemberYearReportResource
from mahome.errors import show_refusal


def _program_year_or_404(request: HttpRequest, pk: int) -> ProgramYear:
    program_year = ProgramYear.objects.filter(pk=pk).first()
    if program_year is None:
        raise Http404
    if not request.user.has_perm("contributions.view_programyear"):
        raise PermissionDenied
    return program_year


# The report lists every MA of the year (10,000 and more): the counts, the chart and the exports cover
# them all, the table shows one page at a time (rendering 10,000 rows took seconds and megabytes).
REPORT_PAGE_SIZE = 100

STATUS_COLOURS = {
    rules.MET: "#146c2e",
    rules.RECERTIFIED: "#0f5a26",
    rules.ON_TRACK: "#0b4f8a",
    rules.AT_RISK: "#8a5300",
    rules.LAPSED: "#b3261e",
    rules.OPTED_OUT: "#556070",
}


def program_year_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One row per member; filters; CSV/XLSX export; members by status; the queue's size and age."""
    program_year = _program_year_or_404(request, pk)
    status = request.GET.get("status", "")
    opted_out = request.GET.get("opted_out", "")
    search = request.GET.get("q", "").strip()
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        return _report_export(program_year, export=export, status=status, opted_out=opted_out, search=search)
    report = selectors.program_year_report_page(
        program_year=program_year,
        number=request.GET.get("page"),
        per_page=REPORT_PAGE_SIZE,
        status=status,
        opted_out=opted_out,
        search=search,
    )
    counts = {key: report.counts.get(key, 0) for key in rules.STATUS_LABELS}
    querystring = request.GET.copy()
    querystring.pop("export", None)
    querystring.pop("page", None)
    page = report.page
    context = {
        **_admin_context(request, _("Report %(year)s") % {"year": program_year.year}),
        "program_year": program_year,
        "page": page,
        "rows": report_rows_html(list(page)),
        "counts": [(rules.STATUS_LABELS[key], value) for key, value in counts.items()],
        "chart": _status_chart(counts),
        "queue": selectors.queue_stats(program_year=program_year),
        "can_review": may_run_year_end_review(request.user),
        "can_message": segment_message_refusal(author=request.user) is None,
        "statuses": list(rules.STATUS_LABELS.items()),
        "status": status,
        "opted_out": opted_out,
        "opted_out_choices": rules.OptedOutFilter.choices,
        "q": search,
        "querystring": querystring.urlencode(),
        "opts": ProgramYear._meta,
    }
    return TemplateResponse(request, "contributions/admin/report.html", context)


def _report_export(program_year: ProgramYear, *, export: str, status: str, opted_out: str, search: str) -> HttpResponse:
    """Every member the report's filters select, as CSV or XLSX (the page shows one page of them)."""
    rows = selectors.program_year_report(program_year=program_year, status=status, opted_out=opted_out, search=search)
    dataset = MemberYearReportResource().export(queryset=rows)
    stamp = timezone.localdate().isoformat()
    return spreadsheet_response(
        dataset,
        export=export,
        filename=f"maintenance-{program_year.year}-{stamp}",
        title=_("Report %(year)s") % {"year": program_year.year},
    )


def _status_chart(counts: dict[str, int]) -> dict:
    """The report's chart of members by status, in the statuses' order and colours."""
    return {
        "title": _("Members"),
        "labels": [str(rules.STATUS_LABELS[key]) for key in counts],
        "counts": list(counts.values()),
        "colors": [STATUS_COLOURS[key] for key in counts],
    }


def program_year_report_message(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Message the members the report shows with its filters (status, opt-out, search), each once."""
    from accounts.admin import segment_message_compose

    program_year = _program_year_or_404(request, pk)
    if segment_message_refusal(author=request.user):
        raise PermissionDenied
    status = request.GET.get("status", "")
    opted_out = request.GET.get("opted_out", "")
    search = request.GET.get("q", "").strip()
    rows = selectors.program_year_report(program_year=program_year, status=status, opted_out=opted_out, search=search)
    filters = [str(rules.STATUS_LABELS[status])] if status in rules.STATUS_LABELS else []
    if opted_out in rules.OptedOutFilter.values:
        filters.append(_("opted out") if opted_out == rules.OptedOutFilter.YES else _("not opted out"))
    if search:
        filters.append(_("matching “%(q)s”") % {"q": search})
    segment = _("Report %(year)s: %(filters)s") % {
        "year": program_year.year,
        "filters": ", ".join(filters) or _("every member"),
    }
    report_url = reverse("admin:contributions_programyear_report", args=[program_year.pk])
    querystring = request.GET.urlencode()
    return segment_message_compose(
        request,
        admin_site=admin.site,
        members=[row.member for row in rows],
        segment=segment,
        back_url=f"{report_url}?{querystring}" if querystring else report_url,
        hidden={},
    )


def may_run_year_end_review(user) -> bool:
    """The year-end review (its dry run and its final run) belongs to those who may change program years."""
    return user.has_perm("contributions.change_programyear")


REVIEW_COLUMNS = [
    "email",
    "name",
    "target",
    "verified",
    "pending",
    "needs_information",
    "outcome",
    "would_meet_if_verified",
    "reasons",
    "certificate",
]


def _review_rows(report: services.ReviewReport) -> list[list]:
    return [
        [
            formula_safe(value)
            for value in (
                entry.member.email,
                entry.member.get_full_name(),
                entry.target,
                entry.verified,
                entry.pending,
                entry.needs_info,
                entry.outcome_label,
                _("yes") if entry.would_meet else _("no"),
                " ".join(entry.reasons),
                entry.certificate_number,
            )
        ]
        for entry in report.entries
    ]


def _review_export(report: services.ReviewReport, export: str) -> HttpResponse:
    """The review as CSV (UTF-8 with a BOM, so Excel reads accents) or XLSX; no cell is a formula."""
    rows = _review_rows(report)
    stamp = timezone.localdate().isoformat()
    kind = "dry-run" if report.run is None else "final"
    filename = f"year-end-review-{report.program_year.year}-{kind}-{stamp}.{export}"
    if export == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(REVIEW_COLUMNS)
        writer.writerows(rows)
        response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    else:
        workbook, sheet = new_workbook()
        sheet.title = f"Review {report.program_year.year}"
        sheet.append(REVIEW_COLUMNS)
        for row in rows:
            sheet.append(row)
        xlsx = io.BytesIO()
        workbook.save(xlsx)
        response = HttpResponse(
            xlsx.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def program_year_review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The dry run (exportable); the final run after a confirmation that says what it will produce;
    afterwards, who ran it, when, and what it produced, and no second final run."""
    program_year = _program_year_or_404(request, pk)
    may_run = may_run_year_end_review(request.user)
    if not may_run:
        raise PermissionDenied  # the dry run too: the review is the program admins' (issue 11, item 3)
    title = _("Year-end review %(year)s") % {"year": program_year.year}
    not_started = services.year_end_review_refusal(program_year=program_year, today=timezone.localdate(), final=False)
    if not_started is not None:  # no outcomes, exports or final run to offer: the page says when the year opens
        context = {**_admin_context(request, title), "program_year": program_year, "not_started": not_started}
        return TemplateResponse(request, "contributions/admin/review.html", context)
    wants_final = request.method == "POST" and request.POST.get("confirm") == "final"
    if wants_final and request.POST.get("confirmed") == "yes":
        return _review_final_run(request, program_year)
    report = services.year_end_review(program_year=program_year, dry_run=True)
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        return _review_export(report, export)
    submissions_open = program_year.takes_submissions(timezone.localdate())
    confirming = wants_final and report.run is None and not submissions_open
    if wants_final and report.run is not None:
        messages.warning(request, _already_ran_message(report.run))
    context = {
        **_admin_context(request, title),
        "program_year": program_year,
        "report": report,
        "run": report.run,
        "confirming": confirming,
        "submissions_open": submissions_open,
        "can_run": may_run and report.run is None and not submissions_open,
        "notify_later": program_year.notification_on is not None
        and program_year.notification_on > timezone.localdate(),
        "opts": ProgramYear._meta,
    }
    return TemplateResponse(request, "contributions/admin/review.html", context)


def _review_final_run(request: AuthenticatedRequest, program_year: ProgramYear) -> HttpResponse:
    """The confirmed final run; the page says what it recorded (or that it had already run)."""
    try:
        report = services.year_end_review(program_year=program_year, dry_run=False, by=request.user)
    except services.ContributionError as error:
        show_refusal(request, error)
    else:
        if report.run is None:  # a final run records its run, or finds the one that ran before
            raise RuntimeError("the final review recorded no run")
        if report.already_ran:
            messages.warning(request, _already_ran_message(report.run))
        else:
            messages.success(request, _final_run_message(report, report.run))
    return HttpResponseRedirect(reverse("admin:contributions_programyear_review", args=[program_year.pk]))


def _final_run_message(report: services.ReviewReport, run: ReviewRun) -> str:
    return _("Final review recorded: %(outcomes)s, %(certificates)s; %(notifications)s to notify.") % {
        "outcomes": ngettext("%(n)s outcome", "%(n)s outcomes", report.created_outcomes)
        % {"n": report.created_outcomes},
        "certificates": ngettext("%(n)s certificate", "%(n)s certificates", report.created_certificates)
        % {"n": report.created_certificates},
        "notifications": ngettext("%(n)s member", "%(n)s members", run.notifications) % {"n": run.notifications},
    }


def _already_ran_message(run: ReviewRun) -> str:
    return _("The final review of %(year)s already ran on %(when)s by %(who)s; nothing changed.") % {
        "year": run.program_year.year,
        "when": date_format(timezone.localtime(run.ran_at), "DATETIME_FORMAT"),
        "who": run.run_by.get_full_name() if run.run_by else _("nobody recorded"),
    }
