"""The queue's pages beyond the generated ones: decide on one item, correct a decision, bulk decisions
with one message to every member."""

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.requests import AuthenticatedRequest
from contributions import selectors, services
from contributions.models import Contribution
from mahome.errors import show_refusal

OVERRIDE_HELP = gettext_lazy(
    "Only to award more than the bound above (a program admin's decision); recorded in the history."
)


class _AwardForm(forms.Form):
    """A decision's form with `awarded_points` and `override_reason` fields. A requirement report
    (`points=False`) earns no points, so it has neither points to award nor an award bound to override;
    the override is shown only to staff who may award beyond the bound."""

    def __init__(self, *args, may_override: bool, points: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not points:
            del self.fields["awarded_points"]
        if not (may_override and points):
            del self.fields["override_reason"]


REQUIREMENT_REPORT_NOTE_HELP = gettext_lazy(
    "Required to ask for information or to reject; after the due date, a program admin's reason to verify."
)


class DecisionForm(_AwardForm):
    """The decision on one item."""

    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[(decision.value, decision.label) for decision in services.DECISIONS],
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

    def __init__(self, *args, may_override: bool, points: bool = True, **kwargs) -> None:
        super().__init__(*args, may_override=may_override, points=points, **kwargs)
        if not points:
            self.fields["note"].help_text = REQUIREMENT_REPORT_NOTE_HELP


def _admin_context(request: HttpRequest, title: str | Promise) -> dict:
    return {**admin.site.each_context(request), "title": title}


def _points_context(request: AuthenticatedRequest, contribution: Contribution, *, correcting: bool) -> dict:
    """What the decide and correct pages show of an award: a points claim's bound, or, for a requirement
    report (no points), what the decision records."""
    if contribution.is_requirement_report:
        lines = services.requirement_report_decision_lines(
            report=contribution, staff=request.user, correcting=correcting
        )
        return {"limit": None, "report_lines": lines}
    return {"limit": services.award_limit(contribution=contribution), "report_lines": []}


def _contribution_for_staff(request: HttpRequest, pk: int) -> Contribution:
    contribution = get_object_or_404(
        Contribution.objects.select_related(
            "member", "activity_type", "activity_type__program_year", "program_year", "requirement"
        ),
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


def contribution_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contribution = _contribution_for_staff(request, pk)
    may_override = services.may_override_award_bounds(request.user)
    form = DecisionForm(request.POST or None, may_override=may_override, points=not contribution.is_requirement_report)
    if request.method == "POST" and form.is_valid():
        try:
            services.contribution_decide(
                contribution_id=contribution.pk,
                verifier=request.user,
                decision=form.cleaned_data["decision"],
                awarded_points=form.cleaned_data.get("awarded_points"),
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
        **_points_context(request, contribution, correcting=False),
        "member_year": member_year,
        "cap_left": selectors.cap_left(member_year=member_year, activity_type=contribution.activity_type),
        "evidence": evidence_preview(contribution),
        "EvidencePreview": EvidencePreview,
        "waiting_besides": selectors.queue_waiting_besides(contribution=contribution),
        "same_claims": list(selectors.same_claims(contribution=contribution)),
        "form": form,
        "opts": Contribution._meta,
    }
    return TemplateResponse(request, "contributions/admin/decide.html", context)


REOPEN_CHOICE = ("reopen", gettext_lazy("Reopen: back to the queue, to be decided again"))
CORRECTIONS = [
    (Contribution.State.VERIFIED, gettext_lazy("Verified, at the points below")),
    (Contribution.State.REJECTED, gettext_lazy("Not accepted (0 points)")),
    REOPEN_CHOICE,
]
# A requirement report earns no points: what its corrections record instead.
REPORT_CORRECTIONS = [
    (Contribution.State.VERIFIED, gettext_lazy("Verified: the requirement is recorded as met")),
    (Contribution.State.REJECTED, gettext_lazy("Not accepted: the requirement is to do again")),
    REOPEN_CHOICE,
]


class CorrectionForm(_AwardForm):
    action = forms.ChoiceField(
        label=gettext_lazy("New decision"),
        choices=CORRECTIONS,
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

    def __init__(self, *args, may_override: bool, points: bool = True, **kwargs) -> None:
        super().__init__(*args, may_override=may_override, points=points, **kwargs)
        if not points:
            cast(forms.ChoiceField, self.fields["action"]).choices = REPORT_CORRECTIONS


def contribution_correct(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Correct a decision (other points, or not accepted) or reopen it, with a reason for the member."""
    contribution = _contribution_for_staff(request, pk)
    may_override = services.may_override_award_bounds(request.user)
    form = CorrectionForm(
        request.POST or None, may_override=may_override, points=not contribution.is_requirement_report
    )
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
                    awarded_points=data.get("awarded_points"),
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
        **_points_context(request, contribution, correcting=True),
        "history": selectors.contribution_history(contribution=contribution),
        "form": form,
        "opts": Contribution._meta,
    }
    return TemplateResponse(request, "contributions/admin/correct.html", context)


class MessageForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Message to the member"), widget=forms.Textarea(attrs={"rows": 4}))


class ReasonForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Reason, shown to each member"), widget=forms.Textarea(attrs={"rows": 4}))


BULK_VERBS: dict[str, Promise] = {
    services.Decision.VERIFY: gettext_lazy("verified"),
    services.Decision.NEEDS_INFO: gettext_lazy("sent back to the member"),
    services.Decision.REJECT: gettext_lazy("rejected"),
    services.Decision.REOPEN: gettext_lazy("reopened"),
}
BULK_TITLES: dict[str, Promise] = {
    services.Decision.NEEDS_INFO: gettext_lazy("Ask for more information"),
    services.Decision.REJECT: gettext_lazy("Reject"),
    services.Decision.REOPEN: gettext_lazy("Reopen decided items"),
}


def bulk_result_messages(
    model_admin, request: HttpRequest, result: services.BulkResult, *, verb: str | Promise, reports_met: bool = False
) -> None:
    """How many were done (and each skipped item with why). With `reports_met` (a bulk verify), requirement
    reports are counted apart, as what verifying one does: it records the requirement as met, with no points."""
    reports = sum(1 for c in result.done if c.is_requirement_report) if reports_met else 0
    done = len(result.done) - reports
    if done or not reports:
        model_admin.message_user(
            request,
            ngettext("%(n)s contribution %(verb)s.", "%(n)s contributions %(verb)s.", done) % {"n": done, "verb": verb},
            messages.SUCCESS,
        )
    if reports:
        model_admin.message_user(
            request,
            ngettext(
                "%(n)s requirement report verified: its requirement is recorded as met on the date reported.",
                "%(n)s requirement reports verified: their requirements are recorded as met on the dates reported.",
                reports,
            )
            % {"n": reports},
            messages.SUCCESS,
        )
    for title, why in result.skipped:
        model_admin.message_user(
            request, _("Skipped “%(title)s”: %(why)s") % {"title": title, "why": why}, messages.WARNING
        )


def bulk_decision_with_message(
    model_admin, request: AuthenticatedRequest, queryset, *, decision: str
) -> HttpResponse | None:
    """An admin action's intermediate page: one message to every selected member, then the decisions.

    The page lists the selected items with their state, and says which the action will skip.
    """
    form_class = ReasonForm if decision == services.Decision.REOPEN else MessageForm
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
