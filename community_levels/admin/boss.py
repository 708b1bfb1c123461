"""The BOSS programme: its windows and the applications staff decide."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

from community_levels import services
from community_levels.models import (
    BossApplication,
    BossProgramWindow,
)
from mahome.errors import show_refusal


@admin.register(BossProgramWindow)
class BossProgramWindowAdmin(SimpleHistoryAdmin):
    list_display = ["name", "opens_on", "closes_on"]


@admin.action(description=gettext_lazy("Accept the selected applications"), permissions=["change"])
def accept_applications(modeladmin, request, queryset) -> None:
    _decide(request, queryset, accept=True)


@admin.action(description=gettext_lazy("Decline the selected applications"), permissions=["change"])
def decline_applications(modeladmin, request, queryset) -> None:
    _decide(request, queryset, accept=False)


def _decide(request, queryset, *, accept: bool) -> None:
    decided = 0
    for application in queryset:
        try:
            services.boss_application_decide(
                application=application, decided_by=request.user, accept=accept, note=application.decision_note
            )
            decided += 1
        except services.CommunityError as error:
            show_refusal(request, error, prefix=str(application), level=messages.WARNING)
    messages.success(
        request,
        ngettext("%(n)d application decided.", "%(n)d applications decided.", decided) % {"n": decided},
    )


@admin.register(BossApplication)
class BossApplicationAdmin(SimpleHistoryAdmin):
    list_display = ["member", "window", "level_at_application", "state", "created_at", "decided_by"]
    list_filter = ["state", "window"]
    list_select_related = ["member", "window", "level_at_application", "decided_by"]
    search_fields = ["member__username", "member__email"]
    readonly_fields = [
        "member",
        "window",
        "level_at_application",
        "statement",
        "state",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    actions = [accept_applications, decline_applications]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a member's application: accepted or declined (with who and when), never deleted
