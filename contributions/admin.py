from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from contributions.models import ActivityType, Contribution, ProgramYear


@admin.register(ProgramYear)
class ProgramYearAdmin(SimpleHistoryAdmin):
    list_display = ["year", "target_points", "prorating_method", "opens_on", "deadline", "published_at"]


@admin.register(ActivityType)
class ActivityTypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "program_year", "category", "points", "unit", "annual_cap", "tracking", "is_active"]
    list_filter = ["program_year", "category", "tracking", "is_active"]
    search_fields = ["name", "code"]


@admin.register(Contribution)
class ContributionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "member", "activity_type", "state", "claimed_points", "awarded_points", "submitted_at"]
    list_filter = ["state", "program_year", "source"]
    search_fields = ["title", "member__email"]
    list_select_related = ["member", "activity_type", "activity_type__program_year"]
    raw_id_fields = ["member", "decided_by"]
