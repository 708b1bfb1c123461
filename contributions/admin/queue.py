"""The verification queue: contributions, filtered by state, year and member, with the decision actions."""

from django.contrib import admin
from django.db.models import Case, Q, QuerySet, When
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts.exports import EXPORT_FORMATS
from accounts.requests import AuthenticatedRequest
from contributions import admin_views, selectors, services
from contributions.models import (
    ActivityType,
    Contribution,
    ProgramYear,
)
from contributions.resources import (
    ContributionExportResource,
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
    """The types of one program year: the one chosen in "By program year", else the current one. Every
    type of every year made a list of ~70 (each year repeats the catalogue) taller than the queue."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.program_year: ProgramYear | None = None
        super().__init__(field, request, params, model, model_admin, field_path)
        if self.program_year:
            self.title = _("activity type (%(year)s)") % {"year": self.program_year.year}

    def field_choices(self, field, request, model_admin):
        chosen = request.GET.get("program_year__id__exact", "")
        self.program_year = (
            ProgramYear.objects.filter(pk=chosen).first() if chosen.isascii() and chosen.isdigit() else None
        ) or selectors.program_year_current()
        if self.program_year is None:  # no year yet: nothing to narrow to
            types = ActivityType.objects.select_related("program_year").order_by("-program_year__year", "name")
            return [(t.pk, str(t)) for t in types]
        selected = [v for v in self.lookup_val or [] if v.isascii() and v.isdigit()]
        in_year = Q(program_year=self.program_year)
        types = (
            ActivityType.objects.filter(in_year | Q(pk__in=selected))
            .select_related("program_year")
            .order_by(Case(When(in_year, then=0), default=1), "-program_year__year", "name")
        )
        # A type of another year, chosen through a link, stays listed (with its year) so the choice shows.
        return [(t.pk, t.name if t.program_year_id == self.program_year.pk else str(t)) for t in types]


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

    change_list_template = "contributions/admin/queue_change_list.html"  # the note under the title
    list_display = ["title", "decide_link", "member", "type_name", "claimed", "evidence", "waiting"]
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
    # A requirement report earns no points (`Contribution.is_requirement_report`): its form names the
    # requirement it reports in their place.
    POINTS_FIELDS = ("claimed_points", "awarded_points")

    def get_fields(self, request: HttpRequest, obj: Contribution | None = None):
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Contribution | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None or not obj.is_requirement_report:
            return fields
        fields = [name for name in fields if name not in self.POINTS_FIELDS]
        fields.insert(fields.index("activity_type") + 1, "requirement")
        return fields

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
        # Not Django's `subtitle`, which base_site.html puts before the title in the browser's <title>.
        note = _("Decisions are corrected or reopened with a reason, never deleted.")
        return super().changelist_view(request, {"title": title, "queue_note": note, **(extra_context or {})})

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

    @admin.display(description=_("Claimed points"), ordering="claimed_points")
    def claimed(self, obj: Contribution) -> int | str:
        # A requirement report earns none; the type column beside says it is one.
        return "—" if obj.is_requirement_report else obj.claimed_points

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

    # The same decision as the decide page's: a selected requirement report is verified too (its requirement
    # recorded as met; a late one is skipped, as it needs a program admin's reason), with no points.
    @admin.action(
        description=_("Verify: claims at the claimed points, requirement reports as met"), permissions=["change"]
    )
    def verify_at_claimed(self, request: AuthenticatedRequest, queryset: QuerySet[Contribution]) -> None:
        result = services.contributions_decide_bulk(
            contribution_ids=list(queryset.values_list("pk", flat=True)),
            staff=request.user,
            decision=services.Decision.VERIFY,
        )
        admin_views.bulk_result_messages(
            self, request, result, verb=_("verified at the claimed points"), reports_met=True
        )

    @admin.action(description=_("Ask for more information…"), permissions=["change"])
    def ask_for_information(self, request, queryset):
        return admin_views.bulk_decision_with_message(self, request, queryset, decision=services.Decision.NEEDS_INFO)

    @admin.action(description=_("Reject…"), permissions=["change"])
    def reject(self, request, queryset):
        return admin_views.bulk_decision_with_message(self, request, queryset, decision=services.Decision.REJECT)

    @admin.action(description=_("Reopen decided items (back to the queue)…"), permissions=["change"])
    def reopen(self, request, queryset):
        return admin_views.bulk_decision_with_message(self, request, queryset, decision=services.Decision.REOPEN)
