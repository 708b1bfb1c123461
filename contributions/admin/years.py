"""Program years and their rules: the year, its catalogue, its requirements inline, members' target
overrides and opt-outs."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from accounts.requests import AuthenticatedRequest, signed_in_user
from contributions import admin_views, selectors, services
from contributions.models import (
    ActivityType,
    OptOut,
    ProgramYear,
    TargetOverride,
    TechnicalRequirement,
)
from mahome.admin_site import ReadOnlyAdminMixin, reasoned_action_page
from mahome.errors import show_refusal


class TechnicalRequirementInline(admin.TabularInline):
    model = TechnicalRequirement
    extra = 0
    fields = ["kind", "code", "name", "due_on", "description"]


CHANGE_REASON_HELP = _(
    "Required once the year is published, when its target (or, for a type, the catalogue) changes: "
    "kept in the history and, for a target, sent to the members whose target changes."
)


def change_reason_field() -> forms.CharField:
    """The reason a change of a published year's rules needs (kept in the history)."""
    return forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=services.REASON_MAX_LENGTH,
        help_text=CHANGE_REASON_HELP,
    )


class ProgramYearForm(forms.ModelForm):
    change_reason = change_reason_field()

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
            "audit_rate",
        ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
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
    change_reason = change_reason_field()
    # A refusal the service gave when this same form was saved a moment ago (see changeform_view).
    refusal: services.ContributionError | None = None

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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tracking = self.fields.get("tracking")  # absent where the page is read-only (a verifier's)
        if tracking is not None and self.instance.tracking != ActivityType.Tracking.REQUIREMENT:
            # MA Home's own hidden type for requirement reports (one per year, made when needed):
            # in no catalogue and claimable by nobody, so never a type staff create or turn into.
            assert isinstance(tracking, forms.TypedChoiceField)  # a model field with choices and a default
            tracking.choices = [
                (value, label)
                for value, label in ActivityType.Tracking.choices
                if value != ActivityType.Tracking.REQUIREMENT
            ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        year = cleaned.get("program_year")
        changed = set(self.changed_data) - {"change_reason"}
        if year is not None and year.is_published and changed and not cleaned.get("change_reason", "").strip():
            self.add_error("change_reason", _("Say why the catalogue of a published year changes."))
        if self.refusal is not None:
            self.add_error(self.refusal.field if self.refusal.field in self.fields else None, str(self.refusal))
        if "unit" in self.changed_data and cleaned.get("unit"):
            refusal = services.unit_change_refusal(activity_type_id=self.instance.pk, unit=cleaned["unit"])
            if refusal:
                self.add_error("unit", refusal)
        return cleaned


class CopyCatalogueForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Copy from"), queryset=ProgramYear.objects.none(), empty_label=None)

    def __init__(self, *args, target: ProgramYear, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sources = ProgramYear.objects.exclude(pk=target.pk).order_by("-year")
        source = self.fields["source"]
        assert isinstance(source, forms.ModelChoiceField)  # declared above
        source.queryset = self.sources


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
    # Publishing is the action's alone (it refuses a year with nothing to claim), never a date typed here.
    readonly_fields = ["published_at"]
    fieldsets = (
        (None, {"fields": ("year", "target_points", "prorating_method", "audit_rate", "change_reason")}),
        (_("Key dates"), {"fields": ("opens_on", "deadline", "grace_until", "final_review_on", "notification_on")}),
        (_("Publication"), {"fields": ("published_at",)}),
    )

    def save_model(self, request: HttpRequest, obj: ProgramYear, form, change: bool) -> None:
        services.program_year_save(
            program_year=obj, by=signed_in_user(request), reason=form.cleaned_data.get("change_reason", "")
        )

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """The year's technical requirements are saved through the services, with who."""
        for requirement in formset.save(commit=False):
            services.technical_requirement_save(requirement=requirement, by=signed_in_user(request))
        for requirement in formset.deleted_objects:
            services.technical_requirement_delete(requirement=requirement, by=signed_in_user(request))

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
    def publish(self, request: AuthenticatedRequest, queryset: QuerySet[ProgramYear]) -> None:
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
                ngettext(
                    "Published %(years)s: members can now see this year's rules.",
                    "Published %(years)s: members can now see these years' rules.",
                    len(published),
                )
                % {"years": ", ".join(published)},
                messages.SUCCESS,
            )

    @admin.action(description=_("Copy catalogue and requirements from another year…"), permissions=["change"])
    def copy_catalogue(self, request: AuthenticatedRequest, queryset: QuerySet[ProgramYear]) -> HttpResponse | None:
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
            for year in form.sources
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
    def year_end_review(self, request: AuthenticatedRequest, queryset: QuerySet[ProgramYear]) -> HttpResponse | None:
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_activity_type_refusal", None)
        if refusal is not None:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save the service refuses (a claim of part of an hour came in after the form's check, say)
        shows the form again with the reason beside the field, not an error page.

        The refusal escapes save_model, so the admin's transaction (with its log entry) rolls back;
        the same POST is then validated once more, with everything staff typed kept."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.ContributionError as refusal:
            request._activity_type_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: ActivityType, form, change: bool) -> None:
        services.activity_type_save(
            activity_type=obj, by=signed_in_user(request), reason=form.cleaned_data.get("change_reason", "")
        )


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


class OptOutTakeBackForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the member)"),
        max_length=services.TAKE_BACK_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(OptOut)
class OptOutAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """A member's own choice: never added, changed or deleted here. A program admin takes one back from its
    page with a reason (the member is told; the history keeps who and why), in the member's own window."""

    list_display = ["member", "program_year", "reason", "created_at"]
    list_filter = ["program_year"]
    list_select_related = ["member", "program_year"]
    search_fields = ["member__email"]
    readonly_fields = ["member", "program_year", "reason", "created_at", "take_back_link"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if self._may_take_back(request) else [f for f in fields if f != "take_back_link"]

    def changelist_view(self, request, extra_context=None):
        title = _("Opt-outs: the members' own choice, taken back by staff only with a reason")
        ended = selectors.opt_outs_ended()
        return super().changelist_view(request, {"title": title, "ended": ended, **(extra_context or {})})

    @admin.display(description=_("Take back"))
    def take_back_link(self, obj: OptOut) -> str:
        url = reverse("admin:contributions_optout_take_back", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Take back this opt-out (with a reason)"))

    @staticmethod
    def _may_take_back(request) -> bool:
        return request is not None and request.user.has_perm("contributions.change_optout")

    def get_urls(self):
        return [
            path(
                "<int:pk>/take-back/",
                self.admin_site.admin_view(self.take_back_view),
                name="contributions_optout_take_back",
            ),
            *super().get_urls(),
        ]

    def take_back_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        def title(opt_out: OptOut) -> str:
            return _("Take back %(member)s's opt-out of %(year)s") % {
                "member": opt_out.member,
                "year": opt_out.program_year.year,
            }

        return reasoned_action_page(
            self,
            request,
            allowed=self._may_take_back(request),
            queryset=OptOut.objects.select_related("member", "program_year"),
            pk=pk,
            form_class=OptOutTakeBackForm,
            run=lambda opt_out, reason: services.opt_out_take_back(
                opt_out_id=opt_out.pk, by=signed_in_user(request), reason=reason
            ),
            done=lambda opt_out, _result: (
                _("%(member)s's opt-out of %(year)s was taken back; they were told why.")
                % {"member": opt_out.member, "year": opt_out.program_year.year},
                reverse("admin:contributions_optout_changelist"),
            ),
            template="admin/contributions/optout/take_back.html",
            context=lambda opt_out: {"title": title(opt_out), "opt_out": opt_out},
        )
