"""Admin pages beyond the generated ones: decide on one item, bulk decisions with a message,
the program-year report (with CSV/XLSX export) and the year-end review."""

import csv
import io

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.exports import new_workbook, spreadsheet_response
from accounts.services import segment_message_refusal
from accounts.spreadsheets import formula_safe
from contributions import rules, selectors, services
from contributions.models import Contribution, ProgramYear
from contributions.resources import MemberYearReportResource
from mahome.errors import show_refusal

OVERRIDE_HELP = gettext_lazy(
    "Only to award more than the bound above (a program admin's decision); recorded in the history."
)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("verify", gettext_lazy("Verify")),
            ("needs_info", gettext_lazy("Ask for more information")),
            ("reject", gettext_lazy("Reject")),
        ],
        widget=forms.RadioSelect(attrs={"autofocus": True}),  # the page opens ready for the arrow keys
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
    override_reason = forms.CharField(
        label=gettext_lazy("Override reason"), required=False, max_length=200, help_text=OVERRIDE_HELP
    )

    def __init__(self, *args, may_override: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_override:
            del self.fields["override_reason"]


def _admin_context(request: HttpRequest, title: str | Promise) -> dict:
    return {**admin.site.each_context(request), "title": title}


def _contribution_for_staff(request: HttpRequest, pk: int) -> Contribution:
    contribution = get_object_or_404(
        Contribution.objects.select_related("member", "activity_type", "activity_type__program_year", "program_year"),
        pk=pk,
    )
    model_admin = admin.site._registry[Contribution]
    if not model_admin.has_change_permission(request, contribution):
        raise PermissionDenied
    return contribution


class EvidencePreview(models.TextChoices):
    IMAGE = "image"
    PDF = "pdf"
    NONE = ""  # a download link only


def evidence_preview(contribution: Contribution) -> EvidencePreview:
    """How the decide page shows the evidence file: an image, a PDF or none (a download link only)."""
    if not contribution.evidence_file:
        return EvidencePreview.NONE
    suffix = contribution.evidence_file.name.rsplit(".", 1)[-1].lower()
    if suffix == "pdf":
        return EvidencePreview.PDF
    return EvidencePreview.IMAGE if suffix in ("png", "jpg", "jpeg", "gif", "webp") else EvidencePreview.NONE


def contribution_decide(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = _contribution_for_staff(request, pk)
    may_override = services.may_override_award_bounds(request.user)
    form = DecisionForm(request.POST or None, may_override=may_override)
    if request.method == "POST" and form.is_valid():
        try:
            services.contribution_decide(
                contribution_id=contribution.pk,
                verifier=request.user,
                decision=form.cleaned_data["decision"],
                awarded_points=form.cleaned_data["awarded_points"],
                note=form.cleaned_data["note"],
                override_reason=form.cleaned_data.get("override_reason", ""),
            )
        except services.ContributionError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Decision recorded for “%(title)s”.") % {"title": contribution.title})
            if request.POST.get("next"):
                following = selectors.queue_next(after=contribution)
                if following is not None:
                    return HttpResponseRedirect(reverse("admin:contributions_contribution_decide", args=[following.pk]))
                messages.info(request, _("The queue is empty: every submitted item has been decided."))
            return HttpResponseRedirect(reverse("admin:contributions_contribution_changelist"))
    member_year = selectors.member_year_for(user=contribution.member, program_year=contribution.program_year)
    context = {
        **_admin_context(request, _("Decide: %(title)s") % {"title": contribution.title}),
        "contribution": contribution,
        "limit": services.award_limit(contribution=contribution),
        "member_year": member_year,
        "cap_left": selectors.cap_left(member_year=member_year, activity_type=contribution.activity_type),
        "evidence": evidence_preview(contribution),
        "EvidencePreview": EvidencePreview,
        "waiting_besides": selectors.queue_waiting_besides(contribution=contribution),
        "form": form,
        "opts": Contribution._meta,
    }
    return TemplateResponse(request, "contributions/admin/decide.html", context)


class CorrectionForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("New decision"),
        choices=[
            (Contribution.State.VERIFIED, gettext_lazy("Verified, at the points below")),
            (Contribution.State.REJECTED, gettext_lazy("Not accepted (0 points)")),
            ("reopen", gettext_lazy("Reopen: back to the queue, to be decided again")),
        ],
        widget=forms.RadioSelect,
    )
    awarded_points = forms.IntegerField(
        label=gettext_lazy("Awarded points"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("Leave empty to award the claimed points."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason, shown to the member"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Override reason"), required=False, max_length=200, help_text=OVERRIDE_HELP
    )

    def __init__(self, *args, may_override: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_override:
            del self.fields["override_reason"]


def contribution_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a decision (other points, or not accepted) or reopen it, with a reason for the member."""
    contribution = _contribution_for_staff(request, pk)
    may_override = services.may_override_award_bounds(request.user)
    form = CorrectionForm(request.POST or None, may_override=may_override)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "reopen":
                services.contribution_reopen(contribution_id=contribution.pk, staff=request.user, reason=data["reason"])
            else:
                services.contribution_correct(
                    contribution_id=contribution.pk,
                    staff=request.user,
                    state=data["action"],
                    awarded_points=data["awarded_points"],
                    reason=data["reason"],
                    override_reason=data.get("override_reason", ""),
                )
        except services.ContributionError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("“%(title)s” corrected; the member has been told why.") % {"title": contribution.title},
            )
            return HttpResponseRedirect(reverse("admin:contributions_contribution_change", args=[contribution.pk]))
    context = {
        **_admin_context(request, _("Correct a decision: %(title)s") % {"title": contribution.title}),
        "contribution": contribution,
        "limit": services.award_limit(contribution=contribution),
        "history": selectors.contribution_history(contribution=contribution),
        "form": form,
        "opts": Contribution._meta,
    }
    return TemplateResponse(request, "contributions/admin/correct.html", context)


class MessageForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Message to the member"), widget=forms.Textarea(attrs={"rows": 4}))


class ReasonForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Reason, shown to each member"), widget=forms.Textarea(attrs={"rows": 4}))


BULK_VERBS = {
    "verify": gettext_lazy("verified"),
    "needs_info": gettext_lazy("sent back to the member"),
    "reject": gettext_lazy("rejected"),
    "reopen": gettext_lazy("reopened"),
}
BULK_TITLES = {
    "needs_info": gettext_lazy("Ask for more information"),
    "reject": gettext_lazy("Reject"),
    "reopen": gettext_lazy("Reopen decided items"),
}


def bulk_result_messages(
    model_admin, request: HttpRequest, result: services.BulkResult, *, verb: str | Promise
) -> None:
    done = len(result.done)
    model_admin.message_user(
        request,
        ngettext("%(n)s contribution %(verb)s.", "%(n)s contributions %(verb)s.", done) % {"n": done, "verb": verb},
        messages.SUCCESS,
    )
    for title, why in result.skipped:
        model_admin.message_user(
            request, _("Skipped “%(title)s”: %(why)s") % {"title": title, "why": why}, messages.WARNING
        )


def bulk_decision_with_message(model_admin, request: HttpRequest, queryset, *, decision: str) -> HttpResponse | None:
    """An admin action's intermediate page: one message to every selected member, then the decisions.

    The page lists the selected items with their state, and says which the action will skip.
    """
    form_class = ReasonForm if decision == "reopen" else MessageForm
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        result = services.contributions_decide_bulk(
            contribution_ids=list(queryset.values_list("pk", flat=True)),
            staff=request.user,
            decision=decision,
            note=form.cleaned_data["note"],
        )
        bulk_result_messages(model_admin, request, result, verb=BULK_VERBS[decision])
        return None
    applies = services.BULK_STATES[decision]
    contributions = list(queryset.select_related("member", "activity_type"))
    context = {
        **_admin_context(request, BULK_TITLES[decision]),
        "form": form,
        "contributions": [(c, c.state in applies) for c in contributions],
        "skipped_count": sum(c.state not in applies for c in contributions),
        "applies_to": ", ".join(str(Contribution.State(state).label).lower() for state in applies),
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
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        rows = selectors.program_year_report(
            program_year=program_year, status=status, opted_out=opted_out, search=search
        )
        dataset = MemberYearReportResource().export(queryset=rows)
        stamp = timezone.localdate().isoformat()
        return spreadsheet_response(
            dataset,
            export=export,
            filename=f"maintenance-{program_year.year}-{stamp}",
            title=_("Report %(year)s") % {"year": program_year.year},
        )
    report = selectors.program_year_report_page(
        program_year=program_year,
        number=request.GET.get("page"),
        per_page=REPORT_PAGE_SIZE,
        status=status,
        opted_out=opted_out,
        search=search,
    )
    counts = {key: report.counts.get(key, 0) for key in rules.STATUS_LABELS}
    chart = {
        "title": _("Members"),
        "labels": [str(rules.STATUS_LABELS[key]) for key in counts],
        "counts": list(counts.values()),
        "colors": [STATUS_COLOURS[key] for key in counts],
    }
    querystring = request.GET.copy()
    querystring.pop("export", None)
    querystring.pop("page", None)
    page = report.page
    context = {
        **_admin_context(request, _("Report %(year)s") % {"year": program_year.year}),
        "program_year": program_year,
        "page": page,
        "counts": [(rules.STATUS_LABELS[key], value) for key, value in counts.items()],
        "chart": chart,
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


def program_year_report_message(request: HttpRequest, pk: int) -> HttpResponse:
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


def program_year_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run (exportable); the final run after a confirmation that says what it will produce;
    afterwards, who ran it, when, and what it produced, and no second final run."""
    program_year = _program_year_or_404(request, pk)
    may_run = may_run_year_end_review(request.user)
    if not may_run:
        raise PermissionDenied  # the dry run too: the review is the program admins' (issue 11, item 3)
    wants_final = request.method == "POST" and request.POST.get("confirm") == "final"
    if wants_final and not may_run:
        raise PermissionDenied
    if wants_final and request.POST.get("confirmed") == "yes":
        try:
            report = services.year_end_review(program_year=program_year, dry_run=False, by=request.user)
        except services.ContributionError as error:
            show_refusal(request, error)
        else:
            if report.already_ran:
                messages.warning(request, _already_ran_message(report.run))
            else:
                messages.success(
                    request,
                    _("Final review recorded: %(outcomes)s, %(certificates)s; %(notifications)s to notify.")
                    % {
                        "outcomes": ngettext("%(n)s outcome", "%(n)s outcomes", report.created_outcomes)
                        % {"n": report.created_outcomes},
                        "certificates": ngettext("%(n)s certificate", "%(n)s certificates", report.created_certificates)
                        % {"n": report.created_certificates},
                        "notifications": ngettext("%(n)s member", "%(n)s members", report.run.notifications)
                        % {"n": report.run.notifications},
                    },
                )
        return HttpResponseRedirect(reverse("admin:contributions_programyear_review", args=[program_year.pk]))
    report = services.year_end_review(program_year=program_year, dry_run=True)
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        return _review_export(report, export)
    submissions_open = program_year.takes_submissions(timezone.localdate())
    confirming = wants_final and report.run is None and not submissions_open
    if wants_final and report.run is not None:
        messages.warning(request, _already_ran_message(report.run))
    context = {
        **_admin_context(request, _("Year-end review %(year)s") % {"year": program_year.year}),
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


def _already_ran_message(run) -> str:
    return _("The final review of %(year)s already ran on %(when)s by %(who)s; nothing changed.") % {
        "year": run.program_year.year,
        "when": date_format(timezone.localtime(run.ran_at), "DATETIME_FORMAT"),
        "who": run.run_by.get_full_name() if run.run_by else _("nobody recorded"),
    }


class MarkMetForm(forms.Form):
    met_on = forms.DateField(label=gettext_lazy("Met on"), help_text=gettext_lazy("YYYY-MM-DD; not in the future."))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)
    override_reason = forms.CharField(
        label=gettext_lazy("Override reason"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Only for a date after a requirement's due date (a program admin's decision)."),
    )

    def __init__(self, *args, may_override: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_override:
            del self.fields["override_reason"]


def requirement_statuses_mark_met(model_admin, request: HttpRequest, queryset) -> HttpResponse | None:
    """The "Mark met…" action: one date for the selected members; rows the date rule refuses are named."""
    may_override = services.may_override_requirement_date(request.user)
    form = MarkMetForm(request.POST if "apply" in request.POST else None, may_override=may_override)
    if "apply" in request.POST and form.is_valid():
        result = services.requirement_statuses_mark_met(
            status_ids=list(queryset.values_list("pk", flat=True)),
            met_on=form.cleaned_data["met_on"],
            note=form.cleaned_data["note"],
            by=request.user,
            override_reason=form.cleaned_data.get("override_reason", ""),
        )
        done = len(result.done)
        model_admin.message_user(
            request,
            ngettext(
                "%(n)s member marked as having met the requirement.",
                "%(n)s members marked as having met their requirement.",
                done,
            )
            % {"n": done},
            messages.SUCCESS,
        )
        for status, why in result.skipped:
            model_admin.message_user(
                request,
                _("Skipped %(email)s — %(requirement)s: %(why)s")
                % {"email": status.member.email, "requirement": status.requirement.name, "why": why},
                messages.WARNING,
            )
        return None
    context = {
        **_admin_context(request, _("Mark met")),
        "form": form,
        "statuses": queryset.select_related("member", "requirement"),
        "action": request.POST.get("action"),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": queryset.model._meta,
    }
    return TemplateResponse(request, "contributions/admin/mark_met.html", context)
