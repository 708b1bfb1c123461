"""Technical requirements and members' requirement statuses (with the import and the "Mark met" action)."""

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.exports import EXPORT_FORMATS
from accounts.imports import PreviewImportMixin
from accounts.requests import AuthenticatedRequest
from contributions import admin_views, services
from contributions.models import (
    RequirementStatus,
    TechnicalRequirement,
)
from contributions.resources import (
    RequirementStatusResource,
)


@admin.register(TechnicalRequirement)
class TechnicalRequirementAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "program_year", "kind", "due_on"]
    list_filter = ["program_year", "kind"]


class RequirementStatusForm(forms.ModelForm):
    """The date rule of `services.requirement_date_refusal`, as a message on the date field."""

    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        max_length=100,
        help_text=_("Only for a completion after the due date (a program admin's decision); kept in the history."),
    )
    current_user = None  # set per request by RequirementStatusAdmin.get_form

    class Meta:
        model = RequirementStatus
        fields = ["requirement", "member", "met_on", "note"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        requirement = cleaned.get("requirement")
        if requirement is not None and "met_on" not in self.errors:
            refusal = services.requirement_date_refusal(
                requirement=requirement,
                met_on=cleaned.get("met_on"),
                by=self.current_user,
                override_reason=cleaned.get("override_reason", ""),
            )
            if refusal:
                self.add_error("met_on", refusal)
        return cleaned


@admin.register(RequirementStatus)
class RequirementStatusAdmin(PreviewImportMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [RequirementStatusResource]
    export_formats = EXPORT_FORMATS
    preview_columns = ["year", "requirement", "member_email", "met_on", "note"]
    form = RequirementStatusForm
    list_display = ["member", "requirement", "met_on", "note", "updated_at"]
    list_filter = ["requirement__program_year", "requirement"]
    search_fields = ["member__email", "requirement__name", "requirement__code"]
    list_select_related = ["member", "requirement", "requirement__program_year"]
    raw_id_fields = ["member"]
    actions = ["mark_met"]
    import_template_name = "admin/contributions/requirementstatus/import.html"

    def get_fields(self, request, obj=None):
        fields = ["requirement", "member", "met_on", "note"]
        if services.may_override_requirement_date(request.user):
            fields.append("override_reason")
        return fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"current_user": request.user})

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("contributions.add_requirementstatus") and request.user.has_perm(
            "contributions.change_requirementstatus"
        )

    def save_model(self, request, obj, form, change):
        saved = services.requirement_status_set(
            requirement=obj.requirement,
            member=obj.member,
            met_on=obj.met_on,
            note=obj.note,
            by=request.user,
            override_reason=form.cleaned_data.get("override_reason", ""),
        )
        obj.pk = saved.pk

    @admin.action(description=_("Mark met…"), permissions=["change"])
    def mark_met(self, request: AuthenticatedRequest, queryset: QuerySet[RequirementStatus]) -> HttpResponse | None:
        return admin_views.requirement_statuses_mark_met(self, request, queryset)
