"""The year-end review's records: outcomes and runs, read only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from contributions.models import (
    ReviewOutcome,
    ReviewRun,
)
from mahome.admin_site import ReadOnlyAdminMixin


@admin.register(ReviewOutcome)
class ReviewOutcomeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # The year-end review's record: a deleted outcome would be silently recreated by the next run.
    list_display = ["member", "program_year", "outcome", "target_points", "verified_points", "reviewed_at"]
    list_filter = ["program_year", "outcome"]
    search_fields = ["member__email"]
    list_select_related = ["member", "program_year"]

    def changelist_view(self, request, extra_context=None):
        title = _("Review outcomes: written by the year-end review, kept as its record (read only)")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


@admin.register(ReviewRun)
class ReviewRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of each final year-end review: read-only, never deleted."""

    list_display = ["program_year", "ran_at", "run_by", "outcomes", "certificates", "notifications", "review_link"]
    list_select_related = ["program_year", "run_by"]
    fields = readonly_fields = (
        "program_year",
        "ran_at",
        "run_by",
        "outcomes",
        "certificates",
        "notifications",
        "counts",
    )

    @admin.display(description=_("Review page"))
    def review_link(self, obj: ReviewRun) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:contributions_programyear_review", args=[obj.program_year_id]),
            _("Open"),
        )
