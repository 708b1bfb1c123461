"""Admin pages beyond the generated ones: decide on one item, bulk decisions with a message,
the program-year report (with CSV/XLSX export) and the year-end review."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats import base_formats

from contributions import rules, selectors, services
from contributions.models import Contribution, ProgramYear
from contributions.resources import MemberYearReportResource


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("verify", gettext_lazy("Verify")),
            ("needs_info", gettext_lazy("Ask for more information")),
            ("reject", gettext_lazy("Reject")),
        ],
        widget=forms.RadioSelect,
    )
    awarded_points = forms.IntegerField(
        label=gettext_lazy("Awarded points"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("Leave empty to award the claimed points."),
    )
    note = forms.CharField(
        label=gettext_lazy("Message to the member"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required to ask for information, to reject, or to award other points."),
    )


def _admin_context(request: HttpRequest, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


def contribution_decide(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = get_object_or_404(Contribution.objects.select_related("member", "activity_type"), pk=pk)
    model_admin = admin.site._registry[Contribution]
    if not model_admin.has_change_permission(request, contribution):
        raise PermissionDenied
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contribution_decide(
                contribution_id=contribution.pk,
                verifier=request.user,
                decision=form.cleaned_data["decision"],
                awarded_points=form.cleaned_data["awarded_points"],
                note=form.cleaned_data["note"],
            )
        except services.ContributionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Decision recorded for “%(title)s”.") % {"title": contribution.title})
            return HttpResponseRedirect(reverse("admin:contributions_contribution_changelist"))
    context = {
        **_admin_context(request, _("Decide: %(title)s") % {"title": contribution.title}),
        "contribution": contribution,
        "form": form,
        "opts": Contribution._meta,
    }
    return TemplateResponse(request, "contributions/admin/decide.html", context)


class MessageForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Message to the member"), widget=forms.Textarea(attrs={"rows": 4}))


BULK_TITLES = {
    "needs_info": gettext_lazy("Ask for more information"),
    "reject": gettext_lazy("Reject"),
    "reverse": gettext_lazy("Reverse verified points"),
}


def bulk_decision_with_message(model_admin, request: HttpRequest, queryset, *, decision: str) -> HttpResponse | None:
    """An admin action's intermediate page: one message to every selected member, then the decisions."""
    form = MessageForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done = 0
        for contribution in queryset:
            try:
                if decision == "reverse":
                    services.contribution_reverse(
                        contribution_id=contribution.pk, staff=request.user, note=form.cleaned_data["note"]
                    )
                else:
                    services.contribution_decide(
                        contribution_id=contribution.pk,
                        verifier=request.user,
                        decision=decision,
                        note=form.cleaned_data["note"],
                    )
                done += 1
            except services.ContributionError as error:
                model_admin.message_user(request, str(error), messages.WARNING)
        model_admin.message_user(request, _("%(n)s contributions updated.") % {"n": done}, messages.SUCCESS)
        return None
    context = {
        **_admin_context(request, BULK_TITLES[decision]),
        "form": form,
        "contributions": queryset.select_related("member", "activity_type"),
        "action": request.POST.get("action"),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": Contribution._meta,
    }
    return TemplateResponse(request, "contributions/admin/bulk_message.html", context)


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


def program_year_report(request: HttpRequest, pk: int) -> HttpResponse:
    """One row per member; filters; CSV/XLSX export; members by status; the queue's size and age."""
    program_year = _program_year_or_404(request, pk)
    status = request.GET.get("status", "")
    opted_out = request.GET.get("opted_out", "")
    search = request.GET.get("q", "").strip()
    rows = selectors.program_year_report(program_year=program_year, status=status, opted_out=opted_out, search=search)
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        dataset = MemberYearReportResource().export(queryset=rows)
        file_format = base_formats.CSV() if export == "csv" else base_formats.XLSX()
        response = HttpResponse(file_format.export_data(dataset), content_type=file_format.get_content_type())
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="maintenance-{program_year.year}-{stamp}.{export}"'
        return response
    counts = dict.fromkeys(rules.STATUS_LABELS, 0)
    for row in rows:
        counts[row.status] += 1
    chart = {
        "title": _("Members"),
        "labels": [str(rules.STATUS_LABELS[key]) for key in counts],
        "counts": list(counts.values()),
        "colors": [STATUS_COLOURS[key] for key in counts],
    }
    querystring = request.GET.copy()
    querystring.pop("export", None)
    querystring.pop("page", None)
    page = Paginator(rows, REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_admin_context(request, _("Report %(year)s") % {"year": program_year.year}),
        "program_year": program_year,
        "rows": rows,
        "page": page,
        "counts": [(rules.STATUS_LABELS[key], value) for key, value in counts.items()],
        "chart": chart,
        "queue": selectors.queue_stats(program_year=program_year),
        "can_review": may_run_year_end_review(request.user),
        "statuses": list(rules.STATUS_LABELS.items()),
        "status": status,
        "opted_out": opted_out,
        "q": search,
        "querystring": querystring.urlencode(),
        "opts": ProgramYear._meta,
    }
    return TemplateResponse(request, "contributions/admin/report.html", context)


def may_run_year_end_review(user) -> bool:
    """The year-end review (its dry run and its final run) belongs to those who may change program years."""
    return user.has_perm("contributions.change_programyear")


def program_year_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run first; the final run after an explicit confirmation."""
    program_year = _program_year_or_404(request, pk)
    if not may_run_year_end_review(request.user):
        raise PermissionDenied  # the dry run too: the review is the program admins' (issue 11)
    final = request.method == "POST" and request.POST.get("confirm") == "final"
    if final:
        try:
            report = services.year_end_review(program_year=program_year, dry_run=False, by=request.user)
        except services.ContributionError as error:
            messages.error(request, str(error))
            final = False
        else:
            messages.success(
                request,
                _("Review recorded: %(outcomes)s outcomes and %(certificates)s certificates created.")
                % {"outcomes": report.created_outcomes, "certificates": report.created_certificates},
            )
    if not final:
        report = services.year_end_review(program_year=program_year, dry_run=True)
    context = {
        **_admin_context(request, _("Year-end review %(year)s") % {"year": program_year.year}),
        "program_year": program_year,
        "report": report,
        "counts": report.counts,
        "can_run": not selectors.submissions_open(program_year=program_year, today=timezone.localdate()),
        "opts": ProgramYear._meta,
    }
    return TemplateResponse(request, "contributions/admin/review.html", context)
