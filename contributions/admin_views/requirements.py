"""The "Mark met" action's page for members' requirement statuses."""

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.requests import AuthenticatedRequest
from contributions import services
from contributions.admin_views.queue import _admin_context


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


def requirement_statuses_mark_met(model_admin, request: AuthenticatedRequest, queryset) -> HttpResponse | None:
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
