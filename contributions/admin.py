"""Staff screens: program years and their rules, the verification queue, the report, the review."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin, ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import MACertificationAdmin
from accounts.exports import EXPORT_FORMATS
from accounts.imports import PreviewImportMixin
from accounts.models import MACertification
from contributions import admin_views, audit_services, certificate_services, selectors, services
from contributions.models import (
    ActivityType,
    Audit,
    AuditRun,
    Certificate,
    Contribution,
    OptOut,
    ProgramYear,
    RequirementStatus,
    ReviewOutcome,
    ReviewRun,
    TargetOverride,
    TechnicalRequirement,
)
from contributions.resources import (
    AuditResource,
    CertificateResource,
    ContributionExportResource,
    RequirementStatusResource,
)
from mahome.errors import show_refusal


class TechnicalRequirementInline(admin.TabularInline):
    model = TechnicalRequirement
    extra = 0
    fields = ["kind", "code", "name", "due_on", "description"]


CHANGE_REASON_HELP = _(
    "Required once the year is published, when its target (or, for a type, the catalogue) changes: "
    "kept in the history and, for a target, sent to the members whose target changes."
)


class ProgramYearForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=services.REASON_MAX_LENGTH,
        help_text=CHANGE_REASON_HELP,
    )

    class Meta:
        model = ProgramYear
        fields = [
            "year",
            "target_points",
            "prorating_method",
            "opens_on",
            "deadline",
            "grace_until",
            "final_review_on",
            "notification_on",
            "published_at",
            "audit_rate",
        ]

    def clean(self):
        cleaned = super().clean()
        published = (
            self.instance.pk and ProgramYear.objects.filter(pk=self.instance.pk, published_at__isnull=False).exists()
        )
        if (
            published
            and set(services.TARGET_FIELDS) & set(self.changed_data)
            and not cleaned.get("change_reason", "").strip()
        ):
            self.add_error(
                "change_reason",
                _("Say why the target of a published year changes: members whose target changes are told."),
            )
        return cleaned


class ActivityTypeForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=services.REASON_MAX_LENGTH,
        help_text=CHANGE_REASON_HELP,
    )

    class Meta:
        model = ActivityType
        fields = [
            "program_year",
            "code",
            "name",
            "category",
            "description",
            "points",
            "unit",
            "annual_cap",
            "max_quantity_per_claim",
            "evidence_required",
            "tracking",
            "is_active",
        ]

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("program_year")
        changed = set(self.changed_data) - {"change_reason"}
        if year is not None and year.is_published and changed and not cleaned.get("change_reason", "").strip():
            self.add_error("change_reason", _("Say why the catalogue of a published year changes."))
        return cleaned


class CopyCatalogueForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Copy from"), queryset=ProgramYear.objects.none(), empty_label=None)

    def __init__(self, *args, target: ProgramYear, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = ProgramYear.objects.exclude(pk=target.pk).order_by("-year")


@admin.register(ProgramYear)
class ProgramYearAdmin(SimpleHistoryAdmin):
    form = ProgramYearForm
    list_display = [
        "year",
        "target_points",
        "prorating_method",
        "opens_on",
        "deadline",
        "grace_until",
        "published_at",
        "report_link",
    ]
    inlines = [TechnicalRequirementInline]
    actions = ["publish", "copy_catalogue", "year_end_review"]
    fieldsets = (
        (None, {"fields": ("year", "target_points", "prorating_method", "audit_rate", "change_reason")}),
        (_("Key dates"), {"fields": ("opens_on", "deadline", "grace_until", "final_review_on", "notification_on")}),
        (_("Publication"), {"fields": ("published_at",)}),
    )

    def save_model(self, request: HttpRequest, obj: ProgramYear, form, change: bool) -> None:
        services.program_year_save(program_year=obj, by=request.user, reason=form.cleaned_data.get("change_reason", ""))

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """The year's technical requirements are saved through the services, with who."""
        for requirement in formset.save(commit=False):
            services.technical_requirement_save(requirement=requirement, by=request.user)
        for requirement in formset.deleted_objects:
            services.technical_requirement_delete(requirement=requirement, by=request.user)

    @admin.display(description=_("Report"))
    def report_link(self, obj: ProgramYear) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:contributions_programyear_report", args=[obj.pk]), _("Report")
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/report/",
                self.admin_site.admin_view(admin_views.program_year_report),
                name="contributions_programyear_report",
            ),
            path(
                "<int:pk>/report/message/",
                self.admin_site.admin_view(admin_views.program_year_report_message),
                name="contributions_programyear_report_message",
            ),
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(admin_views.program_year_review),
                name="contributions_programyear_review",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=_("Publish the selected program years"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[ProgramYear]) -> None:
        published = []
        for program_year in queryset:
            try:
                services.program_year_publish(program_year=program_year, by=request.user)
            except services.ContributionError as error:
                show_refusal(request, error)
            else:
                published.append(str(program_year.year))
        if published:
            self.message_user(
                request,
                _("Published %(years)s: members can now see these years' rules.") % {"years": ", ".join(published)},
                messages.SUCCESS,
            )

    @admin.action(description=_("Copy catalogue and requirements from another year…"), permissions=["change"])
    def copy_catalogue(self, request: HttpRequest, queryset: QuerySet[ProgramYear]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Copy into one program year at a time."), messages.WARNING)
            return None
        target = queryset.get()
        form = CopyCatalogueForm(request.POST if "apply" in request.POST else None, target=target)
        if "apply" in request.POST and form.is_valid():
            source = form.cleaned_data["source"]
            try:
                result = services.program_year_copy_catalogue(program_year=target, source=source, by=request.user)
            except services.ContributionError as error:
                show_refusal(request, error)
                return None
            self.message_user(
                request,
                _(
                    "%(types)s and %(requirements)s copied from %(source)s to %(target)s; %(skipped)s already there "
                    "kept as they were. Review them, then publish the year."
                )
                % {
                    "types": ngettext("%(n)s activity type", "%(n)s activity types", result.types_copied)
                    % {"n": result.types_copied},
                    "requirements": ngettext(
                        "%(n)s technical requirement", "%(n)s technical requirements", result.requirements_copied
                    )
                    % {"n": result.requirements_copied},
                    "source": source.year,
                    "target": target.year,
                    "skipped": result.types_skipped + result.requirements_skipped,
                },
                messages.SUCCESS,
            )
            return None
        sources = [
            (year, year.activity_types.filter(is_active=True).count(), year.requirements.count())
            for year in form.fields["source"].queryset
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Copy catalogue and requirements into %(year)s") % {"year": target.year},
            "target": target,
            "form": form,
            "sources": sources,
            "existing_types": target.activity_types.count(),
            "action": request.POST.get("action"),
            "selected": target.pk,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/contributions/programyear/copy_catalogue.html", context)

    @admin.action(description=_("Year-end review (shows a dry run first)"), permissions=["change"])
    def year_end_review(self, request: HttpRequest, queryset: QuerySet[ProgramYear]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Review one program year at a time."), messages.WARNING)
            return None
        return admin_views.program_year_review(request, pk=queryset.get().pk)


@admin.register(ActivityType)
class ActivityTypeAdmin(SimpleHistoryAdmin):
    form = ActivityTypeForm
    list_display = ["name", "program_year", "category", "points", "unit", "annual_cap", "tracking", "is_active"]
    list_filter = ["program_year", "category", "tracking", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["program_year"]

    def save_model(self, request: HttpRequest, obj: ActivityType, form, change: bool) -> None:
        services.activity_type_save(
            activity_type=obj, by=request.user, reason=form.cleaned_data.get("change_reason", "")
        )


class QueueStateFilter(admin.SimpleListFilter):
    """The queue by default: submitted items; any other state on demand."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("all", _("All")), *Contribution.State.choices]

    def choices(self, changelist):
        value = self.value() or Contribution.State.SUBMITTED
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or Contribution.State.SUBMITTED
        if value == "all":
            return queryset
        return queryset.filter(state=value)


class ActivityTypeYearFilter(admin.RelatedFieldListFilter):
    def field_choices(self, field, request, model_admin):
        return [
            (t.pk, str(t))
            for t in ActivityType.objects.select_related("program_year").order_by("-program_year__year", "name")
        ]


class MemberWithItemsFilter(admin.SimpleListFilter):
    """Members who have something waiting for a decision (bounded, unlike a list of every user)."""

    title = _("member")
    parameter_name = "member"

    def lookups(self, request, model_admin):
        waiting = (
            Contribution.objects.filter(state__in=Contribution.PENDING_STATES)
            .values_list("member_id", "member__email")
            .distinct()
            .order_by("member__email")[:200]
        )
        return [(str(pk), email) for pk, email in waiting]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(member_id=value) if value and value.isascii() and value.isdigit() else queryset


@admin.register(Contribution)
class ContributionAdmin(ExportMixin, SimpleHistoryAdmin):
    resource_classes = [ContributionExportResource]
    export_formats = EXPORT_FORMATS

    class Media:
        css = {"all": ["css/queue.css"]}  # the waiting column is never clipped

    list_display = ["title", "decide_link", "member", "type_name", "claimed_points", "evidence", "waiting"]
    list_filter = [
        QueueStateFilter,
        "program_year",
        ("activity_type", ActivityTypeYearFilter),
        MemberWithItemsFilter,
        "source",
    ]
    search_fields = ["title", "member__email", "member__first_name", "member__last_name"]
    list_select_related = ["member", "activity_type", "activity_type__program_year"]
    ordering = ["submitted_at", "pk"]
    raw_id_fields = ["member", "decided_by"]
    actions = ["verify_at_claimed", "ask_for_information", "reject", "reopen"]
    change_form_template = "contributions/admin/contribution_change_form.html"
    readonly_fields = [
        "member",
        "program_year",
        "activity_type",
        "title",
        "description",
        "occurred_on",
        "quantity",
        "evidence",
        "state",
        "claimed_points",
        "awarded_points",
        "decision_note",
        "conversation",
        "decided_by",
        "decided_at",
        "source",
        "source_key",
        "submitted_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Points are corrected or reopened with a reason; a deleted automatic credit would come back.
        return False

    def changelist_view(self, request, extra_context=None):
        """Submitted items by default: the verification queue, titled as such; any other state is a list.
        Either way, the page says that decisions are corrected or reopened, never deleted (issue 11)."""
        state = request.GET.get(QueueStateFilter.parameter_name, Contribution.State.SUBMITTED)
        title = _("Verification queue") if state == Contribution.State.SUBMITTED else _("Contributions")
        subtitle = _("Decisions are corrected or reopened with a reason, never deleted.")
        return super().changelist_view(request, {"title": title, "subtitle": subtitle, **(extra_context or {})})

    @admin.display(description=_("Questions and answers"))
    def conversation(self, obj: Contribution) -> str:
        lines = [
            format_html("<p><strong>{}</strong> {}</p>", message.get_kind_display(), message.body)
            for message in obj.messages.all()
        ]
        return format_html_join("", "{}", ((line,) for line in lines)) if lines else "—"

    @admin.display(description=_("Waiting"), ordering="submitted_at")
    def waiting(self, obj: Contribution) -> str:
        return timesince(obj.submitted_at, depth=1) if obj.submitted_at else "—"

    @admin.display(description=_("Type"), ordering="activity_type__name")
    def type_name(self, obj: Contribution) -> str:
        return obj.activity_type.name

    @admin.display(description=_("Evidence"))
    def evidence(self, obj: Contribution) -> str:
        links = []
        if obj.evidence_url:
            links.append((obj.evidence_url, _("Link")))
        if obj.evidence_file:
            links.append((reverse("contributions:evidence", args=[obj.pk]), _("File")))
        if not links:
            return "—"
        return format_html_join(
            " · ", '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', ((u, str(t)) for u, t in links)
        )

    @admin.display(description=_("Decision"))
    def decide_link(self, obj: Contribution) -> str:
        if obj.state in services.DECIDED_STATES:
            return format_html(
                '{} · <a href="{}">{}</a>',
                obj.get_state_display(),
                reverse("admin:contributions_contribution_correct", args=[obj.pk]),
                _("Correct or reopen"),
            )
        if obj.state not in Contribution.PENDING_STATES:
            return obj.get_state_display()
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:contributions_contribution_decide", args=[obj.pk]),
            _("Decide"),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(admin_views.contribution_decide),
                name="contributions_contribution_decide",
            ),
            path(
                "<int:pk>/correct/",
                self.admin_site.admin_view(admin_views.contribution_correct),
                name="contributions_contribution_correct",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=_("Verify at the claimed points"), permissions=["change"])
    def verify_at_claimed(self, request: HttpRequest, queryset: QuerySet[Contribution]) -> None:
        result = services.contributions_decide_bulk(
            contribution_ids=list(queryset.values_list("pk", flat=True)), staff=request.user, decision="verify"
        )
        admin_views.bulk_result_messages(self, request, result, verb=admin_views.BULK_VERBS["verify"])

    @admin.action(description=_("Ask for more information…"), permissions=["change"])
    def ask_for_information(self, request, queryset):
        return admin_views.bulk_decision_with_message(self, request, queryset, decision="needs_info")

    @admin.action(description=_("Reject…"), permissions=["change"])
    def reject(self, request, queryset):
        return admin_views.bulk_decision_with_message(self, request, queryset, decision="reject")

    @admin.action(description=_("Reopen decided items (back to the queue)…"), permissions=["change"])
    def reopen(self, request, queryset):
        return admin_views.bulk_decision_with_message(self, request, queryset, decision="reopen")


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
        cleaned = super().clean()
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
    def mark_met(self, request: HttpRequest, queryset: QuerySet[RequirementStatus]) -> HttpResponse | None:
        return admin_views.requirement_statuses_mark_met(self, request, queryset)


@admin.register(TargetOverride)
class TargetOverrideAdmin(SimpleHistoryAdmin):
    list_display = ["member", "program_year", "target_points", "reason", "set_by"]
    list_filter = ["program_year"]
    search_fields = ["member__email"]
    raw_id_fields = ["member"]
    fields = ["member", "program_year", "target_points", "reason"]

    def save_model(self, request, obj, form, change):
        saved = services.target_override_set(
            member=obj.member,
            program_year=obj.program_year,
            target_points=obj.target_points,
            reason=obj.reason,
            set_by=request.user,
        )
        obj.pk = saved.pk


@admin.register(OptOut)
class OptOutAdmin(SimpleHistoryAdmin):
    list_display = ["member", "program_year", "reason", "created_at"]
    list_filter = ["program_year"]
    search_fields = ["member__email"]
    readonly_fields = ["member", "program_year", "reason", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ReviewOutcome)
class ReviewOutcomeAdmin(admin.ModelAdmin):
    list_display = ["member", "program_year", "outcome", "target_points", "verified_points", "reviewed_at"]
    list_filter = ["program_year", "outcome"]
    search_fields = ["member__email"]
    list_select_related = ["member", "program_year"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The year-end review's record: a deleted outcome would be silently recreated by the next run.
        return False

    def changelist_view(self, request, extra_context=None):
        title = _("Review outcomes: written by the year-end review, kept as its record (read only)")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


@admin.register(ReviewRun)
class ReviewRunAdmin(admin.ModelAdmin):
    """The record of each final year-end review: read-only, never deleted."""

    list_display = ["program_year", "ran_at", "run_by", "outcomes", "certificates", "notifications", "review_link"]
    list_select_related = ["program_year", "run_by"]
    readonly_fields = ["program_year", "ran_at", "run_by", "outcomes", "certificates", "notifications", "counts"]
    fields = readonly_fields

    @admin.display(description=_("Review page"))
    def review_link(self, obj: ReviewRun) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:contributions_programyear_review", args=[obj.program_year_id]),
            _("Open"),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CertificateActionForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=300)


@admin.register(Certificate)
class CertificateAdmin(ExportMixin, SimpleHistoryAdmin):
    """Certificates are never deleted: staff revoke one with a reason, or re-issue it after a correction."""

    export_formats = EXPORT_FORMATS
    list_display = ["number", "member", "year", "valid_from", "valid_until", "status_display", "issued_at", "links"]
    list_filter = ["year", "state", "source"]
    search_fields = ["number", "member__email", "member__last_name", "verification_code"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    resource_classes = [CertificateResource]
    readonly_fields = [
        "member",
        "number",
        "year",
        "source",
        "program_year",
        "valid_from",
        "valid_until",
        "issued_at",
        "status_display",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
        "superseded_at",
        "superseded_by",
        "correction",
        "is_public",
        "links",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "program_year", "revoked_by", "superseded_by")

    @admin.display(description=_("Status"))
    def status_display(self, obj: Certificate) -> str:
        from contributions import selectors

        return selectors.certificate_status_text(certificate=obj)

    @admin.display(description=_("Links"))
    def links(self, obj: Certificate) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("certificate_verify", args=[obj.verification_code]), _("Public page")
        )

    @admin.display(description=_("Links"))
    def links_and_actions(self, obj: Certificate) -> str:
        """For staff who may revoke and re-issue (a role that may not is not shown the buttons)."""
        items = [(reverse("certificate_verify", args=[obj.verification_code]), _("Public page"))]
        if obj.state != Certificate.State.SUPERSEDED:
            if obj.revoked_at is None:
                items.append((reverse("admin:contributions_certificate_revoke", args=[obj.pk]), _("Revoke")))
            items.append((reverse("admin:contributions_certificate_reissue", args=[obj.pk]), _("Re-issue")))
        return format_html_join(" · ", '<a href="{}">{}</a>', items)

    def _links_for(self, request, names) -> list[str]:
        chosen = "links_and_actions" if self._may_act(request) else "links"
        return [chosen if name == "links" else name for name in names]

    def get_list_display(self, request):
        return self._links_for(request, super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._links_for(request, super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_export_permission(self, request):
        return request.user.has_perm("contributions.view_certificate")

    def changelist_view(self, request, extra_context=None):
        title = _("Certificates: revoked or re-issued with a reason, never deleted")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @staticmethod
    def _may_act(request) -> bool:
        return request is not None and request.user.has_perm("contributions.change_certificate")

    def get_urls(self):
        return [
            path(
                "<int:pk>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="contributions_certificate_revoke",
            ),
            path(
                "<int:pk>/reissue/",
                self.admin_site.admin_view(self.reissue_view),
                name="contributions_certificate_reissue",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._action_view(
            request,
            pk,
            title=_("Revoke certificate %(number)s"),
            explanation=_(
                "Revoking cannot be undone. From now on the public page, the JSON answer and the signed "
                "credential's status list say this certificate is revoked, on today's date, with the reason "
                "below (shown publicly). The certificate is kept; to correct facts instead, re-issue it."
            ),
            label=_("Reason (shown on the public page)"),
            button=_("Revoke the certificate"),
            run=lambda certificate, text: services.certificate_revoke(
                certificate=certificate, reason=text, by=request.user
            ),
            done=_("Certificate %(number)s is revoked."),
        )

    def reissue_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._action_view(
            request,
            pk,
            title=_("Re-issue certificate %(number)s"),
            explanation=_(
                "A new certificate with the same number and dates, and the holder's details as they are now, "
                "replaces this one. It gets a new verification code; the old code's page says it was replaced, "
                "and the old signed credential no longer verifies."
            ),
            label=_("What was corrected"),
            button=_("Re-issue the certificate"),
            run=lambda certificate, text: services.certificate_reissue(
                certificate=certificate, correction=text, by=request.user
            ),
            done=_("Certificate %(number)s was re-issued."),
        )

    def _action_view(self, request, pk, *, title, explanation, label, button, run, done) -> HttpResponse:
        if not self._may_act(request):
            raise PermissionDenied
        certificate = Certificate.objects.select_related("member").filter(pk=pk).first()
        if certificate is None:
            raise Http404
        form = CertificateActionForm(request.POST or None)
        form.fields["text"].label = label
        if request.method == "POST" and form.is_valid():
            try:
                result = run(certificate, form.cleaned_data["text"])
            except services.ContributionError as error:
                show_refusal(request, error, form=form, field="text")
            else:
                messages.success(request, done % {"number": result.number})
                return redirect(reverse("admin:contributions_certificate_change", args=[result.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": title % {"number": certificate.number},
            "explanation": explanation,
            "certificate": certificate,
            "form": form,
            "button": button,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/contributions/certificate/action.html", context)


# --- The MA roster with the current certificate's number -------------------------------------------
# `accounts` knows nothing of certificates (apps depend one way), so the roster it registers is
# completed here: the same admin, with the number of each member's current certificate (the one
# members and employers see) and the reference typed at import kept apart as the legacy number.

admin.site.unregister(MACertification)


@admin.register(MACertification)
class MACertificationRosterAdmin(MACertificationAdmin):
    # The legacy number goes under the current one, in the same cell: the roster fits 1280 px.

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(current_certificate_number=selectors.current_certificate_number(member_ref="user_id"))
        )

    def get_search_results(self, request, queryset, search_term):
        """A current number (MA-YYYY-NNNNNN) finds its holder as well as the legacy numbers do."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        member_id = certificate_services.member_id_from_number(search_term.strip())
        if member_id is not None:
            queryset |= self.get_queryset(request).filter(user_id=member_id)
        return queryset, may_have_duplicates

    @admin.display(description=_("Certificate"), ordering="current_certificate_number")
    def certificate(self, obj: MACertification) -> str:
        return format_html(
            '{}<br><span class="quiet">{} {}</span>',
            obj.current_certificate_number or "—",
            _("Legacy number"),
            obj.certificate_number,
        )


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
    def risks(self, obj: Audit) -> str:
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

    def _conclude(self, request, queryset, *, outcome: str, title: str):
        open_audits = queryset.filter(state__in=Audit.OPEN_STATES)
        skipped = queryset.count() - open_audits.count()
        consequences = [
            ngettext(
                "%(n)d audit will be concluded and its member told.",
                "%(n)d audits will be concluded and their members told.",
                open_audits.count(),
            )
            % {"n": open_audits.count()}
        ]
        if outcome == "reverse":
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
        return self._conclude(request, queryset, outcome="confirm", title=_("Confirm the claims"))

    @admin.action(description=_("Reverse the selected claims…"), permissions=["change"])
    def reverse_claims(self, request, queryset):
        return self._conclude(request, queryset, outcome="reverse", title=_("Reverse the claims"))


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = ["program_year", "ran_at", "rate", "considered", "sampled", "seed"]
    list_filter = ["program_year"]
    readonly_fields = ["program_year", "ran_at", "verified_until", "rate", "seed", "considered", "sampled"]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
