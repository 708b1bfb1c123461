"""The scoring rules as plain values, and the two places they are applied.

`score_sql` / `level_case_sql` turn the rules into SQL for the set-based recompute and the
admin preview; `place` applies the very same rules in Python to one member's metrics (for
"what I need for the next level", the demo data and the tests that check the SQL).
"""

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from community_levels.metrics import ACTIVE, METRIC_BY_CODE, METRICS, PASSIVE, SUGGESTED


@dataclass(frozen=True)
class LevelRule:
    id: int
    name: str
    tier: str
    rank: int
    min_score: Decimal
    requirements: tuple[tuple[str, int], ...] = ()
    boss_program_eligible: bool = False


@dataclass(frozen=True)
class Rules:
    weights: dict[str, Decimal]
    caps: dict[str, int | None]
    levels: tuple[LevelRule, ...] = field(default_factory=tuple)

    def tier_levels(self, tier: str) -> list[LevelRule]:
        return [level for level in self.levels if level.tier == tier]

    @property
    def lowest(self) -> LevelRule | None:
        passive = self.tier_levels(PASSIVE)
        return passive[0] if passive else (self.levels[0] if self.levels else None)


def load_rules() -> Rules:
    """The rules in force: two queries whatever the size of the ladder (the levels with their
    requirements come in one, through a LEFT JOIN: a level without requirements has one row of NULLs)."""
    from community_levels.models import Level, ScoringWeight

    weights: dict[str, Decimal] = {metric.code: Decimal(0) for metric in METRICS}
    caps: dict[str, int | None] = {metric.code: None for metric in METRICS}
    for metric, weight, daily_cap in ScoringWeight.objects.order_by().values_list("metric", "weight", "daily_cap"):
        weights[metric] = weight
        caps[metric] = daily_cap
    ladder: dict[int, dict] = {}
    rows = Level.objects.order_by("rank", "requirements__metric").values_list(
        "pk",
        "name",
        "tier",
        "rank",
        "min_score",
        "boss_program_eligible",
        "requirements__metric",
        "requirements__minimum",
    )
    for pk, name, tier, rank, min_score, boss_program_eligible, metric, minimum in rows:
        level = ladder.setdefault(
            pk,
            {
                "id": pk,
                "name": name,
                "tier": tier,
                "rank": rank,
                "min_score": min_score,
                "boss_program_eligible": boss_program_eligible,
                "requirements": [],
            },
        )
        if metric is not None:
            level["requirements"].append((metric, minimum))
    levels = tuple(LevelRule(**{**level, "requirements": tuple(level["requirements"])}) for level in ladder.values())
    return Rules(weights=weights, caps=caps, levels=levels)


# --- Python -----------------------------------------------------------------------------------


def has_contribution(metrics: dict[str, int]) -> bool:
    return any(metrics.get(metric.code, 0) > 0 for metric in METRICS if metric.is_contribution)


def scores(metrics: dict[str, int], rules: Rules) -> tuple[Decimal, Decimal]:
    passive = sum((rules.weights[m.code] * metrics.get(m.code, 0) for m in METRICS if m.tier == PASSIVE), Decimal(0))
    active = sum((rules.weights[m.code] * metrics.get(m.code, 0) for m in METRICS if m.tier == ACTIVE), Decimal(0))
    return passive, active


def meets(level: LevelRule, metrics: dict[str, int], score: Decimal) -> bool:
    return score >= level.min_score and all(metrics.get(code, 0) >= minimum for code, minimum in level.requirements)


def place(metrics: dict[str, int], rules: Rules) -> LevelRule | None:
    """The highest level of the member's tier whose criteria are met."""
    passive, active = scores(metrics, rules)
    tier, score = (ACTIVE, active) if has_contribution(metrics) else (PASSIVE, passive)
    for level in sorted(rules.tier_levels(tier), key=lambda lvl: lvl.rank, reverse=True):
        if meets(level, metrics, score):
            return level
    return rules.lowest


