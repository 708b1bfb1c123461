import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms import PasswordInput
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from accounts.requests import AuthenticatedRequest
from community_levels import services
from community_levels.forms import ActivityImportForm
from community_levels.models import (
    ActivityEvent,
    BossApplication,
    BossProgramWindow,
    CommunityMember,
    CommunitySource,
    Level,
    LevelChange,
    LevelRequirement,
    RecomputeRun,
    ScoringWeight,
    SourceRun,
)
from community_levels.recompute import levels_preview
from community_levels.rules import LevelRule, Rules, load_rules
from mahome.errors import show_refusal


class LevelRequirementInline(admin.TabularInline):
    model = LevelRequirement
    extra = 0


class RulesChangeAdmin(SimpleHistoryAdmin):
    """Levels and weights: every save is kept in history and triggers a full recompute."""

    def save_model(self, request, obj, form, change) -> None:
        services.ladder_rule_save(rule=obj, changed_by=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        """A level's requirements: saved through the service too; the level's save queued the recompute."""
        for rule in formset.save(commit=False):
            services.ladder_rule_save(rule=rule, changed_by=request.user, recompute=False)
        for rule in formset.deleted_objects:
            services.ladder_rule_delete(rule=rule, changed_by=request.user, recompute=False)

    def delete_model(self, request, obj) -> None:
        services.ladder_rule_delete(rule=obj, changed_by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        rules = list(queryset)
        for rule in rules:
            services.ladder_rule_delete(rule=rule, changed_by=request.user, recompute=False)
        if rules:
            services.rules_changed(
                changed_by=request.user, what=_("deleted %(obj)s") % {"obj": ", ".join(map(str, rules))}
            )


@admin.register(Level)
class LevelAdmin(RulesChangeAdmin):
    list_display = ["rank", "name", "tier", "min_score", "boss_program_eligible"]
    list_display_links = ["name"]
    list_filter = ["tier"]
    inlines = [LevelRequirementInline]
    change_list_template = "admin/community_levels/level/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "can_edit_rules": self.has_change_permission(request)}
        return super().changelist_view(request, extra)

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="community_levels_level_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request: AuthenticatedRequest) -> HttpResponse:
        """Edit thresholds and weights, see how many members land on each level, then save."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        current = load_rules()
        levels = list(Level.objects.prefetch_related("requirements").order_by("rank"))
        weights = list(ScoringWeight.objects.order_by("metric"))
        errors: list[str] = []
        edited_levels, edited_requirements, edited_weights = {}, {}, {}
        if request.method == "POST":
            edited_levels, edited_requirements, edited_weights, errors = _read_rules_form(request, levels, weights)
        proposed = _rules_with(current, levels, edited_levels, edited_requirements, edited_weights)
        if request.method == "POST" and not errors and request.POST.get("action") == "save":
            changed = services.rules_save(
                changed_by=request.user,
                level_scores=edited_levels,
                requirement_minimums=edited_requirements,
                weights=edited_weights,
            )
            messages.success(
                request,
                _("%(n)d rules saved; a full recompute is running.") % {"n": changed}
                if changed
                else _("Nothing changed."),
            )
            return HttpResponseRedirect(reverse("admin:community_levels_level_changelist"))
        now_counts = levels_preview(rules=current)
        new_counts = levels_preview(rules=proposed) if request.method == "POST" and not errors else now_counts
        rows = []
        for level in levels:
            rows.append(
                {
                    "level": level,
                    "min_score": edited_levels.get(level.pk, level.min_score),
                    "requirements": [(r, edited_requirements.get(r.pk, r.minimum)) for r in level.requirements.all()],
                    "now": now_counts.get(level.pk, 0),
                    "new": new_counts.get(level.pk, 0),
                    "delta": new_counts.get(level.pk, 0) - now_counts.get(level.pk, 0),
                }
            )
        weight_rows = [{"weight": w, "value": edited_weights.get(w.pk, (w.weight, w.daily_cap))} for w in weights]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview level rules"),
            "opts": self.model._meta,
            "rows": rows,
            "weight_rows": weight_rows,
            "errors": errors,
            "previewed": request.method == "POST" and not errors,
        }
        return render(request, "admin/community_levels/level/preview.html", context)


def _read_rules_form(request, levels, weights):
    errors: list[str] = []
    edited_levels, edited_requirements, edited_weights = {}, {}, {}

    def number(name: str, label: str, *, integer: bool = False, optional: bool = False):
        raw = request.POST.get(name, "").strip()
        if optional and raw == "":
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            errors.append(_("%(label)s: enter a number.") % {"label": label})
            return None
        if value < 0 or (integer and value != value.to_integral_value()):
            errors.append(
                _("%(label)s: enter a positive whole number.") % {"label": label}
                if integer
                else _("%(label)s: must not be negative.") % {"label": label}
            )
            return None
        return int(value) if integer else value

    for level in levels:
        value = number(f"level-{level.pk}", level.name)
        if value is not None:
            edited_levels[level.pk] = value
        for requirement in level.requirements.all():
            value = number(f"req-{requirement.pk}", str(requirement), integer=True)
            if value is not None:
                edited_requirements[requirement.pk] = value
    for weight in weights:
        value = number(f"weight-{weight.pk}", weight.get_metric_display())
        cap = number(
            f"cap-{weight.pk}",
            _("%(metric)s daily cap") % {"metric": weight.get_metric_display()},
            integer=True,
            optional=True,
        )
        if value is not None:
            edited_weights[weight.pk] = (value, cap)
    return edited_levels, edited_requirements, edited_weights, errors


def _rules_with(current: Rules, levels, edited_levels, edited_requirements, edited_weights) -> Rules:
    weights = dict(current.weights)
    caps = dict(current.caps)
    for weight in ScoringWeight.objects.filter(pk__in=list(edited_weights)):
        weights[weight.metric], caps[weight.metric] = edited_weights[weight.pk]
    rules_levels = tuple(
        LevelRule(
            id=level.pk,
            name=level.name,
            tier=level.tier,
            rank=level.rank,
            min_score=edited_levels.get(level.pk, level.min_score),
            requirements=tuple((r.metric, edited_requirements.get(r.pk, r.minimum)) for r in level.requirements.all()),
            boss_program_eligible=level.boss_program_eligible,
        )
        for level in levels
    )
    return Rules(weights=weights, caps=caps, levels=rules_levels)


@admin.register(ScoringWeight)
class ScoringWeightAdmin(RulesChangeAdmin):
    list_display = ["metric", "weight", "daily_cap"]


@admin.action(description=gettext_lazy("Exclude their events from the score"), permissions=["change"])
def exclude_members(modeladmin, request, queryset) -> None:
    for member in queryset:
        services.member_set_excluded(member=member, excluded=True)
    messages.success(request, _("%(n)d members excluded; their levels are being recomputed.") % {"n": queryset.count()})


@admin.action(description=gettext_lazy("Count their events again"), permissions=["change"])
def include_members(modeladmin, request, queryset) -> None:
    for member in queryset:
        services.member_set_excluded(member=member, excluded=False)
    messages.success(request, _("%(n)d members included again.") % {"n": queryset.count()})


@admin.register(CommunityMember)
class CommunityMemberAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "external_id", "email", "user", "level", "passive_score", "active_score", "is_excluded"]
    list_filter = ["level", "is_excluded"]
    search_fields = ["external_id", "username", "email", "user__email"]
    list_select_related = ["level", "user"]
    raw_id_fields = ["user"]
    actions = [exclude_members, include_members]
    readonly_fields = [
        "level",
        "level_changed_at",
        "passive_score",
        "active_score",
        "is_excluded",
        *(f.name for f in CommunityMember._meta.fields if f.name.startswith("m_")),
    ]
    exclude = ["needs_recompute", "recomputing", "computed_level"]


def _import_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "community-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@admin.register(ActivityEvent)
class ActivityEventAdmin(admin.ModelAdmin):
    list_display = [
        "event_id",
        "source",
        "member",
        "kind",
        "occurred_at",
        "quantity",
        "minutes",
        "is_self_like",
        "revoked_at",
    ]
    list_filter = ["kind", "source", "is_self_like", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "member__external_id", "member__email"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    change_list_template = "admin/community_levels/activityevent/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_import_permission(self, request) -> bool:
        """Importing writes events that change members' scores: program admins, not verifiers."""
        return request.user.is_staff and request.user.has_perm("community_levels.add_activityevent")

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="community_levels_activityevent_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a file, see its counts and bad lines (nothing written), then confirm the import."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import community activity"),
            "opts": self.model._meta,
        }
        form = ActivityImportForm()
        if request.method == "POST" and request.POST.get("token"):
            token = request.POST["token"]
            matches = list(_import_dir().glob(f"{uuid.UUID(token)}.*")) if _is_uuid(token) else []
            if not matches:
                messages.error(request, _("That upload has expired; choose the file again."))
                return HttpResponseRedirect(reverse("admin:community_levels_activityevent_import"))
            result = services.activity_ingest_file(path=matches[0])
            matches[0].unlink(missing_ok=True)
            context.update({"result": result, "done": True})
            return render(request, "admin/community_levels/activityevent/import.html", context)
        if request.method == "POST":
            form = ActivityImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                suffix = Path(upload.name).suffix.lower()
                if suffix not in (".jsonl", ".ndjson", ".json", ".csv"):
                    form.add_error("file", _("Upload a .jsonl or .csv file."))
                else:
                    token = str(uuid.uuid4())
                    target = _import_dir() / f"{token}{suffix}"
                    with target.open("wb") as handle:
                        for chunk in upload.chunks():
                            handle.write(chunk)
                    preview, good = services.activity_preview_file(path=target)
                    context.update({"preview": preview, "good": good, "token": token, "filename": upload.name})
        context["form"] = form
        return render(request, "admin/community_levels/activityevent/import.html", context)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@admin.action(description=gettext_lazy("Pull new activity now"), permissions=["change"])
def sync_sources(modeladmin, request, queryset) -> None:
    sources = list(queryset)
    for source in sources:
        services.source_sync_enqueue(source_id=source.pk, started_by=request.user)
    messages.info(
        request,
        _("Pull queued for %(names)s; each run appears under Source runs.")
        % {"names": ", ".join(str(source) for source in sources)},
    )


@admin.action(
    description=gettext_lazy("Reset the cursor (read the forum again from the start)…"), permissions=["change"]
)
def reset_cursors(modeladmin, request, queryset):
    sources = list(queryset)
    if request.POST.get("confirm") == "yes":
        for source in sources:
            services.source_cursor_reset(source=source, reset_by=request.user)
        messages.success(
            request,
            _("Cursor reset for %(names)s. The next runs read everything again; nothing is counted twice.")
            % {"names": ", ".join(str(source) for source in sources)},
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Reset the cursor of %(count)d source(s)?") % {"count": len(sources)},
        "sources": sources,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return render(request, "admin/community_levels/communitysource/reset_cursor.html", context)


@admin.register(CommunitySource)
class CommunitySourceAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "kind",
        "base_url",
        "enabled",
        "last_run_at",
        "last_run_ok",
        "last_run_items",
        "last_run_imported",
        "last_run_errors",
        "watermark",
    ]
    actions = [sync_sources, reset_cursors]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "api_key":
            kwargs["widget"] = PasswordInput(render_value=True)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    readonly_fields = [
        "watermark",
        "last_run_at",
        "last_run_ok",
        "last_run_items",
        "last_run_imported",
        "last_run_errors",
        "last_error",
        "cursor",
        "recent_runs",
    ]

    @admin.display(description=gettext_lazy("Recent runs"))
    def recent_runs(self, obj: CommunitySource) -> str:
        """The last runs (a killed run shows as running until the next one marks it interrupted)."""
        if obj.pk is None:
            return "—"
        runs = SourceRun.objects.filter(source=obj).order_by("-started_at", "-pk")[:10]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    localize(timezone.localtime(run.started_at)),
                    run.get_state_display(),
                    _("yes") if run.caught_up else _("no"),
                    run.requests,
                    run.fetched,
                    run.imported,
                    run.message or "—",
                )
                for run in runs
            ),
        )
        link = reverse("admin:community_levels_sourcerun_changelist") + f"?source__id__exact={obj.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            '</thead><tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            _("Started"),
            _("State"),
            _("Caught up"),
            _("Requests"),
            _("Events read"),
            _("New events"),
            _("Message"),
            rows,
            link,
            _("All runs of this source"),
        )


@admin.register(SourceRun)
class SourceRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "started_at",
        "finished_at",
        "state",
        "caught_up",
        "requests",
        "fetched",
        "imported",
        "revoked",
    ]
    list_filter = ["state", "source"]
    list_select_related = ["source", "started_by"]
    readonly_fields = [field.name for field in SourceRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
    messages.success(request, _("%(n)d applications decided.") % {"n": decided})


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


@admin.register(LevelChange)
class LevelChangeAdmin(admin.ModelAdmin):
    list_display = ["member", "from_level", "to_level", "changed_at", "reason"]
    list_filter = ["to_level"]
    list_select_related = ["member", "from_level", "to_level"]
    search_fields = ["member__username", "member__email"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "finished_at",
        "full",
        "is_rule_change",
        "members",
        "changed",
        "raised",
        "lowered",
        "reason",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
