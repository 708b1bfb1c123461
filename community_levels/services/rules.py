"""The ladder's rules: levels, their requirements and the scoring weights, with history and a recompute."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from community_levels.models import (
    Level,
    LevelRequirement,
    ScoringWeight,
)
from community_levels.services.common import enqueue_recompute


def rules_changed(*, changed_by: User | None, what: str) -> None:
    """A ladder or weight changed: everyone is recomputed, and lowered levels say why."""
    who = changed_by.email if changed_by else _("an admin")
    enqueue_recompute(
        full=True,
        reason=_("Level rules changed by %(who)s (%(what)s)") % {"who": who, "what": what},
        is_rule_change=True,
    )


LadderRule = Level | LevelRequirement | ScoringWeight


@transaction.atomic
def ladder_rule_save(*, rule: LadderRule, changed_by: User | None, recompute: bool = True) -> LadderRule:
    """Save one level, level requirement or weight (history records who) and recompute everyone.

    `recompute=False` when the same change already queued the recompute (a level's inline rows
    are saved right after the level itself, in the same transaction).
    """
    rule._history_user = changed_by
    rule.full_clean()
    rule.save()
    if recompute:
        rules_changed(changed_by=changed_by, what=str(rule))
    return rule


@transaction.atomic
def ladder_rule_delete(*, rule: LadderRule, changed_by: User | None, recompute: bool = True) -> None:
    """Delete a level, level requirement or weight (the history keeps it, with who) and recompute."""
    what = _("deleted %(obj)s") % {"obj": rule}
    rule._history_user = changed_by
    rule.delete()
    if recompute:
        rules_changed(changed_by=changed_by, what=what)


@transaction.atomic
def rules_save(
    *,
    changed_by: User | None,
    level_scores: dict[int, Decimal] | None = None,
    requirement_minimums: dict[int, int] | None = None,
    weights: dict[int, tuple[Decimal, int | None]] | None = None,
) -> int:
    """Save edited thresholds and weights (with history) and trigger a full recompute."""
    level_scores, requirement_minimums, weights = level_scores or {}, requirement_minimums or {}, weights or {}
    changed = 0
    for level in Level.objects.filter(pk__in=list(level_scores)):
        new_score = level_scores[level.pk]
        if level.min_score != new_score:
            level.min_score = new_score
            level._history_user = changed_by
            level.full_clean()
            level.save()
            changed += 1
    for requirement in LevelRequirement.objects.filter(pk__in=list(requirement_minimums)):
        new_minimum = requirement_minimums[requirement.pk]
        if requirement.minimum != new_minimum:
            requirement.minimum = new_minimum
            requirement._history_user = changed_by
            requirement.full_clean()
            requirement.save()
            changed += 1
    for weight in ScoringWeight.objects.filter(pk__in=list(weights)):
        new_weight, new_cap = weights[weight.pk]
        if weight.weight != new_weight or weight.daily_cap != new_cap:
            weight.weight, weight.daily_cap = new_weight, new_cap
            weight._history_user = changed_by
            weight.full_clean()
            weight.save()
            changed += 1
    if changed:
        what = ngettext("%(n)d threshold or weight", "%(n)d thresholds or weights", changed) % {"n": changed}
        rules_changed(changed_by=changed_by, what=what)
    return changed