def _join_or(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return _("%(first)s or %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


def shortfall(metrics: dict[str, int], rules: Rules, current: LevelRule | None) -> tuple[LevelRule | None, str]:
    """The next level and, in plain words, exactly what the member still needs to reach it."""
    tier = current.tier if current else PASSIVE
    ladder = rules.tier_levels(tier)
    higher = [level for level in ladder if current is None or level.rank > current.rank]
    if not higher:
        if tier == PASSIVE:
            active = rules.tier_levels(ACTIVE)
            return (
                active[0] if active else None,
                _("Your first post, reply, article, comment or idea moves you to the Active tier."),
            )
        return None, _("You are at the top of the ladder.")
    target = higher[0]
    passive_score, active_score = scores(metrics, rules)
    score = active_score if tier == ACTIVE else passive_score
    parts: list[str] = []
    remaining = target.min_score - score
    for code, minimum in target.requirements:
        missing = minimum - metrics.get(code, 0)
        if missing > 0:
            parts.append(
                _("%(more)s (%(level)s asks for at least %(minimum)d)")
                % {"more": METRIC_BY_CODE[code].more(missing), "level": target.name, "minimum": minimum}
            )
            remaining -= missing * rules.weights[code]
    options = []
    if remaining > 0:
        for code in SUGGESTED[tier]:
            weight = rules.weights.get(code) or Decimal(0)
            if weight > 0:
                options.append(METRIC_BY_CODE[code].more(math.ceil(remaining / weight)))
        if not options:
            options.append(_("%(points)s more points") % {"points": remaining})
    sentence_parts = [*parts]
    if options:
        text = _join_or(options)
        sentence_parts.append(_("then %(options)s") % {"options": text} if parts else text)
    return target, _("%(what)s to reach %(level)s.") % {"what": ", ".join(sentence_parts), "level": target.name}


def criteria_text(level: LevelRule) -> str:
    score_name = _("Active score") if level.tier == ACTIVE else _("Passive score")
    parts = [_("%(score)s of at least %(minimum)s") % {"score": score_name, "minimum": _number(level.min_score)}]
    for code, minimum in level.requirements:
        parts.append(
            _("at least %(minimum)d %(metric)s")
            % {"minimum": minimum, "metric": str(METRIC_BY_CODE[code].label).lower()}
        )
    if level.tier == ACTIVE:
        parts.append(_("at least one contribution"))
    else:
        parts.append(_("no contribution yet"))
    return ", ".join(parts)


def _number(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


# --- SQL ---------------------------------------------------------------------------------------


def score_sql(tier: str, rules: Rules, prefix: str = "") -> tuple[str, list]:
    """`w1 * m_a + w2 * m_b ...` for the tier's metrics, weights as parameters.

    Weights have two decimals (their column's): counted in whole hundredths the sum is integer arithmetic
    (bigint), divided by 100 once, the very value the sum of NUMERIC products gives for a third of its CPU
    (0.17 s -> 0.05 s over 103,002 members). A weight with more decimals, which no stored weight has,
    keeps the NUMERIC products.
    """
    weighted = [(metric.column, rules.weights[metric.code]) for metric in METRICS if metric.tier == tier]
    if not weighted:
        return "0", []
    if all((weight * 100) % 1 == 0 for _column, weight in weighted):
        terms = " + ".join(f"CAST(%s AS BIGINT) * {prefix}{column}" for column, _weight in weighted)
        return f"({terms}) / 100.0", [int(weight * 100) for _column, weight in weighted]
    terms = " + ".join(f"CAST(%s AS NUMERIC) * {prefix}{column}" for column, _weight in weighted)
    return terms, [str(weight) for _column, weight in weighted]


def contribution_sql(prefix: str = "") -> str:
    return "(" + " + ".join(f"{prefix}{m.column}" for m in METRICS if m.is_contribution) + ") > 0"


def level_case_sql(
    rules: Rules, passive: tuple[str, list], active: tuple[str, list], prefix: str = ""
) -> tuple[str, list]:
    """CASE picking the highest level whose criteria hold; scores given as (SQL, params)."""
    lowest = rules.lowest
    if lowest is None:  # no levels at all
        return "NULL", []
    whens, params = [], []
    contributed = contribution_sql(prefix)
    for level in sorted(rules.levels, key=lambda lvl: lvl.rank, reverse=True):
        score_sql_text, score_params = active if level.tier == ACTIVE else passive
        condition = [contributed if level.tier == ACTIVE else f"NOT {contributed}"]
        condition.append(f"({score_sql_text}) >= CAST(%s AS NUMERIC)")
        params.extend(score_params)
        params.append(str(level.min_score))
        for code, minimum in level.requirements:
            condition.append(f"{prefix}{METRIC_BY_CODE[code].column} >= %s")
            params.append(minimum)
        whens.append(f"WHEN {' AND '.join(condition)} THEN %s")
        params.append(level.id)
    params.append(lowest.id)
    return "CASE " + " ".join(whens) + " ELSE %s END", params
