"""The level rules (levels, requirements, scoring weights) with their preview, and the record of
level changes and recomputes."""

from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from accounts.requests import AuthenticatedRequest
from community_levels import services
from community_levels.models import (
    Level,
    LevelChange,
    LevelRequirement,
    RecomputeRun,
    ScoringWeight,
)
from community_levels.recompute import levels_preview
from community_levels.rules import LevelRule, Rules, load_rules
from mahome.admin_site import ReadOnlyAdminMixin


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
                ngettext(
                    "%(n)d rule saved; a full recompute is running.",
                    "%(n)d rules saved; a full recompute is running.",
                    changed,
                )
                % {"n": changed}
                if changed
                else _("Nothing changed."),
            )
            return HttpResponseRedirect(reverse("admin:community_levels_level_changelist"))
        now_counts = levels_preview(rules=current)
        new_counts = levels_preview(rules=proposed) if request.method == "POST" and not errors else now_counts
        rows = level_preview_rows(
            [(level, list(level.requirements.all())) for level in levels],
            edited_levels=edited_levels,
            edited_requirements=edited_requirements,
            now_counts=now_counts,
            new_counts=new_counts,
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


def level_preview_rows(
    levels: list[tuple[Level, list[LevelRequirement]]],
    *,
    edited_levels: dict[int, int],
    edited_requirements: dict[int, int],
    now_counts: dict[int, int],
    new_counts: dict[int, int],
) -> list[dict]:
    """One row per level for the preview: the threshold and minimums as edited (else as saved), and
    how many members are on the level now, would be with the edits, and the difference."""
    return [
        {
            "level": level,
            "min_score": edited_levels.get(level.pk, level.min_score),
            "requirements": [(r, edited_requirements.get(r.pk, r.minimum)) for r in requirements],
            "now": now_counts.get(level.pk, 0),
            "new": new_counts.get(level.pk, 0),
            "delta": new_counts.get(level.pk, 0) - now_counts.get(level.pk, 0),
        }
        for level, requirements in levels
    ]


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


@admin.register(LevelChange)
class LevelChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each member's level history, as the recompute wrote it and the member was told: read only."""

    list_display = ["member", "from_level", "to_level", "changed_at", "reason"]
    list_filter = ["to_level"]
    list_select_related = ["member", "from_level", "to_level"]
    search_fields = ["member__username", "member__email"]


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of every recompute (what changed and why): read only."""

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
