"""Risk-based audits: the audit queue, its conclusion, and the record of each audit draw."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts.exports import EXPORT_FORMATS
from contributions import services
from contributions.models import (
    Audit,
    AuditRun,
)
from contributions.resources import (
    AuditResource,
)
from contributions.services import audits as audit_services
from mahome.admin_site import ReadOnlyAdminMixin

# --- Risk-based audits --------------------------------------------------------------------------


class AuditConclusionForm(forms.Form):
    note = forms.CharField(
        label=_("What the evidence showed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to each member concerned and kept with the audit."),
    )


class AuditReasonFilter(admin.SimpleListFilter):
    title = _("risk")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return [(code, label) for code, label in audit_services.RISK_LABELS.items()] + [
            ("none", _("Random floor only"))
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(reasons=[])
        if value in audit_services.RISK_LABELS:
            if connection.features.supports_json_field_contains:  # PostgreSQL: jsonb @>
                return queryset.filter(reasons__contains=[value])
            # The embedded SQLite of the local run has no JSON containment: audits are few, read them.
            return queryset.filter(pk__in=[a.pk for a in queryset.only("pk", "reasons") if value in a.reasons])
        return queryset


class AuditOverdueFilter(admin.SimpleListFilter):
    title = _("evidence overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue: no answer by the date"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(state=Audit.State.REQUESTED, evidence_due_on__lt=timezone.localdate())
        return queryset


@admin.register(Audit)
class AuditAdmin(ExportMixin, SimpleHistoryAdmin):
    """The sample, why each claim was chosen, and the outcomes; verifiers conclude with the actions."""

    resource_classes = [AuditResource]
    export_formats = EXPORT_FORMATS
    list_display = [
        "contribution_link",
        "member_email",
        "program_year",
        "risks",
        "chance",
        "state",
        "due",
        "answered_at",
        "concluded_by",
    ]
    list_filter = ["state", AuditOverdueFilter, AuditReasonFilter, "contribution__program_year", "run"]
    list_select_related = ["contribution__member", "contribution__program_year", "concluded_by"]
    search_fields = ["contribution__title", "contribution__member__email"]
    date_hierarchy = "requested_at"
    actions = ["confirm_claims", "reverse_claims"]
    fields = [
        "contribution_link",
        "member_email",
        "risks",
        "chance",
        "state",
        "requested_at",
        "evidence_due_on",
        "answer",
        "answer_url",
        "answered_at",
        "concluded_at",
        "concluded_by",
        "outcome_note",
        "run",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # chosen by the weekly sampling

    def changelist_view(self, request, extra_context=None):
        title = _("Audits: the sample, why each claim was chosen, and the outcomes")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("contribution"), ordering="contribution__title")
    def contribution_link(self, obj: Audit) -> str:
        url = reverse("admin:contributions_contribution_change", args=[obj.contribution_id])
        return format_html('<a href="{}">{}</a>', url, obj.contribution.title)

    @admin.display(description=_("member"), ordering="contribution__member__email")
    def member_email(self, obj: Audit) -> str:
        return obj.contribution.member.email

    @admin.display(description=_("year"), ordering="contribution__program_year__year")
    def program_year(self, obj: Audit) -> int:
        return obj.contribution.program_year.year

    @admin.display(description=_("why chosen"))
    def risks(self, obj: Audit) -> str | Promise:
        return "; ".join(audit_services.risk_labels(obj.reasons)) or _("Random floor only")

    @admin.display(description=_("evidence due"), ordering="evidence_due_on")
    def due(self, obj: Audit) -> str:
        shown = date_format(obj.evidence_due_on)
        if obj.state == Audit.State.REQUESTED and obj.evidence_due_on < timezone.localdate():
            return format_html('{} <strong class="errornote-inline">{}</strong>', shown, _("overdue"))
        return shown

    @admin.display(description=_("chance"), ordering="probability")
    def chance(self, obj: Audit) -> str:
        return f"{obj.probability:.0%}"

    def _conclude(self, request, queryset, *, outcome: audit_services.AuditOutcome):
        title = outcome.label
        open_audits = queryset.filter(state__in=Audit.OPEN_STATES)
        skipped = queryset.count() - open_audits.count()
        consequences: list[str | Promise] = [
            ngettext(
                "%(n)d audit will be concluded and its member told.",
                "%(n)d audits will be concluded and their members told.",
                open_audits.count(),
            )
            % {"n": open_audits.count()}
        ]
        if outcome == audit_services.AuditOutcome.REVERSE:
            consequences.append(
                _("Each claim becomes “not accepted” with no points, through the decision correction (in its history).")
            )
        if skipped:
            consequences.append(_("%(n)d already concluded will be skipped.") % {"n": skipped})
        form = AuditConclusionForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "queryset": queryset,
                "form": form,
                "action": f"{outcome}_claims",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "consequences": consequences,
            }
            return TemplateResponse(request, "admin/action_form.html", context)
        done = 0
        for audit in open_audits:
            try:
                audit_services.audit_conclude(
                    audit_id=audit.pk, staff=request.user, outcome=outcome, note=form.cleaned_data["note"]
                )
            except (services.ContributionError, PermissionDenied) as error:
                self.message_user(request, f"{audit}: {error}", messages.WARNING)
            else:
                done += 1
        concluded = ngettext("%(n)d audit concluded.", "%(n)d audits concluded.", done) % {"n": done}
        self.message_user(request, concluded, messages.SUCCESS)
        return None

    @admin.action(description=_("Confirm the selected claims…"), permissions=["change"])
    def confirm_claims(self, request, queryset):
        return self._conclude(request, queryset, outcome=audit_services.AuditOutcome.CONFIRM)

    @admin.action(description=_("Reverse the selected claims…"), permissions=["change"])
    def reverse_claims(self, request, queryset):
        return self._conclude(request, queryset, outcome=audit_services.AuditOutcome.REVERSE)


@admin.register(AuditRun)
class AuditRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["program_year", "ran_at", "rate", "considered", "sampled", "seed"]
    list_filter = ["program_year"]
    fields = readonly_fields = ("program_year", "ran_at", "verified_until", "rate", "seed", "considered", "sampled")
